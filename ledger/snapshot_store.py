"""The snapshot store the repository reads: it hands out only snapshots of the running code's
state layout (ledger/domain/snapshot.py says why), and replaces a stale newest one.

The repository asks for the newest snapshot at or below a version (`desc=True, limit=1`). When
that one fits, which is the normal case, this costs what the library's store costs: one query,
one decoded row. When it does not (older code wrote it, its class is gone, it cannot be
decoded), the store pages on to the next older one, and the repository replays the events after
whatever it finds, or all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    MapperDeserialisationError,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.utils import TopicError

from ledger.domain.snapshot import LayoutSnapshot


class CurrentSnapshotStore(EventStore[UUID]):
    """Snapshots, without those whose state layout is not the running code's."""

    def __init__(self, mapper: Mapper[UUID], recorder: AggregateRecorder) -> None:
        super().__init__(mapper, recorder)
        # aggregate id -> version of a stale snapshot a latest load passed over; read (and
        # cleared) by `refresh`. Plain dict operations: atomic enough across threads.
        self.passed_over: dict[UUID, int] = {}

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None
            ) -> Iterator[DomainEventProtocol[UUID]]:
        return self._current(originator_id, gt, lte, desc, limit)

    def _current(self, originator_id: UUID, gt: int | None, lte: int | None, desc: bool,
                 limit: int | None) -> Iterator[DomainEventProtocol[UUID]]:
        latest = desc and lte is None
        handed = 0
        while True:
            rows = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc,
                                               limit=limit)
            for row in rows:
                snapshot = self._current_or_none(row)
                if snapshot is None:
                    if latest:
                        self.passed_over.setdefault(originator_id, row.originator_version)
                    continue
                yield snapshot
                handed += 1
                if handed == limit:
                    return
            if limit is None or len(rows) < limit:
                return
            if desc:  # page on past the rows just read
                lte = rows[-1].originator_version - 1
            else:
                gt = rows[-1].originator_version

    def _current_or_none(self, row: StoredEvent) -> LayoutSnapshot | None:
        """The row's snapshot if it holds the running code's layout. A row whose class or
        aggregate no longer resolves, or whose state cannot be decoded, is stale too: a cache
        entry this code cannot read."""
        try:
            snapshot = self.mapper.to_domain_event(row)
            if not isinstance(snapshot, LayoutSnapshot):
                return None  # written before snapshots recorded their layout
            current = snapshot.is_current()
        except (TopicError, MapperDeserialisationError):
            return None
        return snapshot if current else None

    def refresh(self, aggregate: Aggregate, interval: int) -> None:
        """After a latest load passed over a stale snapshot: put one of the current layout at
        the loaded version, so the next load is fast again (read-through, like any cache).

        Never at a multiple of `interval`: that version is the library's, which takes its
        snapshot right after saving the event, inside `save()`; a clash there would fail the
        save of an event already recorded.
        """
        stale = self.passed_over.pop(aggregate.id, None)
        if stale is None or aggregate.version <= stale or aggregate.version % interval == 0:
            return
        snapshot: Any = type(aggregate).Snapshot.take(aggregate)
        with suppress(RecordConflictError):  # another process took the same snapshot first
            self.put([snapshot])
