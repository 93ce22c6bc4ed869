"""Stored events and snapshots cannot be changed through the database (issue 2, item 4): a raw
UPDATE, DELETE or (PostgreSQL) TRUNCATE fails, and appending still works afterwards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledger.domain.park import park_id
from ledger.integrity import verify
from tests.builders import CLERK, FINANCE, event_count, to_approved
from tests.unit.support import CODE, send


@pytest.fixture
def stored(ledger):
    """An approved park whose events are stored, and one snapshot of it."""
    to_approved(ledger)
    ledger.take_snapshot(park_id(CODE))
    return ledger


def table(ledger, which: str) -> str:
    return {"events": ledger.database.events_table,
            "snapshots": ledger.database.snapshots_table}[which]


def rows(ledger, name: str) -> list[tuple]:
    with ledger.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT originator_id, originator_version, topic, state FROM {name} "
            "ORDER BY originator_id, originator_version"))]


MUTATIONS = {
    "update": "UPDATE {t} SET state = state WHERE originator_version = {v}",
    "update_all": "UPDATE {t} SET topic = 'tampered'",
    "delete": "DELETE FROM {t} WHERE originator_version = {v}",
    "delete_all": "DELETE FROM {t}",
}


@pytest.mark.parametrize("which", ["events", "snapshots"])
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_raw_sql_mutation_of_a_stored_row_fails(stored, which, mutation):
    name = table(stored, which)
    before = rows(stored, name)
    assert before, f"{name} has rows to protect"

    with pytest.raises(sa.exc.DBAPIError) as caught, stored.engine.begin() as conn:
        conn.execute(sa.text(MUTATIONS[mutation].format(t=name, v=before[0][1])))

    assert "append-only" in str(caught.value)
    assert rows(stored, name) == before


def test_emptying_the_event_and_snapshot_tables_fails(stored):
    """TRUNCATE on PostgreSQL; on SQLite (no TRUNCATE) the unqualified DELETE that SQLite runs
    as its truncate optimisation."""
    empty = "TRUNCATE {t}" if stored.database.kind == "postgresql" else "DELETE FROM {t}"
    for name in (stored.database.events_table, stored.database.snapshots_table):
        before = rows(stored, name)

        with pytest.raises(sa.exc.DBAPIError) as caught, stored.engine.begin() as conn:
            conn.execute(sa.text(empty.format(t=name)))

        assert "append-only" in str(caught.value)
        assert rows(stored, name) == before


def test_appends_still_work_after_a_refused_mutation(stored):
    with pytest.raises(sa.exc.DBAPIError), stored.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {stored.database.events_table}"))
    count = event_count(stored)

    result = send(stored, "disburse_subsidy", FINANCE)
    send(stored, "award_plaque", CLERK)

    assert result["version"] == 8
    assert event_count(stored) == count + 2
    assert verify(stored.database, stored.engine).ok


def test_triggers_survive_a_second_ledger_on_the_same_database(stored, config, clock):
    """Opening the ledger again (another worker) keeps, and does not duplicate, the triggers."""
    from ledger.application import Ledger

    again = Ledger(config, clock=clock)
    try:
        with pytest.raises(sa.exc.DBAPIError), again.engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {again.database.events_table}"))
    finally:
        again.close()
    assert event_count(stored) == 7
