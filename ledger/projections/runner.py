"""Running the read models: tracking positions, exactly-once catch-up, rebuild and the worker.

Every read model keeps, in `rm_position`, the global notification id of the last event it
applied. A catch-up batch locks those rows, applies the next events to each read model whose
position is behind, and moves the positions forward, all in one transaction: a crash between
batches leaves rows and position consistent, so nothing is counted twice or skipped. The lock
(`SELECT ... FOR UPDATE` on PostgreSQL, an early write on SQLite, which has one writer at a time)
makes two processes wait for each other instead of applying an event twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from tqdm import tqdm

from ledger.domain.errors import ValidationError
from ledger.domain.park import Park

if TYPE_CHECKING:
    from ledger.application import Ledger

METADATA = sa.MetaData()
POSITIONS = sa.Table(
    "rm_position", METADATA,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)
BATCH_SIZE = 500
SETUP_LOCK = 7318002  # PostgreSQL advisory lock id: several processes may start at once
FEN = Decimal("0.01")

Handler = Callable[[sa.Connection, int, Any], None]


class Projection:
    """One read model: its tables and what each kind of event does to them."""

    name: ClassVar[str]
    tables: ClassVar[tuple[sa.Table, ...]]

    def handlers(self) -> dict[str, Handler]:
        """Event class name -> method; events not named here are ignored (position still moves)."""
        raise NotImplementedError

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
        self.engine = ledger.engine
        if projections is None:
            from ledger.projections import all_projections
            projections = all_projections()
        self.projections = {p.name: p for p in projections}
        self.ensure_tables()

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

    def ensure_tables(self) -> None:
        """Create missing read-model tables and tracking rows (safe to run from many processes)."""
        with self.engine.begin() as conn:
            self._setup_lock(conn)
            tables = [POSITIONS] + [t for p in self.projections.values() for t in p.tables]
            METADATA.create_all(conn, tables=tables, checkfirst=True)
            known = set(conn.scalars(sa.select(POSITIONS.c.name)))
            for name in self.projections:
                if name not in known:
                    conn.execute(POSITIONS.insert().values(name=name, position=0))

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
                with self.engine.begin() as conn:
                    positions = self._lock(conn, chosen)
                    start = min(positions.values())
                    batch = list(islice(self.ledger.park_events(after=start, page=batch_size),
                                        batch_size))
                    if not batch:
                        return read
                    for position, event in batch:
                        for projection in chosen:
                            if position > positions[projection.name]:
                                projection.apply(conn, position, event)
                    last = batch[-1][0]
                    behind = [p.name for p in chosen if positions[p.name] < last]
                    conn.execute(POSITIONS.update().where(POSITIONS.c.name.in_(behind))
                                 .values(position=last))
                read += len(batch)
                bar.update(max(0, last - bar.n))
                if len(batch) < batch_size:
                    return read  # the log is exhausted: spare an empty transaction

    def rebuild(self, names: Iterable[str] | None = None, progress: bool = False,
                batch_size: int = BATCH_SIZE) -> int:
        """Drop the named read models' tables, create them empty and replay the whole log."""
        chosen = self.select(names)
        with self.engine.begin() as conn:
            self._lock(conn, chosen)
            for projection in chosen:
                for table in reversed(projection.tables):
                    table.drop(conn, checkfirst=True)
                for table in projection.tables:
                    table.create(conn)
            conn.execute(POSITIONS.update()
                         .where(POSITIONS.c.name.in_([p.name for p in chosen]))
                         .values(position=0))
        return self.catch_up([p.name for p in chosen], batch_size=batch_size, progress=progress)

    def dump(self, names: Iterable[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the named read models, sorted: what a rebuild must reproduce."""
        with self.engine.connect() as conn:
            return {table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))),
                                       key=repr)
                    for projection in self.select(names) for table in projection.tables}

    def run_worker(self, interval: float = 1.0, stop: Callable[[], bool] = lambda: False,
                   sleep: Callable[[float], None] = time.sleep) -> None:
        """Keep the read models current: catch up, wait `interval` seconds, until `stop()`."""
        while not stop():
            self.catch_up()
            sleep(interval)

    def _lock(self, conn: sa.Connection, chosen: list[Projection]) -> dict[str, int]:
        names = sorted(p.name for p in chosen)
        where = POSITIONS.c.name.in_(names)
        if conn.dialect.name == "sqlite":
            # A write first takes SQLite's single write lock before the positions are read.
            conn.execute(POSITIONS.update().where(where)
                         .values(position=POSITIONS.c.position))
        rows = conn.execute(sa.select(POSITIONS.c.name, POSITIONS.c.position).where(where)
                            .order_by(POSITIONS.c.name).with_for_update())
        return dict(rows.tuples().all())

    @staticmethod
    def _setup_lock(conn: sa.Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({SETUP_LOCK})"))


# ------------------------------------------------------------------------- shared helpers


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
