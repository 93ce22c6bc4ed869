"""The yardstick: the eventsourcing library with no domain logic, on a fresh database of the same
kind, and the database's own raw reads.

`Probe` is a plain aggregate whose one event carries an opaque text payload sized like an average
park event, so the library appends, maps and stores events of the same size as the ledger's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import Application, Repository
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import EventStore, JSONTranscoder, Mapper

from ledger.storage import Database


class Probe(Aggregate):
    """A stream with no rules: it only records payloads."""

    @event("Opened")
    def __init__(self, number: int) -> None:
        self.number = number
        self.count = 0

    @event("Recorded")
    def record(self, payload: str, seq: int) -> None:
        self.count += 1


class Baseline(Application[Any]):
    """Its own application (and its own tables) beside the ledger's."""

    name = "BenchBaseline"


def open_baseline(db: Database) -> Baseline:
    """A Baseline on `db` (a fresh SQLite file, or a fresh PostgreSQL schema)."""
    db.ensure_schema()
    return Baseline(env=db.eventsourcing_env())


def payload_of(size: int) -> str:
    """A payload that makes a Probe.Recorded event's stored state about `size` bytes."""
    overhead = 104  # timestamp, seq and the JSON around them, as measured for Probe.Recorded
    return "x" * max(1, size - overhead)


def open_probes(app: Baseline, count: int) -> list[Probe]:
    """`count` streams, created and saved (not timed)."""
    probes = [Probe(n) for n in range(count)]
    for start in range(0, count, 500):
        app.save(*probes[start:start + 500])
    return probes


def append_one_per_save(app: Baseline, probes: list[Probe], events: int, payload: str) -> float:
    """Seconds to append `events` events, one per save, round robin over the streams."""
    start = time.perf_counter()
    for seq in range(events):
        probe = probes[seq % len(probes)]
        probe.record(payload, seq)
        app.save(probe)
    return time.perf_counter() - start


def append_batched(app: Baseline, probes: list[Probe], events: int, payload: str,
                   batch: int) -> float:
    """Seconds to append `events` events, `batch` per save, round robin over the streams."""
    start = time.perf_counter()
    for first in range(0, events, batch):
        touched: dict[int, Probe] = {}
        for seq in range(first, min(events, first + batch)):
            probe = probes[seq % len(probes)]
            probe.record(payload, seq)
            touched[id(probe)] = probe
        app.save(*touched.values())
    return time.perf_counter() - start


def library_mapper(app: Application[Any]) -> Mapper[Any]:
    """The library's own mapper of `app`'s events: its `JSONTranscoder`, with the transcodings
    `app` registers. The ledger reads its events faster (orjson, `ledger/jsontext.py`); the
    yardstick stays the library's."""
    transcoder = JSONTranscoder()
    app.register_transcodings(transcoder)
    return app.factory.mapper(transcoder=transcoder)


def library_repository(app: Application[Any]) -> Repository[Any]:
    """The library's repository over `app`'s events and snapshots, read by `library_mapper`."""
    mapper = library_mapper(app)
    assert app.snapshots is not None
    return Repository(EventStore(mapper, app.recorder),
                      snapshot_store=EventStore(mapper, app.snapshots.recorder))


def read_and_decode(app: Application[Any], page: int = 1000,
                    topics: Sequence[str] = ()) -> tuple[int, float]:
    """(events, seconds) to read the whole log with select_notifications and decode each event
    with the library's mapper (`library_mapper`): the library's own replay, with no projection
    work. With `topics`, only the events of those topics (the database passes over the
    others)."""
    mapper = library_mapper(app)
    start, count, after = time.perf_counter(), 0, 0
    while True:
        notifications = app.recorder.select_notifications(start=after, limit=page,
                                                          topics=topics,
                                                          inclusive_of_start=False)
        if not notifications:
            return count, time.perf_counter() - start
        for n in notifications:
            mapper.to_domain_event(n)
        count += len(notifications)
        after = notifications[-1].id


def read_raw_rows(db: Database, engine: sa.Engine, topic_prefix: str,
                  batch: int = 5000) -> tuple[int, float]:
    """(rows, seconds) to fetch the rows `verify` reads, in the same order and pages, without
    decoding or hashing anything: the database's and driver's share of verify."""
    position = db.position
    query = sa.text(
        f"SELECT {position}, originator_id, originator_version, topic, state "
        f"FROM {db.events_table} WHERE {position} > :after AND topic LIKE :prefix "
        f"ORDER BY {position} LIMIT :batch")
    start, count, after = time.perf_counter(), 0, 0
    with engine.connect() as conn:
        while True:
            rows = conn.execute(query, {"after": after, "prefix": topic_prefix + "%",
                                        "batch": batch}).all()
            if not rows:
                return count, time.perf_counter() - start
            count += len(rows)
            after = rows[-1][0]
