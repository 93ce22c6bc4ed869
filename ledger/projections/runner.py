"""Running the read models: tracking positions, exactly-once catch-up, rebuild and the worker.

Every read model keeps, in `rm_position`, the global notification id of the last event it
applied, and moves it in the same transaction as its rows: nothing is counted twice or skipped.

A command's events are applied in the transaction that stores them (`in_transaction`, called
by the event recorder once the events have their log positions): one statement moves every
position that stands at the last event stored before them, and those read models apply the
events; rows and events commit together. A read model that stands elsewhere (it lags, or is
being rebuilt) is left alone there and caught up from the log after the commit. A fault of a
read model rolls that transaction back; the events are then saved alone, and the read models
catch up from the log: a command is never refused for a fault of a read model.

A catch-up batch locks the position rows (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite,
which has one writer at a time, an `UPDATE ... RETURNING` that takes the write lock as it
reads), applies the next events to each read model whose position is behind, and moves the
positions forward: two processes wait for each other instead of applying an event twice.
A read model loads the rows a batch touches at once (`prepare`), keeps them in memory during the
batch (`begin` .. `flush`) and writes them in bulk, through `Rows` (ledger/projections/rows.py).
Within a process, batches run one at a time (`lock`); across processes the positions decide.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import Recording
from tqdm import tqdm

from ledger.collector import batch_work
from ledger.domain.errors import ValidationError
from ledger.domain.park import Park
from ledger.projections.rows import Dialect, Rows, Statement
from ledger.recorders import RollBack
from ledger.storage import reads_only

if TYPE_CHECKING:
    from config import Config
    from ledger.application import Ledger

LOG = logging.getLogger(__name__)
T = TypeVar("T")
METADATA = sa.MetaData()
POSITIONS = sa.Table(
    "rm_position", METADATA,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)
BATCH_SIZE = 500
REBUILD_BATCH_SIZE = 5000  # events per transaction when a rebuild replays the whole log
REBUILDING = -1  # the position of a read model whose tables a sharded rebuild is filling
SHARDED_FROM = 100_000  # events in the log from which a rebuild is sharded by default
SHARDS_AT_MOST = 8  # processes of a sharded rebuild by default (each holds a connection)
TOUCHED_AT_MOST = 1000  # events of other processes looked through before kept rows are all dropped
CODES_AT_MOST = 50_000  # parks whose stream ids this process remembers
SETUP_LOCK = 7318002  # PostgreSQL advisory lock id: several processes may start at once
FEN = Decimal("0.01")

Handler = Callable[[Rows, int, Any], None]


class _Overtaken(Exception):
    """A read model's position is not where this process left it (another process rebuilt
    it, say): the rows written on that assumption must be rolled back."""


class Projection:
    """One read model: its tables and what each kind of event does to them.

    A read model may keep rows in memory from one batch to the next (`known`): the runner tells
    it, before each batch, whether its position is still the one this process's last batch
    left (`forget` otherwise): then no other process has written its tables since, and the kept
    rows are exactly what the tables hold.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[sa.Table, ...]]
    KEEP_AT_MOST: ClassVar[int] = 5000  # rows kept between batches, per kind of row
    known_position: int | None = None  # the position after this process's last batch

    def forget(self) -> None:
        """Drop every row kept between batches (another writer may have changed the tables)."""

    def forget_parks(self, park_codes: set[str]) -> None:
        """Drop the rows kept of these parks only (another process wrote events of theirs)."""
        self.forget()

    def handlers(self) -> dict[str, Handler]:
        """Event class name -> method; events not named here are ignored (position still moves)."""
        raise NotImplementedError

    def begin(self, rows: Rows) -> None:
        """A batch starts (in its own transaction): reset what is kept for one batch only."""

    def prepare(self, rows: Rows, events: list[tuple[int, Park.Event]]) -> None:
        """Before a batch's events are applied (after `begin`): load, in a few statements, the
        rows these events will touch. `events` are the ones this read model has not seen."""

    def flush(self, rows: Rows) -> None:
        """A batch ends: write what was kept in memory, in the batch's transaction."""

    def apply(self, rows: Rows, position: int, event: Park.Event) -> None:
        handler = self._handlers.get(type(event).__name__)
        if handler is not None:
            handler(rows, position, event)

    @property
    def _handlers(self) -> dict[str, Handler]:
        cached: dict[str, Handler] | None = self.__dict__.get("_handler_cache")
        if cached is None:
            cached = self.__dict__["_handler_cache"] = self.handlers()
        return cached


class _Every:
    """Handlers that are one handler for every kind of event."""

    __slots__ = ("handler",)

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def get(self, kind: str) -> Handler:
        return self.handler


class Projections:
    """The read models of one ledger, kept current by each command or by a worker."""

    def __init__(self, ledger: Ledger, projections: Sequence[Projection] | None = None) -> None:
        self.ledger = ledger
        self.engine = ledger.read_model_engine
        self.reader = reads_only(self.engine)  # positions asked by the pages that keep answers
        db = ledger.database
        self.dialect = Dialect(self.engine.dialect, db.schema if db.kind == "postgresql" else None)
        if projections is None:
            from ledger.projections import all_projections
            projections = all_projections()
        self.projections = {p.name: p for p in projections}
        # One batch at a time in this process: rows kept between batches are shared by threads.
        self.lock = threading.RLock()
        self._deferred = 0  # inside `deferred()`: commands leave the read models alone
        self._pending: list[Projection] = []  # applied in a transaction not yet committed
        self._through = 0  # every read model stands at least here (as this process last saw)
        self._codes: dict[UUID, str] = {}  # stream -> park code, of the events applied here
        stale = self.ensure_tables()
        if stale:
            self.catch_up(stale)
            self._analyze([t for name in stale for t in self.projections[name].tables])

    @property
    def names(self) -> list[str]:
        return list(self.projections)

    def select(self, names: Iterable[str] | None = None) -> list[Projection]:
        """The named read models (all when no name is given); an unknown name is refused."""
        if not names:
            return list(self.projections.values())
        chosen = []
        for name in names:
            if name not in self.projections:
                raise ValidationError("name", f"unknown read model {name!r}; "
                                      f"known: {', '.join(self.projections)}")
            chosen.append(self.projections[name])
        return chosen

    def ensure_tables(self) -> list[str]:
        """Create missing tables and position rows; empty every read model whose tables have
        other columns than this code gives them (written by an older version), and return
        their names. Safe to run from several processes at once."""
        with self.engine.begin() as conn:
            self._setup_lock(conn)
            inspector = sa.inspect(conn)
            stale = [p for p in self.projections.values()
                     if any(_outdated(inspector, table) for table in p.tables)]
            for projection in stale:
                for table in reversed(projection.tables):
                    table.drop(conn, checkfirst=True)
            tables = [POSITIONS] + [t for p in self.projections.values() for t in p.tables]
            METADATA.create_all(conn, tables=tables, checkfirst=True)
            # an index added since the table was created; not on tables a sharded rebuild is
            # filling (it builds their indexes once they are full)
            filling = {t for name, position in conn.execute(sa.select(POSITIONS.c.name,
                                                                      POSITIONS.c.position))
                       if position == REBUILDING and name in self.projections
                       for t in self.projections[name].tables}
            _build_indexes(conn, [t for t in tables if t not in filling])
            known = set(conn.scalars(sa.select(POSITIONS.c.name)))
            for name in self.projections:
                if name not in known:
                    conn.execute(POSITIONS.insert().values(name=name, position=0))
            names = [p.name for p in stale]
            conn.execute(POSITIONS.update().where(POSITIONS.c.name.in_(names))
                         .values(position=0))
        return names

    def positions(self) -> dict[str, int]:
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(POSITIONS.c.name, POSITIONS.c.position))
            return {name: pos for name, pos in rows if name in self.projections}

    # ----------------------------------------------------------- in the events' transaction

    def in_transaction(self, events: Sequence[Any]
                       ) -> Callable[[Any, Sequence[int]], None] | None:
        """What the event recorder calls, inside the transaction that stores `events`, with
        its cursor and the events' log positions (None inside `deferred()`). The caller holds
        `lock` from then until it calls `committed` or `abandoned`. A read model that fails
        there rolls the transaction back (`RollBack`): the caller saves the events alone."""
        if self._deferred:
            return None

        def apply(cursor: Any, ids: Sequence[int]) -> None:
            batch = [(position, event) for position, event in zip(ids, events, strict=True)
                     if isinstance(event, Park.Event)]
            try:
                self._apply_in_transaction(Rows(self.dialect, cursor), batch, min(ids),
                                           max(ids))
            except _Overtaken as error:
                LOG.info("%s: the events are saved alone, the read models catch up", error)
                raise RollBack from error
            except Exception as error:
                LOG.exception("read models could not be written with the events; the events "
                              "are saved alone, the read models catch up from the log")
                raise RollBack from error
        return apply

    def _apply_in_transaction(self, rows: Rows, batch: list[tuple[int, Park.Event]],
                              first: int, last: int) -> None:
        """Move every position that stands at the last event stored before these past them,
        and apply them to those read models. This transaction holds the events table's write
        lock, so no other event can come in between."""
        for projection in self._pending:  # an earlier attempt of this save (a retried insert)
            projection.forget()
            projection.known_position = None
        chosen = list(self.projections.values())
        advance = self._advance(chosen)
        values = {"first": first, "last": last}
        known = [p.known_position for p in chosen]
        if all(k == first - 1 for k in known):
            # This process applied the event right before these itself: its kept rows are
            # current. Write first and move the positions last, so that on PostgreSQL the one
            # answer needed (which positions moved) is also the one wait for all the writes.
            self._pending = chosen
            self._apply_batch(rows, chosen, batch, dict.fromkeys(
                (p.name for p in chosen), first - 1), last)
            moved = dict(rows.fetch(advance, values))
            if moved != dict.fromkeys((p.name for p in chosen), first - 1):
                raise _Overtaken(f"read models were moved by another process ({moved})")
            return
        touched = None
        if None not in known:  # another process wrote since: which parks did it touch?
            touched = rows.send(self._touched(), {"since": min(cast(list[int], known)),
                                                  "first": first})
        moved = dict(rows.fetch(advance, values))
        self._pending = [p for p in chosen if p.name in moved]
        if touched is not None:
            self._forget_touched(self._pending, [UUID(str(i)) for (i,) in touched.rows()],
                                 moved)
        self._apply_batch(rows, self._pending, batch, moved, last)
        rows.sync()  # a statement that failed fails here, not at the commit

    def _forget_touched(self, chosen: list[Projection], ids: list[UUID],
                        positions: dict[str, int]) -> None:
        """Rows kept between batches stay valid but for those of the parks other processes
        wrote events of since (their read models are per park): forget only those."""
        if len(ids) > TOUCHED_AT_MOST:
            return  # a long way behind: `_apply_batch` forgets everything
        codes = {self._codes[i] for i in ids if i in self._codes}
        for projection in chosen:
            projection.forget_parks(codes)
            projection.known_position = positions[projection.name]

    def _touched(self) -> Statement:
        """The streams of the events after `since` and before `first` (at most one more than
        TOUCHED_AT_MOST)."""
        db = self.ledger.database

        def build() -> sa.ClauseElement:
            logged = sa.table(db.events_table, sa.column("originator_id"),
                              sa.column(db.position, sa.BigInteger), schema=self.dialect.schema)
            position = logged.c[db.position]
            return sa.select(logged.c.originator_id).where(
                position > sa.bindparam("since", type_=sa.BigInteger),
                position < sa.bindparam("first", type_=sa.BigInteger)).limit(
                sa.literal_column(str(TOUCHED_AT_MOST + 1)))
        return self.dialect.statement("touched", build)

    def committed(self) -> None:
        """The transaction that applied events in hand committed: what was kept is valid."""
        pending, self._pending = self._pending, []
        if len(pending) == len(self.projections):
            self._through = min(p.known_position or 0 for p in pending)

    def abandoned(self) -> None:
        """The transaction that applied events in hand did not commit: forget its rows."""
        for projection in self._pending:
            projection.forget()
            projection.known_position = None
        self._pending = []

    def after_command(self, recordings: Sequence[Recording[Any]] = ()) -> None:
        """The ledger's after-commit hook: catch up the read models that were not written in
        the transaction of these recordings (they lag, or another process wrote in between).
        A read model that fails is logged, not raised: the command is already recorded, and
        reporting it as failed would invite a second, duplicate recording; the read models lag
        until the next catch-up succeeds (the next command, `ledger worker`, or `ledger
        rebuild` once the fault is fixed)."""
        if recordings and self._through >= max(r.notification.id for r in recordings):
            return
        try:
            self.catch_up()
        except Exception:
            LOG.exception("read models could not catch up; they lag behind the log")

    def _advance(self, chosen: list[Projection]) -> Statement:
        """UPDATE the positions that stand at the last event before `first` to `last`."""
        events, position = self.ledger.database.events_table, self.ledger.database.position
        names = tuple(sorted(p.name for p in chosen))

        def build() -> sa.ClauseElement:
            logged: sa.ColumnClause[int] = sa.column(position, sa.BigInteger)
            before = sa.select(sa.func.coalesce(sa.func.max(logged), 0)).select_from(
                sa.table(events, schema=self.dialect.schema)).where(
                logged < sa.bindparam("first", type_=sa.BigInteger))
            return (POSITIONS.update()
                    .where(_named(names), POSITIONS.c.position == before.scalar_subquery())
                    .values(position=sa.bindparam("last", type_=sa.BigInteger))
                    .returning(POSITIONS.c.name, before.scalar_subquery()))
        return self.dialect.statement(("advance", names), build)

    # ----------------------------------------------------------- from the log

    def catch_up(self, names: Iterable[str] | None = None, batch_size: int = BATCH_SIZE,
                 progress: bool = False) -> int:
        """Apply every event the read models have not seen; return how many events were read."""
        chosen = self.select(names)
        read = 0
        recorder = self.ledger.recorder
        total = (recorder.max_notification_id() or 0) if progress else 0
        with tqdm(total=total, unit="event", disable=not progress, desc="catch-up") as bar:
            while True:
                # Read the events before taking the write lock: eventsourcing's SQLite pool
                # makes a reader wait for a writer, and a writer (another thread's save) waits
                # for SQLite's lock; holding that lock while reading would deadlock them.
                positions = self._positions(chosen)
                # those a sharded rebuild is filling are its alone until it moves them
                live = [p for p in chosen if positions[p.name] != REBUILDING]
                if not live:
                    return read
                start = min(positions[p.name] for p in live)
                head = recorder.max_notification_id() or 0  # all committed before the read
                batch = self.ledger.park_events_page(start, batch_size)
                exhausted = len(batch) < batch_size
                # once the park events are all read, the positions pass the receipts after
                # them too, up to the head of the log
                last = max(batch[-1][0] if batch else start, head if exhausted else 0)
                if last > start:
                    with self.lock, self._transaction(live) as rows:
                        self._apply_batch(rows, live, batch, self._lock(rows, live), last,
                                          advance=True)
                read += len(batch)
                bar.update(max(0, last - bar.n))
                if exhausted:
                    bar.update(max(0, total - bar.n))
                    return read

    @contextmanager
    def _transaction(self, chosen: list[Projection]) -> Iterator[Rows]:
        """One batch's transaction, on a connection of the read-model engine. Rows a read
        model keeps between batches are valid only if the batch committed: on any failure
        they are forgotten."""
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            yield Rows(self.dialect, cursor)
            cursor.close()
            connection.commit()
        except BaseException:
            connection.rollback()
            for projection in chosen:
                projection.forget()
                projection.known_position = None
            raise
        finally:
            connection.close()

    def _apply_batch(self, rows: Rows, chosen: list[Projection],
                     batch: list[tuple[int, Park.Event]], positions: dict[str, int],
                     last: int, advance: bool = False) -> None:
        """Apply, under the position lock (`positions`, as it found them), the events each read
        model has not yet seen (another process may have moved a position since the batch was
        read), and move every position to `last` (`advance`; else they are moved already). A
        read model a sharded rebuild started filling since (`REBUILDING`) is left alone."""
        chosen = [p for p in chosen if positions[p.name] != REBUILDING]
        low = {p.name: positions[p.name] for p in chosen}
        for projection in chosen:
            if projection.known_position != low[projection.name]:
                projection.forget()  # another writer has been here since our last batch
            projection.known_position = None  # until this batch commits
            projection.begin(rows)
            since = low[projection.name]
            projection.prepare(rows, batch if not batch or batch[0][0] > since else
                               [(position, event) for position, event in batch
                                if position > since])
        if len(self._codes) > CODES_AT_MOST:  # the parks kept must all be known here
            self._codes.clear()
            for projection in self.projections.values():
                projection.forget()
                projection.known_position = None
        # each read model's handlers and position, looked up once per batch, not per event
        # (a read model with an `apply` of its own is called for every event)
        appliers = [(p._handlers if type(p).apply is Projection.apply else _Every(p.apply),
                     low[p.name]) for p in chosen]
        codes = self._codes
        for position, event in batch:
            codes[event.originator_id] = event.park_code
            kind = type(event).__name__
            for handlers, since in appliers:
                handler = handlers.get(kind)
                if handler is not None and position > since:
                    handler(rows, position, event)
        for projection in chosen:
            projection.flush(rows)
        behind = tuple(sorted(p.name for p in chosen if low[p.name] < last))
        if behind and advance:
            rows.execute(self.dialect.statement(("move", behind), lambda: POSITIONS.update()
                         .where(_named(behind))
                         .values(position=sa.bindparam("last", type_=sa.BigInteger))),
                         {"last": last})
        # valid once committed (the caller's transaction forgets them if the commit fails)
        for projection in chosen:
            projection.known_position = max(last, low[projection.name])

    def _positions(self, chosen: list[Projection]) -> dict[str, int]:
        names = [p.name for p in chosen]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(POSITIONS.c.name, POSITIONS.c.position)
                                .where(POSITIONS.c.name.in_(names)))
            return dict(rows.tuples().all())

    def rebuild(self, names: Iterable[str] | None = None, progress: bool = False,
                batch_size: int = REBUILD_BATCH_SIZE, workers: int | None = None) -> int:
        """Drop the named read models' tables, create them empty and replay the whole log.

        The tables are filled before their secondary indexes exist, which are then built
        from the full tables (a sort each, instead of one B-tree insert per row and index).
        Python's cycle collector runs its full collections a tenth as often meanwhile
        (ledger/collector.py).

        `workers` > 1 on PostgreSQL replays the log in that many processes at once, each the
        parks of its shard (`_rebuild_sharded`); by default one per core (at most
        `SHARDS_AT_MOST`) once the log holds `SHARDED_FROM` events, else this process alone
        (a process takes a second or two to start). SQLite has one writer at a time: there the
        log is replayed by this process alone whatever `workers` says."""
        with batch_work():
            chosen = self.select(names)
            workers = self.rebuild_workers() if workers is None else workers
            if workers > 1 and self.dialect.kind == "postgresql":
                return self._rebuild_sharded(chosen, progress, batch_size, workers)
            return self._rebuild(chosen, progress, batch_size)

    def rebuild_workers(self) -> int:
        """The processes a rebuild runs in by default (see `rebuild`)."""
        if self.dialect.kind != "postgresql" or \
                (self.ledger.recorder.max_notification_id() or 0) < SHARDED_FROM:
            return 1
        return min(os.cpu_count() or 1, SHARDS_AT_MOST)

    def _rebuild(self, chosen: list[Projection], progress: bool, batch_size: int) -> int:
        tables = [t for p in chosen for t in p.tables]
        self._recreate(chosen, tables, 0)
        try:
            read = self.catch_up([p.name for p in chosen], batch_size=batch_size,
                                 progress=progress)
        finally:
            with self.lock, self.engine.begin() as conn:
                _build_indexes(conn, tables)
        read += self.catch_up([p.name for p in chosen])  # what came in meanwhile
        self._analyze(tables)
        return read

    def _rebuild_sharded(self, chosen: list[Projection], progress: bool, batch_size: int,
                         workers: int) -> int:
        """Rebuild with `workers` processes, each replaying the events of the parks of its
        shard (`Projections.replay`) up to the head of the log as it stood at the
        start, in its own transactions. Every read model's rows are a park's own (its
        prefecture, its subsidy entries, its findings), so the shards never write the same
        row.

        Meanwhile the positions stand at `REBUILDING`: a command leaves those read models
        alone (no position stands at the event before its own) and a catch-up passes them over,
        so nothing but the shards writes their tables. Once every shard has committed, the
        positions move to that head in one statement and an ordinary catch-up applies what came
        in meanwhile. If a shard fails, the tables are emptied again with the positions at 0
        (an ordinary catch-up then rebuilds them from the log, one batch at a time) and the
        failure is raised."""
        tables = [t for p in chosen for t in p.tables]
        names = [p.name for p in chosen]
        head = self.ledger.recorder.max_notification_id() or 0  # committed, all before it too
        self._recreate(chosen, tables, REBUILDING)
        try:
            with tqdm(total=head, unit="event", disable=not progress, desc="rebuild") as bar, \
                    self.shard_pool(workers) as pool:
                shards = [pool.submit(replay_shard, self.ledger.config, names, shard, workers,
                                      head, batch_size) for shard in range(workers)]
                read = 0
                for done in as_completed(shards):
                    read += done.result()
                    bar.update(head // workers)
        except BaseException:
            LOG.exception("a shard of the rebuild failed: the read models are emptied and "
                          "caught up from the log instead")
            self._recreate(chosen, tables, 0)
            raise
        with self.lock, self.engine.begin() as conn:
            _build_indexes(conn, tables)
            conn.execute(POSITIONS.update().where(POSITIONS.c.name.in_(names),
                                                  POSITIONS.c.position == REBUILDING)
                         .values(position=head))
        read += self.catch_up(names)  # what came in meanwhile
        self._analyze(tables)
        return read

    def _recreate(self, chosen: list[Projection], tables: list[sa.Table], position: int) -> None:
        """Drop the tables, create them empty (secondary indexes left for later) and set the
        positions, under the position lock."""
        with self.lock, self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":  # the write lock, as a catch-up batch takes it
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:  # the positions, as a catch-up batch locks them
                conn.execute(sa.select(POSITIONS.c.name).where(_named(tuple(sorted(
                    p.name for p in chosen)))).with_for_update())
            for projection in chosen:
                projection.forget()
                projection.known_position = None
            for table in reversed(tables):
                table.drop(conn, checkfirst=True)
            for table in tables:
                conn.execute(sa.schema.CreateTable(table))
            conn.execute(POSITIONS.update()
                         .where(POSITIONS.c.name.in_([p.name for p in chosen]))
                         .values(position=position))

    @staticmethod
    def shard_pool(workers: int) -> Executor:
        """The processes a sharded rebuild runs in: started afresh (`spawn`), never forked
        from a process holding database connections."""
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def replay(self, names: list[str], shard: int, shards: int, head: int,
               batch_size: int) -> int:
        """Apply to the named read models every park event of `shard` up to `head`, about
        `batch_size` events at a time, each batch in its own transaction; the positions are not
        touched (a sharded rebuild moves them once every shard is done). Returns the events
        applied.

        A batch is a range of `batch_size * shards * 2` positions (`Ledger.park_events_of_shard`
        says why): about `batch_size` of this shard's events when, as usual, a receipt follows
        each park event. A range may hold none of them (another shard's park filling it)."""
        chosen = self.select(names)
        span = batch_size * shards * 2
        after = read = 0
        while after < head:
            upto = min(after + span, head)
            batch = self.ledger.park_events_of_shard(after, upto, shard, shards)
            if batch:
                with self.lock, self._transaction(chosen) as rows:
                    self._apply_batch(rows, chosen, batch, dict.fromkeys(names, after),
                                      batch[-1][0])
            read += len(batch)
            after = upto
        return read

    def _analyze(self, tables: list[sa.Table]) -> None:
        """Fresh planner statistics for tables just filled (a query planner that still thinks
        them empty picks the wrong index, e.g. for the audit log's filtered counts).

        On PostgreSQL a VACUUM too, which marks their pages all-visible: until a page is, an
        index-only scan (the audit log's filtered counts) reads each of its rows from the table
        as well, and after a rebuild that is every page, until autovacuum comes by (if it is on
        at all). VACUUM runs outside a transaction, and blocks neither reads nor writes.

        The read models commit without waiting for the disk (`synchronous_commit=off`), and
        VACUUM leaves a page as it is while the commit of a row on it may not be on disk yet:
        first one write is committed that does wait (a position set to itself, on the
        ledger's own engine), which flushes the log up to it, every earlier commit with it;
        and the VACUUMs too run there (the statistics each ANALYZE commits, if committed
        without waiting, would hold back the commits sharing their page of the commit log).
        `INDEX_CLEANUP ON`: a page that still holds a row a later batch replaced (a park's
        status) is marked only once the indexes have let go of it, which VACUUM skips when
        such rows are few."""
        if self.dialect.kind == "postgresql":
            durable = self.ledger.engine  # synchronous_commit on
            with durable.begin() as conn:
                conn.execute(POSITIONS.update().where(POSITIONS.c.name == min(self.projections))
                             .values(position=POSITIONS.c.position))
            with durable.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in tables:
                    conn.exec_driver_sql(f"VACUUM (ANALYZE, INDEX_CLEANUP ON) {table.name}")
            return
        with self.engine.begin() as conn:
            for table in tables:
                conn.exec_driver_sql(f"ANALYZE {table.name}")

    def dump(self, names: Iterable[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the named read models, sorted: what a rebuild must reproduce."""
        with self.engine.connect() as conn:
            return {table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))),
                                       key=repr)
                    for projection in self.select(names) for table in projection.tables}

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Inside the block commands leave the read models alone (a bulk import, say); they
        catch up once when it ends."""
        callbacks, ours = self.ledger.after_commit, cast(object, self.after_command)
        held = [c for c in callbacks if c == ours]
        for callback in held:
            callbacks.remove(callback)
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            callbacks.extend(held)
            self.catch_up()

    def run_worker(self, interval: float = 1.0, stop: Callable[[], bool] = lambda: False,
                   sleep: Callable[[float], None] = time.sleep) -> None:
        """Keep the read models current: catch up, wait `interval` seconds, until `stop()`."""
        while not stop():
            self.catch_up()
            sleep(interval)

    def _lock(self, rows: Rows, chosen: list[Projection]) -> dict[str, int]:
        """The positions of the chosen read models, locked until the transaction ends."""
        names = tuple(sorted(p.name for p in chosen))
        if self.dialect.kind == "sqlite":  # a write takes SQLite's single write lock
            statement = self.dialect.statement(("lock", names), lambda: POSITIONS.update()
                                               .where(_named(names))
                                               .values(position=POSITIONS.c.position)
                                               .returning(POSITIONS.c.name,
                                                          POSITIONS.c.position))
        else:
            statement = self.dialect.statement(("lock", names), lambda: sa.select(
                POSITIONS.c.name, POSITIONS.c.position).where(_named(names))
                .order_by(POSITIONS.c.name).with_for_update())
        return dict(rows.fetch(statement, {}))

    @staticmethod
    def _setup_lock(conn: sa.Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({SETUP_LOCK})"))
        else:  # take SQLite's write lock now, so check-then-create runs one process at a time
            conn.exec_driver_sql("BEGIN IMMEDIATE")


# ------------------------------------------------------------------------- shared helpers


def replay_shard(config: Config, names: list[str], shard: int, shards: int, head: int,
                 batch_size: int) -> int:
    """One process of a sharded rebuild: its own ledger on the same database, replaying the
    parks of `shard` (`Projections.replay`)."""
    from ledger.application import Ledger

    ledger = Ledger(config)
    try:
        with batch_work():
            return ledger.projections.replay(names, shard, shards, head, batch_size)
    finally:
        ledger.close()


def _build_indexes(conn: sa.Connection, tables: Iterable[sa.Table]) -> None:
    """The secondary indexes of the tables that do not have them yet."""
    for table in tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _named(names: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """The position rows of these read models (their names bound one by one, so the statement
    compiles once)."""
    return POSITIONS.c.name.in_([sa.bindparam(f"name_{i}", value=name)
                                 for i, name in enumerate(names)])


def _outdated(inspector: sa.Inspector, table: sa.Table) -> bool:
    if not inspector.has_table(table.name):
        return False
    return {c["name"] for c in inspector.get_columns(table.name)} != set(table.columns.keys())


def chunks(items: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """`items` in lists of at most `size` (bound parameters per statement stay few)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def park_event_names() -> list[str]:
    """The class names of every kind of park event."""
    return [name for name, value in vars(Park).items()
            if isinstance(value, type) and issubclass(value, Park.Event)]


def utc(moment: datetime) -> datetime:
    """A recorded time as stored in read-model tables: naive UTC (the same on both databases).

    Made by `datetime.combine` of its date and (naive) time: `replace(tzinfo=None)` costs six
    times as long (0.75 against 0.13 us), twice for every event a rebuild applies."""
    if moment.tzinfo is None:
        return moment
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return datetime.combine(moment.date(), moment.time())


def aware(moment: datetime | None) -> datetime | None:
    """A stored naive-UTC time back as an aware datetime."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def kept(ledger: Ledger, slot: str, stamp: Any, work: Callable[[], T]) -> T:
    """`work()`, kept in one slot of `ledger.answers` while `stamp` (everything the answer
    depends on: a day, a read model's position, ...) stays the same; worked out again, and
    kept instead, once it changes."""
    try:
        kept_stamp, answer = ledger.answers.get(slot)
        if kept_stamp == stamp:
            return cast(T, answer)
    except KeyError:
        pass
    answer = work()
    ledger.answers.put(slot, (stamp, answer))
    return answer


def today(ledger: Ledger) -> date:
    """Today in the ledger's time zone, by the ledger's (injectable) clock."""
    return ledger.clock().astimezone(ledger.timezone).date()


def to_fen(amount: Decimal | str) -> int:
    """Yuan to integer fen: money sums exactly in SQL on both databases."""
    return int(Decimal(amount).quantize(FEN) * 100)


def yuan(fen: int | None) -> str:
    """Integer fen as the ledger's decimal string in yuan (exact: integer arithmetic)."""
    whole, cents = divmod(abs(fen or 0), 100)
    return f"{'-' if (fen or 0) < 0 else ''}{whole}.{cents:02d}"
