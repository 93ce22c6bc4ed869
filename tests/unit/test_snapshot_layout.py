"""The snapshot layout fingerprint: read off the running code, changed by any attribute name or
the STATE_LAYOUT number, and kept by every kind of park event."""

from __future__ import annotations

from ledger.demo import demo_commands
from ledger.domain.park import Park
from ledger.domain.snapshot import LAYOUT_KEY, current_layout, fingerprint
from ledger.exporter import event_records
from ledger.importer import import_commands
from ledger.projections.runner import park_event_names

LIBRARY_BOOKKEEPING = {"_id", "_version", "_pending_events"}  # never in a snapshot's state


def test_fingerprint_depends_on_the_names_and_the_layout_number_not_their_order():
    names = ["status", "money", "_created_on"]

    same = fingerprint(1, reversed(names))

    assert same == fingerprint(1, names)
    assert fingerprint(1, [*names, "total"]) != same
    assert fingerprint(1, ["state", "money", "_created_on"]) != same
    assert fingerprint(2, names) != same
    assert same.startswith("1:")


def test_state_attributes_are_those_initialise_assigns_and_the_librarys_own():
    attributes = Park.state_attributes()

    assert {"status", "money", "closed_findings", "entries", "head_hash"} <= attributes
    assert {"_created_on", "_modified_on"} <= attributes
    assert not attributes & (LIBRARY_BOOKKEEPING | {LAYOUT_KEY})


def test_every_event_kind_keeps_to_the_attributes_initialise_assigns(sqlite_ledger):
    """An attribute first assigned by an event's `apply` would make every snapshot of such a
    park unusable (its fingerprint never matches); the demo records every kind of event."""
    assert import_commands(sqlite_ledger, demo_commands()).ok
    records = list(event_records(sqlite_ledger))
    parks = [sqlite_ledger.get_park(code) for code in {r["park_code"] for r in records}]

    snapshots = [Park.Snapshot.take(park) for park in parks]
    reloaded = [snapshot.mutate(None) for snapshot in snapshots]

    assert {r["event_type"] for r in records} == set(park_event_names()) - {"Event", "Created"}
    assert all(s.state[LAYOUT_KEY] == current_layout(Park) for s in snapshots)
    assert all(s.is_current() for s in snapshots)
    for park in parks + reloaded:
        assert set(vars(park)) - LIBRARY_BOOKKEEPING == Park.state_attributes(), park.park_code
