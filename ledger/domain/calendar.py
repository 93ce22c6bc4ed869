"""Chinese statutory working days (法定工作日): holidays and the weekend days worked in lieu (调休).

The schedule the State Council publishes each year comes from the maintained `chinese_calendar`
package. A year it does not know is an explicit CalendarError, never a guess; a newly published
year can be added from a JSON file (LEDGER_CALENDAR_FILE) of the form
``{"2027": {"holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}}``, where
`holidays` are the weekdays off and `workdays` the weekend days worked. A file that does not
follow this form is refused whole (ValidationError naming `calendar_file`), never half-read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar

from ledger.domain.errors import CalendarError, ValidationError


@dataclass(frozen=True)
class YearSchedule:
    """One year's official exceptions to the Monday-to-Friday week."""

    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


class WorkingDayCalendar:
    """Answers working-day questions from chinese_calendar plus configured extra years."""

    def __init__(self, extra_years: Mapping[int, YearSchedule] | None = None) -> None:
        self._extra = dict(extra_years or {})
        # the answer for each day asked about: a calendar never changes once made, and a
        # history asks about the same few publicity weeks again and again
        self._known: dict[date, bool] = {}

    @classmethod
    def from_file(cls, path: str | Path | None) -> WorkingDayCalendar:
        """The package's calendar, extended by the years in a JSON file (if a path is given)."""
        if not path:
            return cls()
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValidationError("calendar_file", f"{path}: cannot be read as JSON ({error})")\
                from None
        if not isinstance(raw, dict):
            raise ValidationError("calendar_file", f"{path}: must be an object keyed by year")
        try:
            return cls({_year(key): _parse_year(_year(key), spec) for key, spec in raw.items()})
        except ValueError as error:
            raise ValidationError("calendar_file", f"{path}: {error}") from None

    def known_years(self) -> range | list[int]:
        lo, hi = _package_years()
        return sorted(set(range(lo, hi + 1)) | set(self._extra))

    def is_workday(self, day: date, field: str = "date") -> bool:
        """True when `day` is a statutory working day; CalendarError for an unknown year."""
        known = self._known.get(day)
        if known is not None:
            return known
        if day.year in self._extra:
            known = self._extra[day.year].is_workday(day)
        else:
            lo, hi = _package_years()
            if not lo <= day.year <= hi:
                raise CalendarError(day.year, field)
            known = bool(chinese_calendar.is_workday(day))
        self._known[day] = known
        return known

    def working_days_between(self, start: date, end: date, field: str = "date") -> int:
        """How many working days lie in [start, end], both ends included (0 if end < start)."""
        count, day = 0, start
        while day <= end:
            count += self.is_workday(day, field)
            day += timedelta(days=1)
        return count

    def add_working_days(self, start: date, n: int, field: str = "date") -> date:
        """The date on which a period of `n` (at least 1) working days that begins on `start`
        ends."""
        if n < 1:
            raise ValueError(f"a period of {n} working days has no end")
        day, seen = start, 0
        while True:
            if self.is_workday(day, field):
                seen += 1
                if seen == n:
                    return day
            day += timedelta(days=1)


@cache  # the package's schedule is fixed once imported
def _package_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def _year(key: str) -> int:
    if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
        raise ValueError(f"{key!r} is not a year such as \"2027\"")
    return int(key)


def _iso_date(where: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{where}: {text!r} is not an ISO date ({error})") from None


def _parse_year(year: int, spec: object) -> YearSchedule:
    if not isinstance(spec, dict) or set(spec) - {"holidays", "workdays"}:
        raise ValueError(f"{year} must be an object with the lists holidays and workdays only")

    def dates(key: str, weekend: bool) -> frozenset[date]:
        items = spec.get(key, [])
        if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
            raise ValueError(f"{year}.{key} must be a list of ISO dates")
        days = frozenset(_iso_date(f"{year}.{key}", s) for s in items)
        stray = sorted(str(d) for d in days if d.year != year)
        if stray:
            raise ValueError(f"{year}.{key} has dates of another year: {stray}")
        misplaced = sorted(str(d) for d in days if (d.weekday() >= 5) != weekend)
        if misplaced:
            kind = "weekend days worked" if weekend else "weekdays off"
            raise ValueError(f"{year}.{key} lists the {kind}; not {misplaced}")
        return days

    return YearSchedule(holidays=dates("holidays", False), workdays=dates("workdays", True))
