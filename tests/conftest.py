"""Fixtures shared by every test: a real ledger on SQLite and on PostgreSQL, and a movable clock.

PostgreSQL tests never skip themselves: the server named by LEDGER_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test) must be up, or those tests fail and say how to start it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from config import Config
from ledger.application import Ledger

POSTGRES_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
DATABASES = ["sqlite", "postgres"]


class Clock:
    """A clock tests can set and move; the ledger reads its recorded time from it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))


def _postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?schema={schema}"


def _drop_schema(schema: str) -> None:
    engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def _check_postgres() -> None:
    engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable ({error.orig}); start it "
                    "with: pg_ctlcluster --skip-systemctl-redirect 15 main start", pytrace=False)
    finally:
        engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'ledger.db'}"
        return
    _check_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield _postgres_schema_url(schema)
    _drop_schema(schema)


@pytest.fixture
def config(database_url: str) -> Config:
    return Config(database_url=database_url)


@pytest.fixture
def ledger(config: Config, clock: Clock) -> Iterator[Ledger]:
    """The application service on a fresh database of each kind."""
    app = Ledger(config, clock=clock)
    yield app
    app.close()


@pytest.fixture
def sqlite_ledger(tmp_path: pytest.TempPathFactory, clock: Clock) -> Iterator[Ledger]:
    """The application on SQLite only, for pure domain-rule tests that need no second run."""
    app = Ledger(Config(database_url=f"sqlite:///{tmp_path}/ledger.db"), clock=clock)
    yield app
    app.close()
