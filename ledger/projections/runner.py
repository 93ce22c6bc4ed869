"""Running the read models: tracking positions, exactly-once catch-up, rebuild and the worker.

Every read model keeps, in `rm_position`, the global notification id of the last event it
applied. A catch-up batch locks those rows, applies the next events to each read model whose
position is behind, and moves the positions forward, all in one transaction: a crash between
batches leaves rows and position consistent, so nothing is counted twice or skipped. The lock
(`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite, which has one writer at a time, an `UPDATE
... RETURNING` that takes the write lock as it reads) makes two processes wait for each other
instead of applying an event twice. A read model may
load the rows a batch touches at once (`prepare`), keep them in memory during the batch
(`begin` .. `flush`) and write them in bulk: the lock on its
position row means only one batch of a read model runs at a time, across threads and processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, cast

import sqlalchemy as sa
from eventsourcing.persistence import Recording
from tqdm import tqdm

from ledger.domain.errors import ValidationError
from ledger.domain.park import Park

if TYPE_CHECKING:
    from ledger.application import Ledger

LOG = logging.getLogger(__name__)
METADATA = sa.MetaData()
POSITIONS = sa.Table(
    "rm_position", METADATA,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)
_NAMES = POSITIONS.c.name.in_(sa.bindparam("names", expanding=True))
_LOCK = {  # by "is this SQLite": the positions, locked until the transaction ends
    # A write takes SQLite's single write lock as it reads the positions.
    True: POSITIONS.update().where(_NAMES).values(position=POSITIONS.c.position)
    .returning(POSITIONS.c.name, POSITIONS.c.position),
    False: sa.select(POSITIONS.c.name, POSITIONS.c.position).where(_NAMES)
    .order_by(POSITIONS.c.name).with_for_update(),
}
_ADVANCE = (POSITIONS.update()  # move the positions that stand at `expected` to `last`
            .where(_NAMES, POSITIONS.c.position == sa.bindparam("expected"))
            .values(position=sa.bindparam("last")).returning(POSITIONS.c.name))
BATCH_SIZE = 500


class _Elsewhere(Exception):
    """Some read models stood elsewhere: roll back what the attempt changed."""
SETUP_LOCK = 7318002  # PostgreSQL advisory lock id: several processes may start at once
FEN = Decimal("0.01")

Handler = Callable[[sa.Connection, int, Any], None]


class Projection:
    """One read model: its tables and what each kind of event does to them.

    A read model may keep rows in memory from one batch to the next (`known`): the runner tells
    it, before each batch, whether its position is still the one this process's last batch
    left (`forget` otherwise): then no other process or thread has written its tables since,
    and the kept rows are exactly what the tables hold.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[sa.Table, ...]]
    KEEP_AT_MOST: ClassVar[int] = 5000  # rows kept between batches, per kind of row
    known_position: int | None = None  # the position after this process's last batch

    def forget(self) -> None:
        """Drop every row kept between batches (another writer may have changed the tables)."""

    def handlers(self) -> dict[str, Handler]:
        """Event class name -> method; events not named here are ignored (position still moves)."""
        raise NotImplementedError

    def begin(self, conn: sa.Connection) -> None:
        """A batch starts (in its own transaction): reset what is kept for one batch only."""

    def prepare(self, conn: sa.Connection, events: list[tuple[int, Park.Event]]) -> None:
        """Before a batch's events are applied (after `begin`): load, in a few statements, the
        rows these events will touch. `events` are the ones this read model has not seen."""

    def flush(self, conn: sa.Connection) -> None:
        """A batch ends: write what was kept in memory, in the batch's transaction."""

    def apply(self, conn: sa.Connection, position: int, event: Park.Event) -> None:
        handler = self._handlers.get(type(event).__name__)
        if handler is not None:
            handler(conn, position, event)

    @property
    def _handlers(self) -> dict[str, Handler]:
        cached: dict[str, Handler] | None = self.__dict__.get("_handler_cache")
        if cached is None:
            cached = self.__dict__["_handler_cache"] = self.handlers()
        return cached


class Projections:
    """The read models of one ledger, kept current after each command or by a worker."""

    def __init__(self, ledger: Ledger, projections: Sequence[Projection] | None = None) -> None:
        self.ledger = ledger
        self.engine = ledger.read_model_engine
        if projections is None:
            from ledger.projections import all_projections
            projections = all_projections()
        self.projections = {p.name: p for p in projections}
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
            for table in tables:  # an index added since the table was created
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            known = set(conn.scalars(sa.select(POSITIONS.c.name)))
            for name in self.projections:
                if name not in known:
                    conn.execute(POSITIONS.insert().values(name=name, position=0))
            names = [p.name for p in stale]
            conn.execute(POSITIONS.update().where(POSITIONS.c.name.in_(names))
                         .values(position=0))
        return names

    def positions(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(POSITIONS.c.name, POSITIONS.c.position))
            return {name: pos for name, pos in rows if name in self.projections}

    def catch_up(self, names: Iterable[str] | None = None, batch_size: int = BATCH_SIZE,
                 progress: bool = False) -> int:
        """Apply every event the read models have not seen; return how many events were read."""
        chosen = self.select(names)
        read = 0
        head = (self.ledger.recorder.max_notification_id() or 0) if progress else 0
        with tqdm(total=head, unit="event", disable=not progress, desc="catch-up") as bar:
            while True:
                # Read the events before taking the write lock: eventsourcing's SQLite pool
                # makes a reader wait for a writer, and a writer (another thread's save) waits
                # for SQLite's lock; holding that lock while reading would deadlock them.
                start = min(self._positions(chosen).values())
                batch, last = self.ledger.park_events_page(start, batch_size)
                if last > start:
                    with self._transaction(chosen) as conn:
                        self._apply_batch(conn, chosen, batch, self._lock(conn, chosen), last)
                read += len(batch)
                bar.update(max(0, last - bar.n))
                if last - start < batch_size:  # the log is exhausted
                    bar.update(max(0, head - bar.n))
                    return read

    @contextmanager
    def _transaction(self, chosen: list[Projection]) -> Iterator[sa.Connection]:
        """One batch's transaction. Rows a read model keeps between batches are valid only if
        the batch committed: on any failure they are forgotten."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except BaseException:
            for projection in chosen:
                projection.forget()
                projection.known_position = None
            raise

    def _apply_batch(self, conn: sa.Connection, chosen: list[Projection],
                     batch: list[tuple[int, Park.Event]], positions: dict[str, int],
                     last: int, moved: bool = False) -> None:
        """Apply, under the position lock (`positions`, as it found them), the events each read
        model has not yet seen (another process may have moved a position since the batch was
        read), and move every position to `last` (unless already `moved` there)."""
        for projection in chosen:
            if projection.known_position != positions[projection.name]:
                projection.forget()  # another writer has been here since our last batch
            projection.known_position = None  # until this batch commits
            projection.begin(conn)
            projection.prepare(conn, [(position, event) for position, event in batch
                                      if position > positions[projection.name]])
        for position, event in batch:
            for projection in chosen:
                if position > positions[projection.name]:
                    projection.apply(conn, position, event)
        for projection in chosen:
            projection.flush(conn)
        behind = [p.name for p in chosen if positions[p.name] < last]
        if behind and not moved:
            conn.execute(POSITIONS.update().where(POSITIONS.c.name.in_(behind))
                         .values(position=last))
        # valid once committed (the caller's transaction forgets them if the commit fails)
        for projection in chosen:
            projection.known_position = max(last, positions[projection.name])

    def _positions(self, chosen: list[Projection]) -> dict[str, int]:
        names = [p.name for p in chosen]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(POSITIONS.c.name, POSITIONS.c.position)
                                .where(POSITIONS.c.name.in_(names)))
            return dict(rows.tuples().all())

    def rebuild(self, names: Iterable[str] | None = None, progress: bool = False,
                batch_size: int = BATCH_SIZE) -> int:
        """Drop the named read models' tables, create them empty and replay the whole log."""
        chosen = self.select(names)
        with self._transaction(chosen) as conn:
            self._lock(conn, chosen)
            for projection in chosen:
                projection.forget()
                projection.known_position = None
                for table in reversed(projection.tables):
                    table.drop(conn, checkfirst=True)
                for table in projection.tables:
                    table.create(conn)
            conn.execute(POSITIONS.update()
                         .where(POSITIONS.c.name.in_([p.name for p in chosen]))
                         .values(position=0))
        read = self.catch_up([p.name for p in chosen], batch_size=batch_size,
                             progress=progress)
        self._analyze([t for p in chosen for t in p.tables])
        return read

    def _analyze(self, tables: list[sa.Table]) -> None:
        """Fresh planner statistics for tables just filled (a query planner that still thinks
        them empty picks the wrong index, e.g. for the audit log's filtered counts)."""
        with self.engine.begin() as conn:
            for table in tables:
                conn.exec_driver_sql(f"ANALYZE {table.name}")

    def dump(self, names: Iterable[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the named read models, sorted: what a rebuild must reproduce."""
        with self.engine.connect() as conn:
            return {table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))),
                                       key=repr)
                    for projection in self.select(names) for table in projection.tables}

    def after_command(self, recordings: Sequence[Recording[Any]] = ()) -> None:
        """The ledger's after-commit hook: apply the events just saved, or catch up.

        The saved events are in hand: when every read model stands right before them, they are
        applied as they are, without reading them back from the log. Otherwise (another
        process wrote in between, or a read model lags) the log is read from each position.
        A read model that fails is logged, not raised: the command is already recorded, and
        reporting it as failed would invite a second, duplicate recording; the read models lag
        until the next catch-up succeeds (the next command, `ledger worker`, or `ledger
        rebuild` once the fault is fixed)."""
        try:
            if not self._apply_in_hand(recordings):
                self.catch_up()
        except Exception:
            LOG.exception("read models could not catch up; they lag behind the log")

    def _apply_in_hand(self, recordings: Sequence[Recording[Any]]) -> bool:
        """Apply one save's events if each read model's position is right before them (or
        already past them); False, having changed nothing, if any read model is elsewhere."""
        if not recordings:
            return False
        ids = [r.notification.id for r in recordings]
        first, last = min(ids), max(ids)
        batch = sorted((r.notification.id, r.domain_event) for r in recordings
                       if isinstance(r.domain_event, Park.Event))
        chosen = list(self.projections.values())
        names = sorted(self.projections)
        try:
            with self._transaction(chosen) as conn:
                # Usually every read model stands right before these events: then one statement
                # both locks the positions and moves them to the end of the save.
                moved = conn.execute(_ADVANCE, {"names": names, "expected": first - 1,
                                                "last": last}).scalars().all()
                if len(moved) == len(names):
                    self._apply_batch(conn, chosen, batch, dict.fromkeys(names, first - 1),
                                      last, moved=True)
                    return True
                if moved:  # some were moved by mistake: undo, and look again
                    raise _Elsewhere
                positions = self._lock(conn, chosen)
                if any(position < first - 1 or first <= position < last
                       for position in positions.values()):
                    return False
                self._apply_batch(conn, chosen, batch, positions, last)
        except _Elsewhere:
            return False
        return True

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Inside the block commands skip the catch-up after each save (a bulk import, say);
        the read models catch up once when it ends."""
        callbacks, ours = self.ledger.after_commit, cast(object, self.after_command)
        held = [c for c in callbacks if c == ours]
        for callback in held:
            callbacks.remove(callback)
        try:
            yield
        finally:
            callbacks.extend(held)
            self.catch_up()

    def run_worker(self, interval: float = 1.0, stop: Callable[[], bool] = lambda: False,
                   sleep: Callable[[float], None] = time.sleep) -> None:
        """Keep the read models current: catch up, wait `interval` seconds, until `stop()`."""
        while not stop():
            self.catch_up()
            sleep(interval)

    def _lock(self, conn: sa.Connection, chosen: list[Projection]) -> dict[str, int]:
        names = sorted(p.name for p in chosen)
        return dict(conn.execute(_LOCK[conn.dialect.name == "sqlite"], {"names": names})
                    .tuples().all())

    @staticmethod
    def _setup_lock(conn: sa.Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({SETUP_LOCK})"))
        else:  # take SQLite's write lock now, so check-then-create runs one process at a time
            conn.exec_driver_sql("BEGIN IMMEDIATE")


# ------------------------------------------------------------------------- shared helpers


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
    """A recorded time as stored in read-model tables: naive UTC (the same on both databases)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def aware(moment: datetime | None) -> datetime | None:
    """A stored naive-UTC time back as an aware datetime."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def today(ledger: Ledger) -> date:
    """Today in the ledger's time zone, by the ledger's (injectable) clock."""
    return ledger.clock().astimezone(ledger.timezone).date()


def to_fen(amount: Decimal | str) -> int:
    """Yuan to integer fen: money sums exactly in SQL on both databases."""
    return int(Decimal(amount).quantize(FEN) * 100)


def yuan(fen: int | None) -> str:
    """Integer fen as the ledger's decimal string in yuan."""
    return f"{Decimal(fen or 0) / 100:.2f}"
