"""Parks kept in memory between commands: each process remembers the latest state it loaded or
saved of the parks it works on most.

Loading a park from the store costs its latest snapshot and up to 99 events decoded and applied;
a command on a remembered park reads only the events stored since (by any process: one indexed
SELECT, usually answering nothing) and applies those. The store stays the truth: an entry is
never trusted to be current, only to be a correct earlier state of the park.

Entries are pickled bytes, not live objects: every `get` unpickles a private copy. A command
that is refused or loses a race half-way, or two threads deciding on one park at once, never
touch what the cache holds (the library's own cache hands out a deep copy of an object that
another thread may be fast-forwarding at that moment). Unpickling is C code over plain data,
about three times faster than `copy.deepcopy`.
"""

from __future__ import annotations

import pickle
from contextlib import suppress
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import LRUCache

if TYPE_CHECKING:
    from ledger.domain.park import Park


class ParkCache:
    """A bounded, thread-safe map of park id -> the park's state at some version, pickled."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: LRUCache[UUID, bytes] | None = LRUCache(maxsize) if maxsize > 0 else None

    def get(self, park_id: UUID) -> Park | None:
        """A private copy of the remembered park, or None."""
        if self._entries is None:
            return None
        try:
            blob = self._entries.get(park_id)
        except KeyError:
            return None
        park: Park = pickle.loads(blob)  # noqa: S301 - bytes this process pickled itself
        return park

    def put(self, park: Park) -> None:
        """Remember a park as stored (no pending events: call only after a successful save)."""
        if self._entries is None:
            return
        assert not park.pending_events, "only a stored state may be remembered"
        self._entries.put(park.id, pickle.dumps(park, pickle.HIGHEST_PROTOCOL))

    def discard(self, park_id: UUID) -> None:
        """Forget one park (a decision on its copy lost to a newer one in the store)."""
        if self._entries is not None:
            with suppress(KeyError):
                self._entries.get(park_id, evict=True)

    def clear(self) -> None:
        if self._entries is not None:
            self._entries = LRUCache(self.maxsize)
