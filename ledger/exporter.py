"""`ledger export`: every park event as JSON Lines, in global order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from ledger.application import Ledger, event_record


def event_records(ledger: Ledger, after: int = 0) -> Iterator[dict[str, Any]]:
    """Every park event after position `after`, as the export writes it (JSON types only)."""
    for position, event in ledger.park_events(after=after):
        yield event_record(event, position)


def export_events(ledger: Ledger, out: TextIO, after: int = 0) -> int:
    """Write one JSON object per line to `out`; return how many events were written."""
    count = 0
    for record in event_records(ledger, after):
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count
