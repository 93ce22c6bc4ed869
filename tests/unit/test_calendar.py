"""Statutory working days (Art. 6(3) counts its 5-day publicity in them)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import chinese_calendar
import pytest

from ledger.domain.calendar import WorkingDayCalendar
from ledger.domain.errors import CalendarError, ValidationError


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


def test_five_working_days_from_eve_of_national_day_2026_end_on_october_12(calendar):
    """Art. 6(3): Oct 1-7 are off and Saturday Oct 10 is worked (调休), so the period that begins
    on Wednesday 30 September runs 30 Sep, 8, 9, 10 and 12 Oct."""
    start = date(2026, 9, 30)

    end = calendar.add_working_days(start, 5)

    assert end == date(2026, 10, 12)
    assert calendar.working_days_between(start, date(2026, 10, 12)) == 5


def test_publicity_across_national_day_to_october_9_counts_only_three_days(calendar):
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 3


def test_tiaoxiu_saturday_counts_as_a_working_day(calendar):
    saturday = date(2026, 10, 10)

    assert saturday.weekday() == 5
    assert calendar.is_workday(saturday) is True


def test_holiday_weekday_does_not_count(calendar):
    monday, mid_autumn_friday = date(2026, 10, 5), date(2026, 9, 25)

    assert monday.weekday() == 0 and mid_autumn_friday.weekday() == 4
    assert calendar.is_workday(monday) is False
    assert calendar.is_workday(mid_autumn_friday) is False


def test_ordinary_sunday_is_not_a_working_day(calendar):
    assert calendar.is_workday(date(2026, 10, 11)) is False


def test_unknown_year_is_an_explicit_error_naming_the_field(calendar):
    with pytest.raises(CalendarError) as caught:
        calendar.working_days_between(date(2027, 3, 1), date(2027, 3, 5), "ends_on")

    assert caught.value.field == "ends_on"
    assert caught.value.details == {"year": 2027}
    assert "2027" in caught.value.message and "LEDGER_CALENDAR_FILE" in caught.value.message


def test_unknown_year_stays_an_error_when_asked_again(calendar):
    for _ in range(2):  # an error is not remembered as an answer
        with pytest.raises(CalendarError):
            calendar.is_workday(date(2027, 3, 1))


def test_every_day_asked_twice_gives_the_package_s_answer_both_times(calendar):
    """The calendar remembers each day's answer; every day of every year the package knows,
    Art. 6(3)'s working days included, must still be the package's, first time and again."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    day, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    mismatches = []
    while day <= last:
        expected = chinese_calendar.is_workday(day)
        if (calendar.is_workday(day), calendar.is_workday(day)) != (expected, expected):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []
    assert calendar.working_days_between(date(2026, 9, 28), date(2026, 10, 12)) == 7


def test_calendar_file_adds_a_newly_published_year(tmp_path):
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps({"2027": {
        "holidays": ["2027-10-01", "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07"],
        "workdays": ["2027-09-26", "2027-10-09"]}}), encoding="utf-8")

    calendar = WorkingDayCalendar.from_file(path)

    assert calendar.is_workday(date(2027, 10, 9)) is True  # Saturday worked
    assert calendar.is_workday(date(2027, 10, 4)) is False  # Monday off
    assert calendar.is_workday(date(2027, 10, 8)) is True  # ordinary Friday
    assert calendar.add_working_days(date(2027, 9, 30), 5) == date(2027, 10, 12)
    assert calendar.is_workday(date(2026, 10, 10)) is True  # the package's years still answer


def test_calendar_without_file_is_the_package_calendar():
    assert WorkingDayCalendar.from_file(None).is_workday(date(2026, 10, 10)) is True


@pytest.mark.parametrize("content, says", [
    ("{not json", "cannot be read as JSON"),
    ('["2027-01-01"]', "must be an object keyed by year"),
    ('{"27": {"holidays": []}}', "is not a year"),
    ('{"2027": ["2027-01-01"]}', "holidays and workdays only"),
    ('{"2027": {"holidays": [], "extra": []}}', "holidays and workdays only"),
    ('{"2027": {"holidays": "2027-01-01"}}', "must be a list of ISO dates"),
    ('{"2027": {"holidays": ["2027-13-01"]}}', "2027-13-01"),
    ('{"2027": {"holidays": ["2028-01-03"]}}', "another year"),
    ('{"2027": {"holidays": ["2027-01-02"]}}', "weekdays off"),
    ('{"2027": {"workdays": ["2027-01-04"]}}', "weekend days worked"),
])
def test_malformed_calendar_file_is_refused_naming_calendar_file(tmp_path, content, says):
    path = tmp_path / "calendar.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        WorkingDayCalendar.from_file(path)

    assert caught.value.field == "calendar_file"
    assert says in caught.value.message


def test_missing_calendar_file_is_refused_naming_calendar_file(tmp_path):
    with pytest.raises(ValidationError) as caught:
        WorkingDayCalendar.from_file(tmp_path / "absent.json")

    assert caught.value.field == "calendar_file"


def test_period_of_zero_working_days_is_refused(calendar):
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 3, 2), 0)
