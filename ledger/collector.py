"""Python's cycle collector, set for the two kinds of long work the ledger does: serving
requests for days, and replaying or importing a log in batches.

A full collection walks every object the process keeps. Most of what the ledger makes are
trees of dicts and lists (events, rows, answers) that reference counting frees on its own; the
full collections that Python runs every tenth middle-generation one find almost nothing and
cost the more, the more the process keeps: on `large` a finance page paused ~65 ms every
dozen requests for it, and a rebuild spent ~12 % of its time in them (docs/benchmarks.md).
Young cycles are still collected as often as before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FULL_COLLECTION_EVERY = 100  # collections of the middle generation per full one (Python: 10)


def tune_for_serving() -> None:
    """For a long-lived server process (call once the app is built): what start-up made is
    frozen, never walked again, and the oldest generation is collected a tenth as often."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


@contextmanager
def batch_work() -> Iterator[None]:
    """Inside: the oldest generation is collected a tenth as often, and what the process held
    when the work began is frozen (not walked by those collections). When the last of the
    threads inside leaves, the thresholds are as they were, and what was frozen here is
    unfrozen (in a process that was frozen before, a server's, what is frozen stays so)."""
    global _inside, _saved
    with _lock:
        if not _inside:
            _saved = gc.get_threshold(), gc.get_freeze_count()
            if not _saved[1]:
                gc.freeze()
            young, middle, full = _saved[0]
            gc.set_threshold(young, middle, max(full, FULL_COLLECTION_EVERY))
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if not _inside:
                thresholds, frozen_before = _saved
                gc.set_threshold(*thresholds)
                if not frozen_before:
                    gc.unfreeze()


_lock = threading.Lock()
_inside = 0  # threads inside `batch_work` (or nested uses of it)
_saved: tuple[tuple[int, ...], int] = ((), 0)  # the thresholds and freeze count before
