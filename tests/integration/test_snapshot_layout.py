"""A snapshot of another state layout than the running code's is passed over: the park loads
with the state its events give, latest and as of a version, from the previous snapshot that
fits or from the events; a snapshot that fits is used; a load that replays past a stale one
puts a fitting one right after it.

"Older code" is simulated while the history is written: the library takes its snapshot at
version 100 with the older layout, and the running code then has to read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eventsourcing.application import Repository
from eventsourcing.domain import Snapshot

from ledger.application import Ledger, park_summary
from ledger.domain.park import Park, park_id
from ledger.domain.snapshot import current_layout
from tests.builders import CLERK, to_approved
from tests.unit.support import CODE, payload

APPROVAL_NO = "云人社函〔2026〕1号"
PARK = park_id(CODE)


def write_history(ledger: Ledger, last_version: int) -> None:
    """An approved park (v1-v7), then corrections of its approval number up to `last_version`,
    in one batch: the library snapshots at every multiple of 100 inside the save."""
    to_approved(ledger)
    results = ledger.execute_many([
        ("correct_entry", payload("correct_entry", corrects_version=7, field="approval_no",
                                  wrong_value=APPROVAL_NO, right_value=f"号{n}"), CLERK)
        for n in range(8, last_version + 1)])
    assert all(isinstance(r, dict) for r in results), results


def with_initialise(change: Callable[[Park], None]) -> Callable[[Any], None]:
    """Older code whose `initialise` left a different set of attributes."""
    def older(monkeypatch: pytest.MonkeyPatch) -> None:
        original = Park.initialise

        def initialise(park: Park, filed: Park.ApplicationFiled) -> None:
            original(park, filed)
            change(park)
        monkeypatch.setattr(Park, "initialise", initialise)
    return older


def _extra(park: Park) -> None:
    vars(park)["legacy_total"] = "0"


def _renamed(park: Park) -> None:
    vars(park)["findings_closed"] = vars(park).pop("closed_findings")


OLDER_CODE = {
    "before snapshots recorded their layout":
        lambda m: m.setattr(Park, "Snapshot", Snapshot),
    "an attribute the running code dropped": with_initialise(_extra),
    "an attribute the running code renamed": with_initialise(_renamed),
    "another STATE_LAYOUT number, the same names":
        lambda m: m.setattr(Park, "STATE_LAYOUT", Park.STATE_LAYOUT + 1),
}


@contextmanager
def older_code(older: Callable[[pytest.MonkeyPatch], None], ledger: Ledger) -> Iterator[None]:
    """Run the block as older code would; afterwards `ledger` is as a process of the running
    code would find it: computing its own layout, with no parks in memory yet."""
    current_layout.cache_clear()
    with pytest.MonkeyPatch.context() as patched:
        older(patched)
        yield
    current_layout.cache_clear()
    ledger.parks_in_memory.clear()


def from_events(ledger: Ledger, version: int | None = None) -> Park:
    park: Park = Repository(event_store=ledger.events).get(PARK, version=version)
    return park


@pytest.fixture
def events_read(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The versions of the park events each load reads from the event store (cleared by the
    test between loads): what a snapshot saved."""
    read: list[int] = []
    original = ledger.events.get

    def counting(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for event in original(*args, **kwargs):
            read.append(event.originator_version)
            yield event
    monkeypatch.setattr(ledger.events, "get", counting)
    return read


def snapshot_versions(ledger: Ledger) -> list[int]:
    """Every stored snapshot row of the park, whatever its layout."""
    assert ledger.snapshots is not None
    return [row.originator_version for row in ledger.snapshots.recorder.select_events(PARK)]


def test_a_snapshot_of_the_running_layout_is_used(ledger, events_read):
    write_history(ledger, 106)
    events_read.clear()

    latest: Park = ledger.repository.get(PARK)
    read_for_latest = list(events_read)
    events_read.clear()
    at_103: Park = ledger.repository.get(PARK, version=103)

    assert snapshot_versions(ledger) == [100]
    assert read_for_latest == [101, 102, 103, 104, 105, 106]
    assert events_read == [101, 102, 103]
    assert (latest.version, latest.approval_no) == (106, "号106")
    assert (at_103.version, at_103.approval_no) == (103, "号103")


@pytest.mark.parametrize("older", OLDER_CODE.values(), ids=OLDER_CODE.keys())
def test_a_snapshot_written_by_older_code_is_passed_over(ledger, older):
    with older_code(older, ledger):
        write_history(ledger, 106)
    expected = {v: park_summary(from_events(ledger, v)) for v in (None, 103)}

    latest: Park = ledger.repository.get(PARK)  # from the events, putting 101 on the way
    at_103: Park = ledger.repository.get(PARK, version=103)  # from 101

    assert snapshot_versions(ledger) == [100, 101]
    assert park_summary(latest) == expected[None]
    assert park_summary(at_103) == expected[103]
    for park in (latest, at_103):  # nothing missing, nothing left over from the older layout
        assert set(vars(park)) - {"_id", "_version", "_pending_events"} == \
            Park.state_attributes()


@pytest.mark.parametrize("older", OLDER_CODE.values(), ids=OLDER_CODE.keys())
def test_without_a_fitting_snapshot_every_event_is_replayed(ledger, older, events_read):
    with older_code(older, ledger):
        write_history(ledger, 106)
    expected = park_summary(from_events(ledger, 100))
    events_read.clear()

    at_100: Park = ledger.repository.get(PARK, version=100)
    read_for_100 = list(events_read)
    events_read.clear()
    ledger.repository.get(PARK)

    assert read_for_100 == list(range(1, 101))
    assert park_summary(at_100) == expected
    assert events_read == list(range(1, 107))


def put_stale_snapshot(ledger: Ledger, version: int) -> None:
    """A snapshot as older code would have written it at `version`, with a wrong approval
    number and no `closed_findings`: whoever uses it shows both."""
    park: Park = ledger.repository.get(PARK, version=version)
    snapshot = Snapshot.take(park)
    snapshot.state["approval_no"] = "STALE"
    del snapshot.state["closed_findings"]
    assert ledger.snapshots is not None
    ledger.snapshots.put([snapshot])


def test_a_newer_stale_snapshot_falls_back_to_the_older_one_that_fits(ledger, events_read):
    write_history(ledger, 106)
    put_stale_snapshot(ledger, 105)
    expected = {v: park_summary(from_events(ledger, v)) for v in (None, 105)}
    events_read.clear()

    latest: Park = ledger.repository.get(PARK)
    read_for_latest = list(events_read)
    events_read.clear()
    at_105: Park = ledger.repository.get(PARK, version=105)

    assert snapshot_versions(ledger) == [100, 105, 106]  # 106 put by the latest load
    assert park_summary(latest) == expected[None]
    assert park_summary(at_105) == expected[105]
    assert read_for_latest == [101, 102, 103, 104, 105, 106]
    assert events_read == [101, 102, 103, 104, 105]


def test_a_snapshot_whose_class_no_longer_exists_is_passed_over(ledger, events_read):
    write_history(ledger, 106)
    assert ledger.snapshots is not None
    park: Park = ledger.repository.get(PARK, version=105)
    row = ledger.mapper.to_stored_event(Park.Snapshot.take(park))
    ledger.snapshots.recorder.insert_events([type(row)(
        originator_id=row.originator_id, originator_version=row.originator_version,
        topic="ledger.domain.park:Park.RemovedSnapshot", state=row.state)])
    expected = park_summary(from_events(ledger))
    events_read.clear()

    latest: Park = ledger.repository.get(PARK)

    assert snapshot_versions(ledger) == [100, 105, 106]
    assert park_summary(latest) == expected
    assert events_read == [101, 102, 103, 104, 105, 106]


def test_a_load_past_stale_snapshots_puts_a_fitting_one_just_after_each(ledger, events_read):
    with older_code(OLDER_CODE["an attribute the running code renamed"], ledger):
        write_history(ledger, 250)
    expected = park_summary(from_events(ledger))

    ledger.repository.get(PARK, version=150)  # passes over 100: puts 101
    after_history = snapshot_versions(ledger)
    ledger.repository.get(PARK)  # passes over 200 (101 fits): puts 201
    events_read.clear()
    latest: Park = ledger.repository.get(PARK)

    assert after_history == [100, 101, 200]
    assert snapshot_versions(ledger) == [100, 101, 200, 201]
    assert events_read == list(range(202, 251))
    assert park_summary(latest) == expected


def test_a_replacement_never_takes_the_librarys_own_slot(ledger):
    """The library snapshots every 100th version inside `save()`, after the event is recorded;
    a replacement put there first would fail that save, and the command would be retried and
    recorded twice."""
    with older_code(OLDER_CODE["an attribute the running code renamed"], ledger):
        write_history(ledger, 199)
    put_stale_snapshot(ledger, 199)  # as a replacement put by older code would be

    result = ledger.correct_entry(CLERK, **payload(
        "correct_entry", corrects_version=7, field="approval_no", wrong_value=APPROVAL_NO,
        right_value="号200"))

    assert result["version"] == 200
    assert snapshot_versions(ledger) == [100, 101, 199, 200]
    assert ledger.park(CODE) == park_summary(from_events(ledger))
    assert ledger.park(CODE)["version"] == 200
