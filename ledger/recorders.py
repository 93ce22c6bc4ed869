"""The library's event recorders, with one addition: work done in the events' own transaction.

`Application.save(..., in_transaction=callback)` passes its keyword arguments down to the
recorder's `insert_events` (as the library does for `tracking=` in its ProcessRecorder). These
recorders call `callback(cursor, notification_ids)` once the events are inserted and their log
positions are known, before the commit: the ledger writes its read models there, so a command
commits its events and their read-model rows together, in one transaction and one wait for
the disk. Selected with the library's `APPLICATION_RECORDER_TOPIC` setting (ledger/storage.py).

To give up, the callback raises `RollBack`: the transaction is rolled back, events and all,
and the save raises it (the ledger then saves the events alone, and its read models catch up
from the log). It is a BaseException because the library's PostgreSQL recorder catches every
`Exception` raised after its insert and re-raises it only once it has *committed*.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing import sqlite as es_sqlite
from eventsourcing.persistence import InterfaceError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
)
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row

from ledger.storage import sqlite_pragmas


class RollBack(BaseException):  # noqa: N818 - named for what it does, like GeneratorExit
    """Raised by an in-transaction callback: roll the whole transaction back."""


InTransaction = Callable[[Any, Sequence[int]], None]
KEYWORD = "in_transaction"
STATEMENTS_KEPT = 256  # prepared statements each SQLite connection keeps


class _SQLitePool(SQLiteConnectionPool):
    """The library's SQLite pool, with connections as the ledger's own engine makes them.

    The library opens each connection with `cached_statements=True`, i.e. a cache of one
    prepared statement: every other statement is parsed and planned again each time. A
    command now runs a dozen statements on this connection (its events and its read-model
    rows), so it keeps `STATEMENTS_KEPT` of them, and gets the page cache and lock wait of
    the ledger's engine (ledger/storage.py)."""

    def _create_connection(self) -> SQLiteConnection:
        try:
            connection = sqlite3.connect(
                database=self.db_name, uri=True, check_same_thread=False,
                isolation_level=None, cached_statements=STATEMENTS_KEPT,
                timeout=self.lock_timeout or es_sqlite.SQLITE3_DEFAULT_LOCK_TIMEOUT)
        except (sqlite3.Error, TypeError) as error:
            raise InterfaceError(error) from error
        sqlite_pragmas(connection)  # WAL, as the library switches a file database to
        self.is_journal_mode_wal = True
        connection.row_factory = sqlite3.Row  # what the library's recorders read rows as
        return SQLiteConnection(sqlite_conn=connection, max_age=self.max_age)


class SQLiteFactory(es_sqlite.SQLiteFactory):
    """The library's SQLite persistence, on connections of `_SQLitePool`."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        given = self.datastore.pool  # no connection made yet
        self.datastore.pool = _SQLitePool(
            db_name=given.db_name, lock_timeout=given.lock_timeout, pool_size=given.pool_size,
            max_overflow=given.max_overflow, pool_timeout=given.pool_timeout,
            max_age=given.max_age, pre_ping=given.pre_ping)
        given.close()


class SQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, calling back inside the transaction."""

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        callback: InTransaction | None = kwargs.get(KEYWORD)
        if callback is not None and ids:
            cursor = c.sqlite_cursor.connection.cursor()
            cursor.row_factory = None  # plain tuples, not the library's sqlite3.Row
            callback(cursor, ids)
        return ids


class PostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, calling back inside the transaction
    (in the library's pipeline, after the insert has been synced and its ids fetched)."""

    def _fetch_ids_after_insert_events(self, curs: Cursor[DictRow],
                                       stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        callback: InTransaction | None = kwargs.get(KEYWORD)
        if callback is not None and ids:
            with curs.connection.cursor(row_factory=tuple_row) as cursor:
                callback(cursor, ids)
        return ids


def settings(kind: str) -> dict[str, str]:
    """The library's settings that select these classes for a database kind."""
    if kind == "sqlite":
        return {"PERSISTENCE_MODULE": _topic(SQLiteFactory),
                "APPLICATION_RECORDER_TOPIC": _topic(SQLiteRecorder)}
    return {"APPLICATION_RECORDER_TOPIC": _topic(PostgresRecorder)}


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"
