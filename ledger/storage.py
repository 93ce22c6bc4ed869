"""Where events live: the eventsourcing persistence settings for a database URL, the engine for
our own tables, and the triggers that make the event tables append-only."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa

from ledger.domain.errors import ValidationError
from ledger.jsontext import loads

APP_NAME = "ParkLedger"
REST_BEFORE_PING = 2.0  # seconds in the pool after which a connection is pinged before use
# PostgreSQL's planner cost of a random page read, for the ledger's own sessions. The server's
# default (4) models a spinning disk; at it the planner answers "one prefecture's entries,
# by position, first 51" by walking the whole log in position order and filtering (7,541 rows
# read for 51 on `large`, 2.9 ms) instead of reading them from the (prefecture, position)
# index (0.09 ms), because it prices the 51 index hops at four sequential reads each. 1.1 is
# what PostgreSQL's documentation suggests for solid-state or cached storage.
RANDOM_PAGE_COST = 1.1


@dataclass(frozen=True)
class Database:
    """One configured database: SQLite file or PostgreSQL server (and schema)."""

    url: str
    kind: str  # "sqlite" or "postgresql"
    sqlite_path: str | None = None
    host: str = ""
    port: str = "5432"
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = "public"

    @classmethod
    def from_url(cls, url: str) -> Database:
        """Parse `sqlite:///path.db` or `postgresql://user@host:5432/db[?schema=name]`."""
        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0]
        if scheme == "sqlite":
            path = url.split("://", 1)[1][1:] if "://" in url else ""
            if not path or path == ":memory:":
                raise ValidationError("database_url", "SQLite needs a file path: sqlite:///x.db")
            return cls(url=url, kind="sqlite", sqlite_path=path)
        if scheme in ("postgresql", "postgres"):
            schema = parse_qs(parts.query).get("schema", ["public"])[0]
            return cls(url=url, kind="postgresql", host=parts.hostname or "127.0.0.1",
                       port=str(parts.port or 5432), user=unquote(parts.username or ""),
                       password=unquote(parts.password or ""),
                       dbname=parts.path.lstrip("/"), schema=schema)
        raise ValidationError("database_url", f"unsupported database {scheme!r}: "
                              "use sqlite:///FILE or postgresql://USER@HOST:PORT/DB")

    @property
    def events_table(self) -> str:
        return "stored_events" if self.kind == "sqlite" else f"{APP_NAME.lower()}_events"

    @property
    def position(self) -> str:
        """The events table's column of log positions (eventsourcing's notification id)."""
        return "rowid" if self.kind == "sqlite" else "notification_id"

    @property
    def snapshots_table(self) -> str:
        return "stored_snapshots" if self.kind == "sqlite" else f"{APP_NAME.lower()}_snapshots"

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment eventsourcing's built-in recorders read."""
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            Path(self.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": self.sqlite_path, "SQLITE_LOCK_TIMEOUT": "30"}
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": self.dbname,
                "POSTGRES_HOST": self.host, "POSTGRES_PORT": self.port,
                "POSTGRES_USER": self.user, "POSTGRES_PASSWORD": self.password,
                "POSTGRES_SCHEMA": self.schema, "POSTGRES_LOCK_TIMEOUT": "30",
                "POSTGRES_POOL_SIZE": "4"}

    def create_engine(self, *, rebuildable: bool = False) -> sa.Engine:
        """A SQLAlchemy engine on the same database, for our own tables and raw checks.

        `rebuildable`: only for tables that can be rebuilt from the log (the read models,
        whose position moves in the same transaction as their rows). Their commits do not
        wait for the disk (SQLite `synchronous=NORMAL` in WAL mode, PostgreSQL
        `synchronous_commit=off`): a power cut may lose the last of them, never corrupt them,
        and the next catch-up applies again what was lost. Events are always committed by the
        library with the database's full durability.

        JSON columns are read by orjson (`ledger.jsontext.loads`, to the same values as the
        standard library): an audit-log page reads two per entry.
        """
        if self.kind == "sqlite":
            engine = sa.create_engine(f"sqlite:///{self.sqlite_path}",
                                      connect_args={"timeout": 30}, json_deserializer=loads)
            sa.event.listen(engine, "connect",
                            _sqlite_relaxed_pragmas if rebuildable else _sqlite_pragmas)
            return engine
        auth = self.user + (f":{self.password}" if self.password else "")
        url = f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{self.dbname}"
        options = f"-c search_path={self.schema} -c random_page_cost={RANDOM_PAGE_COST}"
        if rebuildable:
            options += " -c synchronous_commit=off"
        engine = sa.create_engine(url, connect_args={"options": options},
                                  json_deserializer=loads)
        # A read-model batch that meets a dead pooled connection fails, is logged and is
        # applied by the next catch-up (SQLAlchemy drops the connection): no ping at all.
        # Other work pings a connection that rested in the pool, not one in constant use.
        if not rebuildable:
            _ping_after_rest(engine)
        return engine

    def ensure_schema(self) -> None:
        """Create the PostgreSQL schema named in the URL, if it is not `public`."""
        if self.kind != "postgresql" or self.schema == "public":
            return
        engine = self.create_engine()
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        finally:
            engine.dispose()


def reads_only(engine: sa.Engine) -> sa.Engine:
    """The same engine (same pool) for connections that only read: on PostgreSQL they run in
    autocommit, so a read sends no BEGIN before its first statement and no ROLLBACK when the
    connection goes back to the pool (0.18-0.2 ms a connection on loopback, measured; an
    audit-log page opens two). Nothing is lost: at PostgreSQL's READ COMMITTED, statements in
    one transaction each see their own snapshot anyway. SQLite's driver opens no transaction
    for a SELECT, so there the engine is returned as it is."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _ping_after_rest(engine: sa.Engine) -> None:
    """SQLAlchemy's pre-ping, for connections that rested in the pool for `REST_BEFORE_PING`
    seconds: a server restart or a dropped connection shows there, and is answered by a new
    connection (a `DisconnectionError` on checkout makes the pool try again), while a busy
    server is not asked one extra round trip per checkout."""

    def rested(_dbapi_connection: Any, record: Any) -> None:
        record.info["rested_from"] = time.monotonic()

    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("rested_from", 0.0) < REST_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:  # gone, or unusable
            raise sa.exc.DisconnectionError(str(error)) from error

    sa.event.listen(engine, "connect", rested)
    sa.event.listen(engine, "checkin", rested)
    sa.event.listen(engine, "checkout", ping)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    sqlite_pragmas(dbapi_connection)


def sqlite_pragmas(dbapi_connection: object) -> None:
    """What every connection of ours to a SQLite file sets (the library's included)."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 32 MiB of pages per connection (the default is 2 MiB): a command writes a row into each
    # of the audit log's indexes, which on a large file otherwise reads pages back every time
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def _sqlite_relaxed_pragmas(dbapi_connection: object, record: object) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def protect_event_tables(db: Database, engine: sa.Engine) -> None:
    """Make the event and snapshot tables append-only: UPDATE, DELETE (and TRUNCATE) fail."""
    with engine.begin() as conn:
        if db.kind == "postgresql":  # several processes may start at once
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7318001)"))
        for table in (db.events_table, db.snapshots_table):
            if db.kind == "sqlite":
                for op in ("UPDATE", "DELETE"):
                    conn.execute(sa.text(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} "
                        f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only: "
                        f"{op} refused'); END"))
            else:
                _protect_postgres_table(conn, table)


def _protect_postgres_table(conn: sa.Connection, table: str) -> None:
    conn.execute(sa.text(
        "CREATE OR REPLACE FUNCTION ledger_forbid_mutation() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'table % is append-only: % refused', "
        "TG_TABLE_NAME, TG_OP; END $$"))
    triggers = {f"{table}_no_mutation": f"BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW",
                f"{table}_no_truncate": f"BEFORE TRUNCATE ON {table} FOR EACH STATEMENT"}
    for name, when in triggers.items():  # each on its own: one may have been dropped alone
        exists = conn.execute(sa.text(
            "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = :table AND t.tgname = :name AND c.relnamespace = "
            "current_schema()::regnamespace"), {"table": table, "name": name})
        if exists.first() is None:
            conn.execute(sa.text(f"CREATE TRIGGER {name} {when} "
                                 "EXECUTE FUNCTION ledger_forbid_mutation()"))
