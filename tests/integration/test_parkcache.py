"""Parks kept in memory between commands (ledger/parkcache.py): private copies, never ahead
of the store."""

from __future__ import annotations

import pytest

from ledger.domain.errors import RuleBreach
from tests.builders import CLERK, FINANCE, filing, to_approved


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
