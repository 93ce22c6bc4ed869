"""Snapshots that say which state layout they hold, so a changed aggregate never loads an old one.

A snapshot is the aggregate's `vars()` at one version, a cache of replaying its events. When the
code changes the state's layout (an attribute added, renamed or removed in `initialise`, or an
attribute whose meaning changes), a snapshot written by the older code no longer fits: loaded
into the new class, it lacks attributes, keeps stale ones, or holds values of the old meaning.

Why a fingerprint and ignoring, rather than the library's `class_version` and `upcast_vN_vN+1`
methods (which eventsourcing also applies to snapshot state):
- an upcast needs someone to remember to bump the version and write it; forgetting loads the old
  layout silently. Here the attribute names are read off the running code (`state_attributes`)
  and hashed, so adding, renaming or removing one changes the fingerprint by itself;
- an upcast can only reshape the old state, it cannot derive what the old code never kept (a new
  total over the history, say): that needs the events. The events are the truth, a snapshot only
  a cache; a snapshot of another layout is skipped and the state replayed from the previous
  snapshot that fits, or from the events, which is always right and only slower;
- the snapshot table is append-only: an old snapshot can be neither fixed nor deleted, so it
  must be recognised and passed over on every read, forever.
The explicit `STATE_LAYOUT` number covers what names cannot show: an attribute that keeps its
name but changes its meaning or type. Bump it then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol, Self

from eventsourcing.domain import Aggregate, BaseAggregate, Snapshot
from eventsourcing.utils import resolve_topic

LAYOUT_KEY = "_state_layout"  # in a snapshot's state only; never an attribute of the aggregate
NOT_STATE = frozenset({LAYOUT_KEY, "class_version"})  # bookkeeping of the snapshot itself


class HasStateLayout(Protocol):
    """An aggregate class whose snapshots record its state layout."""

    STATE_LAYOUT: int

    @classmethod
    def state_attributes(cls) -> frozenset[str]: ...


class AnyFields:
    """Stands in for an event when only the names a method assigns matter: every field is ()."""

    def __getattr__(self, name: str) -> Any:
        return ()


def fingerprint(layout: int, names: Iterable[str]) -> str:
    """The layout number and a hash of the sorted attribute names, e.g. `1:3f9a...`."""
    listed = "\n".join(sorted(set(names) - NOT_STATE))
    return f"{layout}:{hashlib.sha256(listed.encode('utf-8')).hexdigest()[:16]}"


@cache
def library_attributes() -> frozenset[str]:
    """What the library itself keeps in every aggregate's snapshot (`_created_on`, ...)."""
    return frozenset(Snapshot.take(Aggregate()).state)


@cache
def current_layout(aggregate_class: HasStateLayout) -> str:
    """The fingerprint of the state layout of the running code (computed once per class)."""
    return fingerprint(aggregate_class.STATE_LAYOUT, aggregate_class.state_attributes())


class LayoutSnapshot(Snapshot):
    """A snapshot that records the fingerprint of the state it holds."""

    @classmethod
    def take(cls, aggregate: Any) -> Self:
        snapshot = super().take(aggregate)
        # the names the aggregate really has, not the ones the class claims: an attribute
        # assigned outside `initialise` then makes the snapshot unusable, never wrong
        snapshot.state[LAYOUT_KEY] = fingerprint(type(aggregate).STATE_LAYOUT, snapshot.state)
        return snapshot

    def mutate(self, _: None) -> BaseAggregate[Any]:
        aggregate = super().mutate(_)
        vars(aggregate).pop(LAYOUT_KEY, None)
        return aggregate

    def is_current(self) -> bool:
        """True when the running code's state layout is the one this snapshot holds."""
        return bool(self.state.get(LAYOUT_KEY) == current_layout(resolve_topic(self.topic)))
