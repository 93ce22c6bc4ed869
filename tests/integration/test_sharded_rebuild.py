"""A rebuild sharded by park across processes (PostgreSQL): the same rows as one process writes,
nothing else writes the tables meanwhile, and a failed shard leaves nothing half done."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from config import Config
from ledger.application import Ledger
from ledger.projections import runner
from ledger.projections.audit_log import AUDIT_LOG
from ledger.projections.runner import POSITIONS, REBUILDING, Projections
from tests.builders import CLERK, FINANCE, event_count, filing, to_approved, to_revoked

ONLY_POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def _history(ledger: Ledger) -> None:
    to_revoked(ledger, "KM-2026-01")
    ledger.demand_refund(FINANCE, park_code="KM-2026-01", effective_on="2026-06-10",
                         amount_yuan="2000000.00", deadline="2026-09-30", notice_no="退-1")
    to_approved(ledger, "QJ-2026-01")
    to_approved(ledger, "DL-2026-01")
    for n in range(1, 6):
        ledger.file_application(CLERK, **filing(f"YX-2026-{n:02d}", prefecture="530400",
                                                agencies_count=10))


def _positions(ledger: Ledger) -> set[int]:
    with ledger.engine.connect() as conn:
        return set(conn.scalars(sa.select(POSITIONS.c.position)))


@pytest.mark.parametrize("batch_size", [runner.REBUILD_BATCH_SIZE, 1])
def test_a_sharded_rebuild_writes_what_the_commands_wrote(ledger, batch_size):
    """With batches of one event, a shard reads ranges of four positions, most of them
    holding none of its parks' events (the history files its parks one after another): an
    empty range is passed over, it does not end the shard's replay."""
    _history(ledger)
    incremental = ledger.projections.dump()

    read = ledger.projections.rebuild(workers=2, batch_size=batch_size)

    assert ledger.projections.dump() == incremental
    assert read == sum(1 for _ in ledger.park_events())
    assert _positions(ledger) == {event_count(ledger)}
    with ledger.engine.connect() as conn:  # the indexes were built once the tables were full
        built = {i["name"] for i in sa.inspect(conn).get_indexes(AUDIT_LOG.name)}
    assert built >= {index.name for index in AUDIT_LOG.indexes}


def _pages_not_all_visible(ledger: Ledger, table: str) -> int:
    with ledger.engine.connect() as conn:
        pages, visible = conn.execute(sa.text(
            "SELECT relpages, relallvisible FROM pg_class WHERE oid = CAST(:t AS regclass)"),
            {"t": f"{ledger.database.schema}.{table}"}).one()
    assert pages > 0
    return int(pages - visible)


@ONLY_POSTGRES
@pytest.mark.parametrize("workers", [1, 2])
def test_a_rebuild_leaves_the_tables_vacuumed_for_index_only_scans(ledger, workers):
    """Every page of a rebuilt table is marked all-visible, so the audit log's counts are
    answered from its indexes alone at once, not only once autovacuum has come by."""
    _history(ledger)

    ledger.projections.rebuild(workers=workers)

    assert _pages_not_all_visible(ledger, AUDIT_LOG.name) == 0
    assert _pages_not_all_visible(ledger, "rm_park_status") == 0


@ONLY_POSTGRES
def test_the_shards_split_the_parks_between_them(ledger):
    _history(ledger)
    head = event_count(ledger)
    everything = list(ledger.park_events())

    shards = [ledger.park_events_of_shard(0, head, shard, 3) for shard in range(3)]

    parks = [{event.park_code for _, event in shard} for shard in shards]
    assert sorted(p for shard in shards for p in shard) == sorted(everything)  # each once
    assert all(a.isdisjoint(b) for i, a in enumerate(parks) for b in parks[i + 1:])
    assert sum(1 for shard in parks if shard) >= 2  # 8 parks: not all in one shard
    assert ledger.park_events_of_shard(0, everything[3][0], 0, 1) == everything[:4]
    # a range from one position to another, both ends as asked: after the first, up to the last
    assert ledger.park_events_of_shard(everything[1][0], everything[5][0], 0, 1) == \
        everything[2:6]


def test_while_a_sharded_rebuild_fills_the_tables_nothing_else_writes_them(ledger, config):
    _history(ledger)
    chosen = ledger.projections.select()
    tables = [t for p in chosen for t in p.tables]
    ledger.projections._recreate(chosen, tables, REBUILDING)  # as a sharded rebuild begins
    empty = ledger.projections.dump()

    ledger.supplement_materials(CLERK, park_code="YX-2026-01", effective_on="2026-05-01",
                                note="补充材料")
    ledger.projections.catch_up()
    other = Ledger(config)  # a process starting meanwhile
    try:
        other.projections.catch_up()
        with other.engine.connect() as conn:
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes(AUDIT_LOG.name)}
    finally:
        other.close()

    assert ledger.projections.dump() == empty
    assert _positions(ledger) == {REBUILDING}
    assert not indexes & {index.name for index in AUDIT_LOG.indexes}  # left to the rebuild
    read = ledger.projections.rebuild(workers=2)
    assert read == sum(1 for _ in ledger.park_events())
    assert _positions(ledger) == {event_count(ledger)}
    assert ledger.projections.dump()[AUDIT_LOG.name]


@ONLY_POSTGRES
def test_a_failed_shard_leaves_empty_tables_that_catch_up_from_the_log(ledger, monkeypatch):
    _history(ledger)
    incremental = ledger.projections.dump()
    real = runner.replay_shard

    def replay_or_fail(config: Config, names: list[str], shard: int, shards: int, head: int,
                       batch_size: int) -> int:
        if shard == 1:
            raise RuntimeError("shard 1 lost its connection")
        return real(config, names, shard, shards, head, batch_size)

    monkeypatch.setattr(Projections, "shard_pool", staticmethod(ThreadPoolExecutor))
    monkeypatch.setattr(runner, "replay_shard", replay_or_fail)

    with pytest.raises(RuntimeError, match="shard 1"):
        ledger.projections.rebuild(workers=2)

    assert _positions(ledger) == {0}
    assert not any(ledger.projections.dump().values())
    ledger.projections.catch_up()
    assert ledger.projections.dump() == incremental


def test_on_sqlite_a_rebuild_runs_in_this_process_whatever_workers_says(sqlite_ledger,
                                                                       monkeypatch):
    _history(sqlite_ledger)
    incremental = sqlite_ledger.projections.dump()

    def no_pool(workers: int) -> None:
        raise AssertionError("SQLite has one writer: no shards")

    monkeypatch.setattr(Projections, "shard_pool", staticmethod(no_pool))
    sqlite_ledger.projections.rebuild(workers=4)

    assert sqlite_ledger.projections.dump() == incremental
