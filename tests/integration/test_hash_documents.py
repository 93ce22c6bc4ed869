"""Every hash the ledger writes is the hash docs/integrity.md specifies, computed with the
standard library's encoder as the specification says (the ledger writes it with orjson).

orjson and `json.dumps` differ only on floats and UUID objects: no event of any kind holds one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

import pytest

from bench.generator import generate
from ledger.commands import COMMANDS
from ledger.domain.hashing import unwrap_stored
from ledger.importer import import_commands
from ledger.integrity import stored_park_events, verify
from tests.builders import CLERK, filing


def every_kind_of_event() -> list[dict[str, Any]]:
    """The `small` history's lines of a few parks that between them send every command."""
    by_park: dict[str, list[dict[str, Any]]] = {}
    for line in generate("small", seed=5):
        by_park.setdefault(line["park_code"], []).append(line)
    missing, chosen = set(COMMANDS), []
    while missing:
        code = max(by_park, key=lambda c: len(missing & {x["command"] for x in by_park[c]}))
        sent = {x["command"] for x in by_park[code]}
        assert missing & sent, f"no park of the history sends {sorted(missing)}"
        chosen += by_park.pop(code)
        missing -= sent
    return chosen


def test_every_stored_hash_is_the_specified_hash_of_its_row(ledger):
    report = import_commands(ledger, every_kind_of_event())
    assert report.ok, report.refused[:3]
    kinds = set()

    for row in stored_park_events(ledger.database, ledger.engine):
        state = unwrap_stored(row.state)
        document = {"id": str(row.originator_id), "version": row.version, "topic": row.topic,
                    "state": {k: v for k, v in state.items() if k != "hash"}}
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == state["hash"], row
        kinds.add(row.topic.rsplit(".", 1)[-1])

    assert kinds == {spec.event for spec in COMMANDS.values()}


def test_no_event_holds_a_value_orjson_writes_differently(ledger):
    report = import_commands(ledger, every_kind_of_event())
    assert report.ok, report.refused[:3]
    kinds = set()

    for _position, event in ledger.park_events():
        state = {k: v for k, v in vars(event).items() if k != "originator_id"}
        assert not list(_floats_and_uuids(state)), (type(event).__name__, state)
        kinds.add(type(event).__name__)

    assert kinds == {spec.event for spec in COMMANDS.values()}


def _floats_and_uuids(value: Any) -> Any:
    if isinstance(value, (float, UUID)):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats_and_uuids(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _floats_and_uuids(item)


@pytest.mark.parametrize("count", [2 ** 63, 2 ** 70, 10 ** 30])
def test_an_integer_past_64_bits_is_hashed_and_verified_as_the_specification_says(ledger, count):
    """orjson would read such an integer as a float when `verify` reads the row back (and
    refuses to write it): both sides fall back to the standard library, and the chain holds."""
    ledger.file_application(CLERK, **filing("KM-2026-01", agencies_count=count,
                                            full_time_staff=-1 + 2 ** 64))
    ledger.supplement_materials(CLERK, park_code="KM-2026-01", effective_on="2026-01-06",
                                note=f"{count} 家机构")

    (row, _), result = list(stored_park_events(ledger.database, ledger.engine)), \
        verify(ledger.database, ledger.engine)

    assert unwrap_stored(row.state)["agencies_count"] == count
    assert type(unwrap_stored(row.state)["agencies_count"]) is int
    assert result.ok and result.events == 2, result.failure
