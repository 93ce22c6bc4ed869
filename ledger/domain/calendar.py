"""Chinese statutory working days (法定工作日): holidays and the weekend days worked in lieu (调休).

The schedule the State Council publishes each year comes from the maintained `chinese_calendar`
package. A year it does not know is an explicit CalendarError, never a guess; a newly published
year can be added from a JSON file (LEDGER_CALENDAR_FILE) of the form
``{"2027": {"holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}}``, where
`holidays` are the weekdays off and `workdays` the weekend days worked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

from ledger.domain.errors import CalendarError


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

    @classmethod
    def from_file(cls, path: str | Path | None) -> WorkingDayCalendar:
        """The package's calendar, extended by the years in a JSON file (if a path is given)."""
        if not path:
            return cls()
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls({int(year): _parse_year(int(year), spec) for year, spec in raw.items()})

    def known_years(self) -> range | list[int]:
        lo, hi = _package_years()
        return sorted(set(range(lo, hi + 1)) | set(self._extra))

    def is_workday(self, day: date, field: str = "date") -> bool:
        """True when `day` is a statutory working day; CalendarError for an unknown year."""
        if day.year in self._extra:
            return self._extra[day.year].is_workday(day)
        lo, hi = _package_years()
        if not lo <= day.year <= hi:
            raise CalendarError(day.year, field)
        return bool(chinese_calendar.is_workday(day))

    def working_days_between(self, start: date, end: date, field: str = "date") -> int:
        """How many working days lie in [start, end], both ends included (0 if end < start)."""
        count, day = 0, start
        while day <= end:
            count += self.is_workday(day, field)
            day += timedelta(days=1)
        return count

    def add_working_days(self, start: date, n: int, field: str = "date") -> date:
        """The date on which a period of `n` working days that begins on `start` ends."""
        day, seen = start, 0
        while True:
            if self.is_workday(day, field):
                seen += 1
                if seen == n:
                    return day
            day += timedelta(days=1)


def _package_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def _parse_year(year: int, spec: Mapping[str, list[str]]) -> YearSchedule:
    def dates(key: str) -> frozenset[date]:
        days = frozenset(date.fromisoformat(s) for s in spec.get(key, []))
        stray = [d for d in days if d.year != year]
        if stray:
            raise ValueError(f"calendar year {year}: {key} has dates of another year: {stray}")
        return days

    return YearSchedule(holidays=dates("holidays"), workdays=dates("workdays"))
