"""The cycle collector's settings for batch work are the process's own again afterwards."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from ledger.collector import FULL_COLLECTION_EVERY, batch_work


def test_batch_work_collects_the_oldest_generation_less_often_and_then_as_before():
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    garbage_before = len(gc.garbage)

    with batch_work():
        inside = gc.get_threshold()
        frozen_inside = gc.get_freeze_count()

    assert inside == (before[0], before[1], max(before[2], FULL_COLLECTION_EVERY))
    assert frozen_inside > 0  # what the process held is not walked meanwhile
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert len(gc.garbage) == garbage_before


def test_batch_work_restores_the_thresholds_when_the_work_fails():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), batch_work():
        raise RuntimeError("the work failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_overlapping_batch_work_restores_the_collector_when_the_last_one_ends():
    """Two imports in two threads: the first to end must not undo the other's settings, nor
    the last leave them in place."""
    before = gc.get_threshold()
    first, second = batch_work(), batch_work()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[2] == max(before[2], FULL_COLLECTION_EVERY)
    assert gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_server_process_stays_frozen_after_batch_work():
    """`ledger serve` froze what it built: a rebuild run in it must not unfreeze that."""
    script = ("import gc; from ledger.collector import tune_for_serving, batch_work; "
              "tune_for_serving(); tuned = gc.get_threshold(); frozen = gc.get_freeze_count(); "
              "work = batch_work(); work.__enter__(); work.__exit__(None, None, None); "
              "print(gc.get_threshold() == tuned, gc.get_freeze_count() >= frozen > 0)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True"]
