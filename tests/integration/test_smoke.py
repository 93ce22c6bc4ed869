from __future__ import annotations

from tests.builders import FINANCE, event_count, to_approved


def test_approved_park_receives_subsidy(ledger):
    to_approved(ledger)

    result = ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                     amount_yuan="2000000.00", voucher_no="财-1")

    assert result["event_type"] == "SubsidyDisbursed"
    assert ledger.park("KM-2026-01")["subsidy"]["disbursed"] == "2000000.00"
    assert event_count(ledger) >= 7
