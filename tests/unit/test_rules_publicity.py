"""Art. 6(3): publicity of at least 5 statutory working days, objections inside the window, and
approval only when every objection is resolved and none upheld."""

from __future__ import annotations

import json

import pytest

from config import Config
from ledger.application import Ledger
from ledger.domain.errors import (
    CalendarError,
    DuplicateError,
    LifecycleError,
    RuleBreach,
    ValidationError,
)
from tests.builders import CLERK, event_count, to_publicity
from tests.unit.support import CODE, assert_refused, flag_rules, send, to_evaluated


def start(ledger, starts_on, ends_on, **extra):
    return send(ledger, "start_publicity", CLERK, effective_on=starts_on, starts_on=starts_on,
                ends_on=ends_on, **extra)


def close_and_approve(ledger, closed_on="2026-03-06", approved_on="2026-03-10", **extra):
    send(ledger, "close_publicity", CLERK, effective_on=closed_on)
    return send(ledger, "approve_park", CLERK, effective_on=approved_on, **extra)


def test_publicity_of_four_working_days_is_refused_without_override(sqlite_ledger):
    """Art. 6(3): 2026-03-02 (Mon) to 03-05 (Thu) is 4 working days, 5 required."""
    to_evaluated(sqlite_ledger)

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: start(sqlite_ledger, "2026-03-02", "2026-03-05"),
                           field="override_reason", article="Art. 6(3)")

    assert error.details["breaches"][0]["rule"] == "publicity_too_short"


def test_publicity_ending_before_national_day_holiday_ends_is_too_short(sqlite_ledger):
    """Art. 6(3): 2026-09-30 to 10-09 spans 10 calendar days but only 3 working days."""
    to_evaluated(sqlite_ledger)

    assert_refused(sqlite_ledger, RuleBreach,
                   lambda: start(sqlite_ledger, "2026-09-30", "2026-10-09"),
                   field="override_reason", article="Art. 6(3)")


def test_publicity_spanning_national_day_needs_end_on_october_12(sqlite_ledger):
    """Art. 6(3): counted in statutory working days, with the Oct 10 调休 Saturday."""
    to_evaluated(sqlite_ledger)

    result = start(sqlite_ledger, "2026-09-30", "2026-10-12")

    assert result["flags"] == []


def test_short_publicity_with_override_is_recorded_and_flagged(sqlite_ledger):
    """Art. 6(3) breach under override: recorded, flagged, and raising a finding."""
    to_evaluated(sqlite_ledger)

    result = start(sqlite_ledger, "2026-03-02", "2026-03-04", override_reason="领导批示缩短")

    assert flag_rules(result) == ["publicity_too_short"]
    assert result["flags"][0]["finding_id"] == f"{CODE}/v5/publicity_too_short"
    assert f"{CODE}/v5/publicity_too_short" in sqlite_ledger.park(CODE)["raised_findings"]


def test_publicity_of_a_park_not_recommended_is_a_breach(sqlite_ledger):
    """Art. 6(3): only parks that passed the evaluation are publicised."""
    to_evaluated(sqlite_ledger, outcome="not_recommended")

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: start(sqlite_ledger, "2026-03-02", "2026-03-06"),
                           field="override_reason", article="Art. 6(3)")

    assert [b["rule"] for b in error.details["breaches"]] == ["publicity_not_recommended"]


def test_publicity_ending_before_it_starts_is_refused(sqlite_ledger):
    to_evaluated(sqlite_ledger)

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: start(sqlite_ledger, "2026-03-06", "2026-03-02"), field="ends_on")


def test_publicity_may_be_announced_before_its_window_opens(sqlite_ledger):
    """starts_on and ends_on are planned dates and may lie after today (2026-11-20)."""
    to_evaluated(sqlite_ledger)

    result = send(sqlite_ledger, "start_publicity", CLERK, effective_on="2026-11-20",
                  starts_on="2026-11-23", ends_on="2026-11-27")

    assert result["flags"] == []


def test_publicity_into_a_year_the_calendar_does_not_know_is_an_explicit_error(sqlite_ledger):
    """Art. 6(3) working days of 2027 are unknown to the package: refused, never guessed."""
    to_evaluated(sqlite_ledger)

    error = assert_refused(sqlite_ledger, CalendarError,
                           lambda: send(sqlite_ledger, "start_publicity", CLERK,
                                        effective_on="2026-11-20", starts_on="2026-12-28",
                                        ends_on="2027-01-05"),
                           field="ends_on")

    assert error.details == {"year": 2027}


def test_calendar_file_in_configuration_lets_publicity_run_into_2027(tmp_path, clock):
    """Art. 6(3): the calendar is extended from LEDGER_CALENDAR_FILE when 2027 is published."""
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps({"2027": {"holidays": ["2027-01-01"], "workdays": []}}),
                    encoding="utf-8")
    ledger = Ledger(Config(database_url=f"sqlite:///{tmp_path}/l.db", calendar_file=str(path)),
                    clock=clock)
    try:
        to_evaluated(ledger)

        # Dec 28-31 (4) + Jan 1 holiday + Jan 4 = 5 working days
        result = send(ledger, "start_publicity", CLERK, effective_on="2026-11-20",
                      starts_on="2026-12-28", ends_on="2027-01-04")
    finally:
        ledger.close()

    assert result["flags"] == []


def test_approval_after_a_full_clean_publicity_has_no_flag(sqlite_ledger):
    to_publicity(sqlite_ledger)

    result = close_and_approve(sqlite_ledger)

    assert result["flags"] == []
    assert sqlite_ledger.park(CODE)["approved_on"] == "2026-03-10"


def test_approval_after_a_publicity_closed_early_is_refused_without_override(sqlite_ledger):
    """Art. 6(3): closed on Wednesday, the publicity lasted 3 of its 5 working days."""
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "close_publicity", CLERK, effective_on="2026-03-04")

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: send(sqlite_ledger, "approve_park", CLERK,
                                        effective_on="2026-03-10"),
                           field="override_reason", article="Art. 6(3)")

    assert "3 working days" in error.message


def test_approval_dated_inside_the_publicity_window_is_a_breach(sqlite_ledger):
    """Art. 6(3): an approval letter dated Thursday cut the Monday-Friday publicity short."""
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "close_publicity", CLERK, effective_on="2026-03-06")

    assert_refused(sqlite_ledger, RuleBreach,
                   lambda: send(sqlite_ledger, "approve_park", CLERK, effective_on="2026-03-05"),
                   field="override_reason", article="Art. 6(3)")


def test_approval_after_early_close_with_override_is_flagged(sqlite_ledger):
    to_publicity(sqlite_ledger)

    result = close_and_approve(sqlite_ledger, closed_on="2026-03-03",
                               override_reason="省政府专题会议纪要要求提前批复")

    assert flag_rules(result) == ["publicity_too_short"]
    assert result["flags"][0]["finding_id"] == f"{CODE}/v7/publicity_too_short"


def test_closing_publicity_before_it_started_is_refused(sqlite_ledger):
    to_publicity(sqlite_ledger)

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: send(sqlite_ledger, "close_publicity", CLERK,
                                effective_on="2026-03-01"), field="effective_on")


@pytest.mark.parametrize("received_on", ["2026-03-01", "2026-03-07", "2026-02-02"])
def test_objection_received_outside_the_publicity_window_is_refused(sqlite_ledger, received_on):
    """Art. 6(3): objections count only when received during the publicity."""
    to_publicity(sqlite_ledger)

    error = assert_refused(sqlite_ledger, ValidationError,
                           lambda: send(sqlite_ledger, "raise_objection", CLERK,
                                        received_on=received_on), field="received_on")

    assert "2026-03-02 to 2026-03-06" in error.message


@pytest.mark.parametrize("received_on", ["2026-03-02", "2026-03-06"])
def test_objection_received_on_the_first_or_last_day_is_recorded(sqlite_ledger, received_on):
    to_publicity(sqlite_ledger)

    result = send(sqlite_ledger, "raise_objection", CLERK, received_on=received_on)

    assert result["event_type"] == "ObjectionRaised"
    assert sqlite_ledger.park(CODE)["objections"] == {"YY-1": "open"}


def test_objection_received_in_the_window_is_recorded_after_publicity_closed(sqlite_ledger):
    """Art. 6(3): a letter received on the last day may be logged after the close."""
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "close_publicity", CLERK, effective_on="2026-03-06")

    result = send(sqlite_ledger, "raise_objection", CLERK, received_on="2026-03-06")

    assert result["event_type"] == "ObjectionRaised"


def test_objection_received_in_the_future_is_refused(sqlite_ledger):
    """received_on is a date of what happened: not after today (2026-11-20 in Kunming)."""
    to_evaluated(sqlite_ledger)
    send(sqlite_ledger, "start_publicity", CLERK, effective_on="2026-11-16",
         starts_on="2026-11-16", ends_on="2026-11-23")

    error = assert_refused(sqlite_ledger, ValidationError,
                           lambda: send(sqlite_ledger, "raise_objection", CLERK,
                                        effective_on="2026-11-20", received_on="2026-11-21"),
                           field="received_on")

    assert "future" in error.message


def test_objection_on_a_park_never_in_publicity_is_refused(sqlite_ledger):
    """Art. 6(3): no publicity, no objection to it."""
    to_evaluated(sqlite_ledger)

    error = assert_refused(sqlite_ledger, LifecycleError,
                           lambda: send(sqlite_ledger, "raise_objection", CLERK),
                           field="objection_no", article="Art. 6(3)")

    assert "never in publicity" in error.message


def test_objection_number_used_twice_is_refused(sqlite_ledger):
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "raise_objection", CLERK)

    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: send(sqlite_ledger, "raise_objection", CLERK, grounds="另一理由"),
                   field="objection_no")


def test_resolving_an_unknown_objection_is_refused(sqlite_ledger):
    to_publicity(sqlite_ledger)

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: send(sqlite_ledger, "resolve_objection", CLERK),
                   field="objection_no")


def test_resolving_an_objection_twice_is_refused(sqlite_ledger):
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "raise_objection", CLERK)
    send(sqlite_ledger, "resolve_objection", CLERK)

    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: send(sqlite_ledger, "resolve_objection", CLERK, outcome="upheld"),
                   field="objection_no")


def test_approval_with_an_unresolved_objection_is_refused_without_override(sqlite_ledger):
    """Art. 6(3): approval follows a publicity without objection standing."""
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "raise_objection", CLERK)
    send(sqlite_ledger, "close_publicity", CLERK, effective_on="2026-03-06")

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: send(sqlite_ledger, "approve_park", CLERK,
                                        effective_on="2026-03-10"),
                           field="override_reason", article="Art. 6(3)")

    assert [b["rule"] for b in error.details["breaches"]] == ["objection_unresolved"]


def test_approval_with_an_upheld_objection_is_refused_without_override(sqlite_ledger):
    """Art. 6(3): an upheld objection stands against approval."""
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "raise_objection", CLERK)
    send(sqlite_ledger, "resolve_objection", CLERK, outcome="upheld")
    send(sqlite_ledger, "close_publicity", CLERK, effective_on="2026-03-06")

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: send(sqlite_ledger, "approve_park", CLERK,
                                        effective_on="2026-03-10"),
                           field="override_reason", article="Art. 6(3)")

    assert [b["rule"] for b in error.details["breaches"]] == ["objection_upheld"]


def test_approval_with_an_upheld_objection_under_override_raises_a_finding(ledger):
    """Art. 6(3) breach under override is recorded, flagged and kept as an open finding."""
    to_publicity(ledger)
    send(ledger, "raise_objection", CLERK)
    send(ledger, "resolve_objection", CLERK, outcome="upheld")
    before = event_count(ledger)

    result = close_and_approve(ledger, override_reason="异议已由园区整改，经厅务会研究同意批复")

    assert event_count(ledger) == before + 2
    assert result["flags"][0]["rule"] == "objection_upheld"
    assert result["flags"][0]["severity"] == "breach"
    park = ledger.park(CODE)
    assert park["status"] == "approved"
    assert park["raised_findings"] == [f"{CODE}/v9/objection_upheld"]
    assert ledger.timeline(CODE)[-1]["override_reason"].startswith("异议已由园区整改")


def test_approval_after_every_objection_was_dismissed_has_no_flag(sqlite_ledger):
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "raise_objection", CLERK)
    send(sqlite_ledger, "raise_objection", CLERK, objection_no="YY-2", received_on="2026-03-05")
    send(sqlite_ledger, "resolve_objection", CLERK)
    send(sqlite_ledger, "resolve_objection", CLERK, objection_no="YY-2")

    result = close_and_approve(sqlite_ledger)

    assert result["flags"] == []
