"""The snapshot store and repository the ledger reads parks through: only snapshots of the running
code's state layout are used (ledger/domain/snapshot.py says why), and a stale one is replaced.

The repository asks for the newest snapshot at or below a version (`desc=True, limit=1`). When
that one fits, which is the normal case, this costs what the library's store costs: one query,
one decoded row. When it does not (older code wrote it, its class is gone, it cannot be
decoded), the store pages on to the next older one, and the repository replays the events after
whatever it finds, or all of them.

Replacement: the snapshot table is append-only, so a stale snapshot at version S stays forever.
A load that passes over it and replays through S + 1 puts a snapshot of the current layout at
S + 1 on its way (read-through, as any cache fills): the next load, latest or as of any later
version, starts there. At most one replacement per stale snapshot, by whichever load (in
whichever process) gets there first; a second one conflicts on the key and is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import ProjectorFunction, Repository, project_aggregate
from eventsourcing.domain import DomainEventProtocol
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
        # aggregate id -> versions of the stale snapshots the last read passed over, taken by
        # the repository's replay. Plain dict operations: atomic enough across threads, and
        # one load taking another's versions of the same park only puts the same snapshots.
        self.passed_over: dict[UUID, list[int]] = {}

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None
            ) -> Iterator[DomainEventProtocol[UUID]]:
        return self._current(originator_id, gt, lte, desc, limit)

    def _current(self, originator_id: UUID, gt: int | None, lte: int | None, desc: bool,
                 limit: int | None) -> Iterator[DomainEventProtocol[UUID]]:
        handed = 0
        while True:
            rows = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc,
                                               limit=limit)
            for row in rows:
                snapshot = self._current_or_none(row)
                if snapshot is None:
                    self.passed_over.setdefault(originator_id, []).append(
                        row.originator_version)
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


def project_events(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its `assert isinstance(event,
    CanMutateProtocol)`: a runtime-checkable Protocol, which Python 3.11 checks attribute by
    attribute, about 27 µs per event here (1.3 ms of a park loaded from its snapshot plus 50
    events). Our events are the domain's own classes, each with `mutate`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class ReplacingRepository(Repository[UUID]):
    """The library's repository, putting a fitting snapshot after each stale one it replays past.

    `library_slot(aggregate, version)` says where the application snapshots by itself (every
    100th version of a park): a replacement never goes there. The library takes that snapshot
    inside `save()`, right after the event; a clash with a replacement put by a load in another
    process would fail a save whose event is already recorded.
    """

    def __init__(self, snapshot_store: CurrentSnapshotStore,
                 library_slot: Callable[[Any, int], bool], **options: Any) -> None:
        super().__init__(snapshot_store=snapshot_store, **options)
        self.snapshots = snapshot_store
        self.library_slot = library_slot

    def get(self, aggregate_id: UUID, *, version: int | None = None,
            projector_func: ProjectorFunction[Any, Any] = project_events,
            fastforward_skipping: bool = False, deepcopy_from_cache: bool = True) -> Any:
        if projector_func is project_aggregate:  # the library's snapshots load this way
            projector_func = project_events
        return super().get(aggregate_id, version=version,
                           projector_func=partial(self._project, aggregate_id, projector_func),
                           fastforward_skipping=fastforward_skipping,
                           deepcopy_from_cache=deepcopy_from_cache)

    def _project(self, aggregate_id: UUID, projector_func: ProjectorFunction[Any, Any],
                 aggregate: Any, events: Iterable[Any]) -> Any:
        """Runs after the snapshot store was read for this load (the library reads the
        snapshot, then the events, then projects): in the normal case nothing was passed over
        and the projection asked for runs as it is."""
        stale = self.snapshots.passed_over.pop(aggregate_id, None)
        if not stale or projector_func is not project_events:
            return projector_func(aggregate, events)
        targets = {version + 1 for version in stale}
        for event in events:
            aggregate = event.mutate(aggregate)
            if aggregate.version in targets and not self.library_slot(aggregate,
                                                                      aggregate.version):
                self._put(aggregate)
        return aggregate

    def _put(self, aggregate: Any) -> None:
        # put() encodes the state at once, before the replay changes the aggregate further
        snapshot = type(aggregate).Snapshot.take(aggregate)
        with suppress(RecordConflictError):  # another load put the same snapshot first
            self.snapshots.put([snapshot])
