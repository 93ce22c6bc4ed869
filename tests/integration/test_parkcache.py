"""Parks kept in memory between commands (ledger/parkcache.py): private copies, never ahead
of the store. Stored events kept in memory (`Ledger.events_in_memory`): what corrections are
checked against, equal to the stored ones."""

from __future__ import annotations

import pytest

from ledger.domain.errors import RuleBreach, ValidationError
from ledger.domain.park import park_id
from tests.builders import CLERK, FINANCE, filing, to_approved, to_revoked


def test_parks_kept_in_memory_are_handed_out_as_private_copies(ledger):
    ledger.file_application(CLERK, **filing("KM-2026-01"))
    first = ledger.get_park("KM-2026-01")
    first.sub_parks.append("changed by a caller")

    assert "changed by a caller" not in ledger.get_park("KM-2026-01").sub_parks


def test_a_refused_command_leaves_the_kept_park_as_stored(ledger):
    """Art. 9: no subsidy before approval; the refusal must not leave a decided-but-unsaved
    event in the copy the next command starts from."""
    ledger.file_application(CLERK, **filing("KM-2026-01"))
    before = ledger.park("KM-2026-01")
    with pytest.raises(RuleBreach, match="Art. 9"):
        ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                amount_yuan="2000000.00", voucher_no="财-2026-001")

    assert ledger.park("KM-2026-01") == before
    assert ledger.get_park("KM-2026-01").pending_events == []


def test_the_kept_park_equals_the_park_loaded_from_the_store(ledger, config, clock):
    from ledger.application import Ledger, park_summary
    to_approved(ledger)
    fresh = Ledger(config, clock=clock)  # a new process: nothing in memory
    try:
        assert park_summary(ledger.get_park("KM-2026-01")) == \
            park_summary(fresh.get_park("KM-2026-01"))
    finally:
        fresh.close()


def _count_event_reads(ledger, monkeypatch) -> list[int]:
    """The versions of single stored events read from the store (a correction's check)."""
    reads: list[int] = []
    get = ledger.events.get

    def counted(originator_id, *args, **kwargs):
        if kwargs.get("lte") is not None and kwargs.get("gt") == kwargs["lte"] - 1:
            reads.append(kwargs["lte"])
        return get(originator_id, *args, **kwargs)
    monkeypatch.setattr(ledger.events, "get", counted)
    return reads


def _correct_amount(ledger, wrong: str, right: str) -> dict:
    return ledger.correct_entry(FINANCE, park_code="KM-2026-01", effective_on="2026-11-02",
                                corrects_version=8, field="amount_yuan", wrong_value=wrong,
                                right_value=right)


def test_a_correction_of_an_entry_this_process_saved_reads_no_event_from_the_store(
        ledger, monkeypatch):
    """Art. 9's subsidy of v8, corrected: checked against the event this process kept."""
    to_revoked(ledger)
    reads = _count_event_reads(ledger, monkeypatch)

    with pytest.raises(ValidationError, match="'2000000.00'") as refused:
        _correct_amount(ledger, "2100000.00", "1800000.00")
    assert refused.value.field == "wrong_value"
    result = _correct_amount(ledger, "2000000.00", "1800000.00")

    assert result["event_type"] == "EntryCorrected"
    assert reads == []


def test_a_fresh_process_checks_a_correction_against_the_stored_event_read_once(
        ledger, config, clock, monkeypatch):
    from ledger.application import Ledger
    to_revoked(ledger)
    fresh = Ledger(config, clock=clock)  # a new process: nothing in memory
    try:
        reads = _count_event_reads(fresh, monkeypatch)
        with pytest.raises(ValidationError, match="'2000000.00'"):
            _correct_amount(fresh, "2100000.00", "1800000.00")
        assert reads == [8]
        _correct_amount(fresh, "2000000.00", "1800000.00")
        assert reads == [8]  # kept since
    finally:
        fresh.close()


def test_the_events_kept_in_memory_equal_the_stored_ones(ledger):
    """Every kind of value a park event holds (dates, times, money, lists, nested documents)
    is the same kept as read back from the store, so a correction is checked the same way."""
    to_revoked(ledger)
    _correct_amount(ledger, "2000000.00", "1800000.00")
    stored = list(ledger.events.get(park_id("KM-2026-01")))

    kept = [ledger.events_in_memory.get((e.originator_id, e.originator_version))
            for e in stored]

    assert [vars(e) for e in kept] == [vars(e) for e in stored]
    assert len(stored) > 8
