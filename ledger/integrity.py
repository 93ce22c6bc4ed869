"""Verify and digest the log from the stored rows alone (docs/integrity.md is the spec)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ledger.domain.hashing import GENESIS, event_hash, roll_digest, unwrap_stored
from ledger.jsontext import loads
from ledger.storage import Database

PARK_TOPIC_PREFIX = "ledger.domain.park:Park."


@dataclass(frozen=True)
class StoredEvent:
    """One row of the event table, as stored."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: dict[str, Any]


@dataclass
class Verification:
    """What `verify` found: counts, the digest, and the first row that does not match."""

    events: int = 0
    parks: int = 0
    head: str = GENESIS
    last_position: int = 0
    failure: dict[str, Any] | None = None
    _chains: dict[UUID, tuple[int, str]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def digest(self) -> dict[str, Any]:
        return {"events": self.events, "head": self.head, "last_position": self.last_position}

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "parks": len(self._chains),
                "digest": self.digest(), "first_failure": self.failure}


def stored_park_events(db: Database, engine: sa.Engine, batch: int = 5000
                       ) -> Iterator[StoredEvent]:
    """Every park event row in global (notification) order, decoded only as JSON."""
    position = db.position
    query = sa.text(
        f"SELECT {position}, originator_id, originator_version, topic, state "
        f"FROM {db.events_table} WHERE {position} > :after AND topic LIKE :prefix "
        f"ORDER BY {position} LIMIT :batch")
    after = 0
    with engine.connect() as conn:
        while True:
            rows = conn.execute(query, {"after": after, "prefix": PARK_TOPIC_PREFIX + "%",
                                        "batch": batch}).all()
            if not rows:
                return
            for pos, oid, version, topic, state in rows:
                yield StoredEvent(pos, oid if isinstance(oid, UUID) else UUID(oid), version,
                                  topic, loads(bytes(state)))
            after = rows[-1][0]


def verify(db: Database, engine: sa.Engine) -> Verification:
    """Recompute every event hash and chain link, and the rolling digest of the whole log."""
    result = Verification()
    for row in stored_park_events(db, engine):
        state = unwrap_stored(row.state)
        if result.failure is None:
            result.failure = _check(row, state, result._chains.get(row.originator_id))
        result._chains[row.originator_id] = (row.version, str(state.get("hash")))
        result.events += 1
        result.head = roll_digest(result.head, str(state.get("hash")))
        result.last_position = row.position
    return result


def _check(row: StoredEvent, state: dict[str, Any],
           previous: tuple[int, str] | None) -> dict[str, Any] | None:
    where = {"park_code": state.get("park_code"), "version": row.version,
             "position": row.position}
    prev_version, prev_hash = previous or (0, GENESIS)
    if row.version != prev_version + 1:
        return {**where, "problem": f"version follows {prev_version}"}
    if state.get("prev_hash") != prev_hash:
        return {**where, "problem": "prev_hash does not match the previous event's hash"}
    computed = event_hash(originator_id=row.originator_id, version=row.version,
                          topic=row.topic, state=state)
    if computed != state.get("hash"):
        return {**where, "problem": f"hash mismatch: stored {state.get('hash')}, "
                                    f"computed {computed}"}
    return None
