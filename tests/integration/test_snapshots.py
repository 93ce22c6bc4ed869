"""A long-lived park reloads through its snapshot (every 100 events) with the same state, and the
hash chain still verifies from the stored rows."""

from __future__ import annotations

from eventsourcing.application import Repository

from ledger.application import park_summary
from ledger.domain.park import Park, park_id
from ledger.integrity import verify
from tests.builders import CLERK, FINANCE, to_approved
from tests.unit.support import CODE, send

APPROVAL_NO = "云人社函〔2026〕1号"


def test_park_with_more_than_100_events_reloads_through_its_snapshot(ledger):
    to_approved(ledger)  # v1-v7
    send(ledger, "disburse_subsidy", FINANCE, amount_yuan="1500000.00",
         override_reason="分期拨付")  # v8, a flagged breach: a finding in the snapshot
    send(ledger, "order_rectification", CLERK)  # v9
    for n in range(10, 104):  # v10-v103: corrections of the approval number
        send(ledger, "correct_entry", CLERK, corrects_version=7, field="approval_no",
             wrong_value=APPROVAL_NO, right_value=f"云人社函〔2026〕{n}号")
    send(ledger, "revoke_plaque", CLERK)  # v104
    send(ledger, "demand_refund", FINANCE, amount_yuan="1500000.00")  # v105
    send(ledger, "receive_refund", FINANCE, amount_yuan="500000.00")  # v106

    snapshots = list(ledger.snapshots.get(park_id(CODE)))
    from_snapshot: Park = ledger.repository.get(park_id(CODE))
    from_events: Park = Repository(event_store=ledger.events).get(park_id(CODE))

    assert [s.originator_version for s in snapshots] == [100]
    assert from_snapshot.version == from_events.version == 106
    assert park_summary(from_snapshot) == park_summary(from_events)
    summary = park_summary(from_snapshot)
    assert summary["approval_no"] == "云人社函〔2026〕103号"
    assert summary["subsidy"] == {"disbursed": "1500000.00", "refund_demanded": "1500000.00",
                                  "refunded": "500000.00"}
    assert summary["raised_findings"] == [f"{CODE}/v8/subsidy_amount"]
    assert summary["rectification"]["deadline"] == "2026-12-31"
    check = verify(ledger.database, ledger.engine)
    assert check.ok, check.failure
    assert check.events == 106


def test_version_as_of_the_snapshot_is_rebuilt_from_events_alone(ledger):
    """A past version (before the snapshot) still loads: the snapshot only shortcuts replay."""
    to_approved(ledger)
    for n in range(8, 102):
        send(ledger, "correct_entry", CLERK, corrects_version=7, field="approval_no",
             wrong_value=APPROVAL_NO, right_value=f"号{n}")

    at_50: Park = ledger.repository.get(park_id(CODE), version=50)

    assert at_50.version == 50
    assert at_50.approval_no == "号50"
