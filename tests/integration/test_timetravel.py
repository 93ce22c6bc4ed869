"""Time travel: as known at a recorded time, as effective on a date, replay, compare."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from ledger import timetravel
from ledger.application import event_record, park_summary
from ledger.domain.errors import ParkNotFoundError, ValidationError
from ledger.domain.park import Park, park_id
from ledger.projections.audit_log import AUDIT_LOG
from tests.builders import CLERK, FINANCE, filing, to_approved, to_publicity

CODE = "KM-2026-01"


def _plain(state):
    return {k: v for k, v in state.items() if k not in ("unapplied", "head_hash")}


def _decoded(ledger, version, code=CODE):
    """The timeline once `version` was recorded, decoded from the events themselves (what
    as_known_at answered before it read the audit log): each record with the corrections
    among those events that name it."""
    events = list(ledger.events.get(park_id(code), lte=version))
    fixes = {}
    for event in events:
        if isinstance(event, Park.EntryCorrected):
            fixes.setdefault(event.corrects_version, []).append(event.originator_version)
    return [{**event_record(e), "corrected_by": fixes.get(e.originator_version, [])}
            for e in events]


def _every_page(ledger, moment, limit, code=CODE):
    pages, after = [], 0
    while True:
        pages.append(timetravel.as_known_at(ledger, code, moment, after=after, limit=limit))
        if pages[-1]["next"] is None:
            return pages
        after = pages[-1]["next"]


def _fix_approval(ledger, number):
    return ledger.correct_entry(CLERK, park_code=CODE, effective_on="2026-03-11",
                                corrects_version=7, field="approval_no",
                                wrong_value="云人社函〔2026〕1号",
                                right_value=f"云人社函〔2026〕{number}号")


def _fix_expert(ledger, organisation):
    return ledger.correct_entry(CLERK, park_code=CODE, effective_on="2026-01-21",
                                corrects_version=3, field="organisation",
                                wrong_value="云南大学", right_value=organisation)


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

    assert known["version"] == known["total"] == 120
    assert _plain(known["state"]) == _plain(park_summary(park))
    assert [e["version"] for e in known["timeline"]] == list(range(1, 101))  # the first page
    assert known["next"] == 100


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


def test_as_known_at_pages_concatenate_to_the_timeline_decoded_from_the_events(ledger, clock):
    to_approved(ledger)
    for number in range(2, 6):
        clock.advance(minutes=1)
        _fix_approval(ledger, number)
    moment = clock.advance(seconds=30)
    clock.advance(minutes=1)
    _fix_expert(ledger, "昆明理工大学")

    for limit in (1, 4, 11, 100):
        pages = _every_page(ledger, moment, limit)

        assert [e for p in pages for e in p["timeline"]] == _decoded(ledger, 11), limit
        assert {(p["version"], p["total"], p["limit"]) for p in pages} == {(11, 11, limit)}
        assert [p["after"] for p in pages] == list(range(0, 11, limit))
        assert [p["next"] for p in pages] == [*range(limit, 11, limit), None]
        assert {repr(p["state"]) for p in pages} == {repr(pages[0]["state"])}
    now = timetravel.as_known_at(ledger, CODE, clock.now, limit=1000)
    assert now["timeline"] == _decoded(ledger, 12)
    beyond = timetravel.as_known_at(ledger, CODE, moment, after=11)
    assert beyond["timeline"] == [] and beyond["next"] is None and beyond["total"] == 11


def test_corrected_by_lists_only_the_corrections_recorded_by_then(ledger, clock):
    to_approved(ledger)
    first = _fix_approval(ledger, 2)
    expert = _fix_expert(ledger, "昆明理工大学")
    moment = clock.advance(minutes=1)
    clock.advance(minutes=1)
    later = _fix_approval(ledger, 3)
    _fix_expert(ledger, "云南师范大学")

    then = {e["version"]: e for e in timetravel.as_known_at(ledger, CODE, moment)["timeline"]}
    now = {e["version"]: e for e in timetravel.as_known_at(ledger, CODE, clock.now)["timeline"]}

    assert then[7]["corrected_by"] == [first["version"]]
    assert then[3]["corrected_by"] == [expert["version"]]
    assert now[7]["corrected_by"] == [first["version"], later["version"]]
    assert now[3]["corrected_by"] == [expert["version"], later["version"] + 1]
    assert all("position" not in e for e in then.values())  # the shape it always had


def test_as_known_at_reads_what_a_lagging_audit_log_lacks_from_the_events(ledger, clock):
    to_approved(ledger)
    with ledger.projections.deferred():  # the read models do not catch up until it ends
        early = clock.now
        clock.advance(seconds=1)
        _fix_approval(ledger, 2)  # v8: an unindexed correction of an indexed entry
        clock.advance(minutes=1)
        _fix_expert(ledger, "昆明理工大学")  # v9
        moment = clock.advance(seconds=30)
        clock.advance(minutes=1)
        _fix_approval(ledger, 3)  # v10, recorded after `moment`
        ledger.file_application(CLERK, **filing("QJ-2026-01", prefecture="530300"))
        with ledger.engine.connect() as conn:
            indexed = conn.scalar(sa.select(sa.func.max(AUDIT_LOG.c.version)))
        lagging = {at: _every_page(ledger, at, 4) for at in (early, moment, clock.now)}
        other = timetravel.as_known_at(ledger, "QJ-2026-01", clock.now)
        with pytest.raises(ParkNotFoundError):
            timetravel.as_known_at(ledger, "XX-0000-00", clock.now)

    assert indexed == 7
    for at, version in ((early, 7), (moment, 9), (clock.now, 10)):
        pages = lagging[at]
        assert [e for p in pages for e in p["timeline"]] == _decoded(ledger, version)
        assert pages[0]["version"] == pages[0]["total"] == version
        assert pages[0]["state"] == timetravel.as_known_at(ledger, CODE, at)["state"]
        assert [e for p in pages for e in p["timeline"]] == \
            [e for p in _every_page(ledger, at, 4) for e in p["timeline"]]  # caught up now
    approval = {at: next(e for p in pages for e in p["timeline"] if e["version"] == 7)
                for at, pages in lagging.items()}
    assert [approval[at]["corrected_by"] for at in (early, moment, clock.now)] == \
        [[], [8], [8, 10]]
    assert other["version"] == 1 and other["state"]["prefecture"] == "530300"
    assert other["timeline"] == _decoded(ledger, 1, "QJ-2026-01")


def test_as_known_at_refuses_a_page_out_of_range_naming_the_parameter(ledger, clock):
    to_publicity(ledger)

    for after, limit, field in ((-1, 100, "after"), (0, 0, "limit"), (0, 1001, "limit")):
        with pytest.raises(ValidationError) as error:
            timetravel.as_known_at(ledger, CODE, clock.now, after=after, limit=limit)
        assert error.value.field == field
