"""Time travel: as known at a recorded time, as effective on a date, replay, compare."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ledger import timetravel
from ledger.application import park_summary
from ledger.domain.errors import ParkNotFoundError, ValidationError
from ledger.domain.park import park_id
from tests.builders import CLERK, FINANCE, to_approved, to_publicity

CODE = "KM-2026-01"


def _plain(state):
    return {k: v for k, v in state.items() if k not in ("unapplied", "head_hash")}


def test_back_dated_revocation_differs_as_known_at_and_as_effective_on(ledger, clock):
    to_approved(ledger)
    before_recording = clock.advance(days=1)
    clock.advance(days=1)
    ledger.revoke_plaque(CLERK, park_code=CODE, effective_on="2026-06-01",
                         decision_no="云人社〔2026〕9号", grounds=["violation"])

    known = timetravel.as_known_at(ledger, CODE, before_recording)
    effective = timetravel.as_effective_on(ledger, CODE, date(2026, 7, 1))

    assert known["state"]["status"] == "approved"  # nobody knew of it yet
    assert effective["state"]["status"] == "revoked"  # but it had already happened
    assert [e["event_type"] for e in known["timeline"]][-1] == "ParkApproved"
    assert timetravel.as_effective_on(ledger, CODE, date(2026, 5, 31))["state"]["status"] == \
        "approved"


def test_as_effective_on_applies_a_back_dated_entry_before_later_ones(ledger):
    to_approved(ledger)
    ledger.disburse_subsidy(FINANCE, park_code=CODE, effective_on="2026-05-01",
                            amount_yuan="2000000.00", voucher_no="财-1")
    order = ledger.order_rectification(CLERK, park_code=CODE, effective_on="2026-04-01",
                                       notice_no="整改-1", grounds="服务功能不全",
                                       deadline="2026-12-01")

    april = timetravel.as_effective_on(ledger, CODE, date(2026, 4, 15))
    may = timetravel.as_effective_on(ledger, CODE, date(2026, 5, 15))

    assert april["state"]["rectification"]["notice_no"] == "整改-1"
    assert april["state"]["subsidy"]["disbursed"] == "0.00"
    assert april["state"]["version"] == order["version"]
    assert april["versions"] == [*range(1, order["version"] - 1), order["version"]]
    assert may["state"]["subsidy"]["disbursed"] == "2000000.00"
    assert may["versions"][-2:] == [order["version"], order["version"] - 1]


def test_nothing_is_known_or_effective_before_the_filing(ledger, clock):
    to_publicity(ledger)

    assert timetravel.as_known_at(ledger, CODE, datetime(2026, 1, 1, tzinfo=UTC))["state"] \
        is None
    assert timetravel.as_effective_on(ledger, CODE, date(2026, 1, 4))["state"] is None


def test_replay_steps_through_every_event_with_what_it_changed(ledger):
    to_approved(ledger)

    replay = timetravel.replay(ledger, CODE)

    steps = replay["steps"]
    assert [s["step"] for s in steps] == list(range(1, 8)) and replay["total"] == 7
    assert steps[0]["event"]["event_type"] == "ApplicationFiled"
    approval = {c["field"]: c for c in steps[-1]["changes"]}
    assert approval["status"]["before"] == "publicity_closed"
    assert approval["status"]["after"] == "approved"
    assert _plain(steps[-1]["state"]) == _plain(ledger.park(CODE))


def test_replay_window_starts_from_the_state_before_it(ledger):
    to_approved(ledger)

    window = timetravel.replay(ledger, CODE, start=6, limit=2)["steps"]
    whole = timetravel.replay(ledger, CODE)["steps"]

    assert window == whole[5:7]


def test_replay_in_effective_order_follows_the_effective_dates(ledger):
    to_approved(ledger)
    ledger.disburse_subsidy(FINANCE, park_code=CODE, effective_on="2026-05-01",
                            amount_yuan="2000000.00", voucher_no="财-1")
    ledger.order_rectification(CLERK, park_code=CODE, effective_on="2026-04-01",
                               notice_no="整改-1", grounds="服务功能不全", deadline="2026-12-01")

    steps = timetravel.replay(ledger, CODE, order="effective")["steps"]

    days = [s["event"]["effective_on"] for s in steps]
    assert days == sorted(days)
    assert steps[-1]["event"]["event_type"] == "SubsidyDisbursed"


def test_compare_two_moments_lists_the_changed_fields(ledger, clock):
    to_approved(ledger)
    approved_at = clock.advance(minutes=1)
    clock.advance(minutes=1)
    ledger.disburse_subsidy(FINANCE, park_code=CODE, effective_on="2026-04-01",
                            amount_yuan="2000000.00", voucher_no="财-1")

    by_recording = timetravel.compare(ledger, CODE, approved_at, clock.now)
    by_date = timetravel.compare(ledger, CODE, date(2026, 3, 3), date(2026, 4, 1))

    changed = {c["field"]: (c["before"], c["after"]) for c in by_recording["changes"]}
    assert changed["subsidy.disbursed"] == ("0.00", "2000000.00")
    assert "status" not in changed
    changed = {c["field"]: (c["before"], c["after"]) for c in by_date["changes"]}
    assert changed["status"] == ("in_publicity", "approved")
    assert changed["subsidy.disbursed"] == ("0.00", "2000000.00")


def test_known_at_in_a_long_history_matches_a_full_replay_past_snapshots(ledger, clock):
    to_publicity(ledger)
    times = []
    for number in range(130):  # past the snapshot taken every 100 events
        clock.advance(seconds=1)
        ledger.raise_objection(CLERK, park_code=CODE, effective_on="2026-03-03",
                               objection_no=f"异-{number}", received_on="2026-03-03",
                               objector={"name": "示例"}, grounds="示例")
        times.append(clock.now)
    park = None
    for event in ledger.events.get(park_id(CODE), lte=120):
        park = event.mutate(park)

    known = timetravel.as_known_at(ledger, CODE, times[114])

    assert known["version"] == 120
    assert _plain(known["state"]) == _plain(park_summary(park))
    assert len(known["timeline"]) == 120


def test_time_travel_refuses_unknown_parks_and_naive_times(ledger):
    with pytest.raises(ParkNotFoundError):
        timetravel.as_effective_on(ledger, "XX-0000-00", date(2026, 1, 1))
    with pytest.raises(ValidationError) as error:
        timetravel.as_known_at(ledger, CODE, datetime(2026, 1, 1))
    assert error.value.field == "known_at"


def test_as_effective_on_applies_a_correction_from_its_date_never_before_its_entry(ledger):
    to_approved(ledger)
    paid = ledger.disburse_subsidy(FINANCE, park_code=CODE, effective_on="2026-04-01",
                                   amount_yuan="200000.00", voucher_no="财-1",
                                   override_reason="金额待核")
    ledger.correct_entry(FINANCE, park_code=CODE, effective_on="2026-04-10",
                         corrects_version=paid["version"], field="amount_yuan",
                         wrong_value="200000.00", right_value="2000000.00")
    ledger.correct_entry(FINANCE, park_code=CODE, effective_on="2026-03-20",  # dated earlier
                         corrects_version=paid["version"], field="voucher_no",
                         wrong_value="财-1", right_value="财-0001")

    def disbursed(day):
        return timetravel.as_effective_on(ledger, CODE, day)["state"]["subsidy"]["disbursed"]

    assert disbursed(date(2026, 3, 25)) == "0.00"
    assert disbursed(date(2026, 4, 2)) == "200000.00"
    assert disbursed(date(2026, 4, 10)) == "2000000.00"
    early = timetravel.as_effective_on(ledger, CODE, date(2026, 4, 2))
    assert early["versions"][-2:] == [paid["version"], paid["version"] + 2]
    assert early["timeline"][-2]["corrected_by"] == [paid["version"] + 2]


def test_timeline_keeps_the_corrected_entry_and_marks_it(ledger):
    to_approved(ledger)
    fix = ledger.correct_entry(CLERK, park_code=CODE, effective_on="2026-03-11",
                               corrects_version=7, field="approval_no",
                               wrong_value="云人社函〔2026〕1号", right_value="云人社函〔2026〕2号")

    events = timetravel.timeline(ledger, CODE)

    assert events[6]["fields"]["approval_no"] == "云人社函〔2026〕1号"
    assert events[6]["corrected_by"] == [fix["version"]]
    assert events[-1]["event_type"] == "EntryCorrected"
