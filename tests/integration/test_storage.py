"""The ledger's own engine on PostgreSQL: a pooled connection that rested is pinged before use,
so a connection the server dropped meanwhile is replaced instead of failing the request."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ledger import storage
from ledger.storage import Database
from tests.conftest import POSTGRES_URL, _check_postgres, _drop_schema, _postgres_schema_url


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT pg_backend_pid()")))


def test_a_rested_connection_the_server_dropped_is_replaced_on_checkout(monkeypatch):
    _check_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = Database.from_url(_postgres_schema_url(schema)).create_engine()
    admin = Database.from_url(POSTGRES_URL).create_engine()
    try:
        dropped = _backend_pid(engine)  # the one connection now in the pool
        with admin.connect() as conn:  # the server drops it, as a restart would
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        monkeypatch.setattr(storage, "REST_BEFORE_PING", 0.0)  # it has rested long enough

        replaced = _backend_pid(engine)

        assert replaced != dropped
    finally:
        engine.dispose()
        admin.dispose()
        _drop_schema(schema)


def test_a_busy_connection_is_not_pinged(monkeypatch):
    """Under load connections go straight back to work: no extra round trip per checkout."""
    _check_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = Database.from_url(_postgres_schema_url(schema)).create_engine()
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection))
    try:
        for _ in range(5):
            _backend_pid(engine)

        assert pings == []  # a fresh connection, then the same one, back within the rest
    finally:
        engine.dispose()
        _drop_schema(schema)
