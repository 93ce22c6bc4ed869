"""Read models rebuilt from the events alone: park status, subsidy ledger, findings, audit log.

`Projections` (in `runner`) keeps them current; the ledger creates one and catches up after
every command. The query functions live beside each read model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.projections.runner import Projection


def all_projections() -> list[Projection]:
    """One instance of each read model, in the order they are applied."""
    from ledger.projections.audit_log import AuditLog
    from ledger.projections.findings import Findings
    from ledger.projections.park_status import ParkStatus
    from ledger.projections.subsidies import Subsidies
    return [ParkStatus(), Subsidies(), Findings(), AuditLog()]
