"""The ledger's own engine on PostgreSQL: a pooled connection that rested is pinged before use,
so a connection the server dropped meanwhile is replaced instead of failing the request; its
sessions plan for cached storage."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from config import Config
from ledger import storage
from ledger.application import Ledger
from ledger.projections import audit_log
from ledger.projections.audit_log import AuditFilter
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


def test_a_page_of_one_prefecture_is_read_from_its_index_not_by_walking_the_log():
    """The ledger's sessions plan for cached storage (RANDOM_PAGE_COST): with the server's
    default they walk the log in position order to find a prefecture whose entries come late."""
    _check_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    ledger = Ledger(Config(database_url=_postgres_schema_url(schema)))
    try:
        with ledger.engine.begin() as conn:  # 30,000 entries; 530100's are the last 1,000
            conn.execute(sa.text(
                "INSERT INTO rm_audit_log (position, park_code, version, event_type, "
                "prefecture, effective_on, recorded_at, actor_user, actor_role, "
                "actor_organisation, flag_count, record) SELECT n, 'P-' || (n / 100), n % 100, "
                "'MaterialsSupplemented', CASE WHEN n > 29000 THEN '530100' ELSE "
                "'53' || lpad((n % 15 + 3)::text, 2, '0') || '00' END, DATE '2026-01-05', "
                "TIMESTAMP '2026-01-05 08:00', 'clerk', 'clerk', 'org', 0, "
                "json_build_object('position', n, 'fields', json_build_object()) "
                "FROM generate_series(1, 30000) AS n"))
            conn.execute(sa.text("ANALYZE rm_audit_log"))
        statements: list[tuple[str, object]] = []

        def seen(conn, cursor, statement, parameters, *rest):
            if statement.lstrip().startswith("SELECT rm_audit_log.position"):
                statements.append((statement, parameters))

        sa.event.listen(ledger.engine, "before_cursor_execute", seen)
        page = audit_log.search(ledger, AuditFilter(prefecture="530100"), limit=50)
        sa.event.remove(ledger.engine, "before_cursor_execute", seen)
        (statement, parameters), *_ = statements
        with ledger.engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}",
                                        parameters).scalar()

        assert [e["position"] for e in page["entries"]] == list(range(29001, 29051))
        scans = _scans(plan[0]["Plan"])
        assert scans and all(s.get("Index Name", "").startswith("rm_audit_log_prefecture")
                             for s in scans), scans
    finally:
        ledger.close()
        _drop_schema(schema)


def _scans(node: dict) -> list[dict]:
    here = [node] if node["Node Type"].endswith("Scan") else []
    return here + [s for child in node.get("Plans", []) for s in _scans(child)]


def test_queries_that_only_read_open_no_transaction_and_writes_still_do(ledger):
    """The read-only queries (an API page's bearer token, the audit log, as known at, the
    read models' pages) run in autocommit on PostgreSQL: no BEGIN before them, no ROLLBACK
    after (ledger/storage.py `reads_only`); a write on the same pool is still one transaction.
    SQLite's driver opens no transaction for a SELECT: its reader is the engine itself."""
    from datetime import UTC, datetime

    from ledger import timetravel
    from ledger.accounts import Accounts
    from ledger.demo import demo_commands
    from ledger.importer import import_commands
    from ledger.projections import park_status, subsidies

    assert import_commands(ledger, demo_commands()).ok
    accounts = Accounts(ledger.engine)
    accounts.add("reader.one", "auditor")
    token = accounts.issue_token("reader.one")
    if ledger.database.kind == "sqlite":
        assert ledger.reader is ledger.engine and accounts.reader is ledger.engine
        assert ledger.projections.reader is ledger.read_model_engine
        return
    states: list[tuple[str, str]] = []

    def seen(conn, cursor, statement, *rest):
        status = conn.connection.dbapi_connection.info.transaction_status.name
        states.append((status, statement.split()[0]))

    sa.event.listen(ledger.engine, "after_cursor_execute", seen)
    sa.event.listen(ledger.read_model_engine, "after_cursor_execute", seen)
    try:
        assert accounts.by_token(token).name == "reader.one"
        assert audit_log.search(ledger, AuditFilter(prefecture="530100"))["total"] > 0
        assert timetravel.as_known_at(ledger, "KM-2022-01", datetime.now(UTC))["version"] > 0
        assert park_status.parks_page(ledger, None)[1] > 0
        assert subsidies.entries(ledger, "KM-2022-01")
        assert ledger.projections.positions()["audit_log"] > 0
        reads = list(states)
        states.clear()
        with ledger.engine.begin() as conn:  # a connection the readers used, back in the pool
            conn.execute(sa.select(sa.literal(1)))
    finally:
        sa.event.remove(ledger.engine, "after_cursor_execute", seen)
        sa.event.remove(ledger.read_model_engine, "after_cursor_execute", seen)

    assert len(reads) >= 7 and all(status == "IDLE" for status, _ in reads), reads
    assert states == [("INTRANS", "SELECT")]
