"""docs/check_ledger.py, written from docs/integrity.md alone, agrees with `ledger verify` and
`ledger digest` on real ledgers, and both catch a row changed by hand past the triggers."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ledger.application import Ledger
from ledger.demo import demo_commands
from ledger.importer import import_commands
from tests.processes import run_checker, run_ledger


def drop_append_only_triggers(ledger: Ledger) -> None:
    """What a tamperer with database rights would do first (the triggers refuse UPDATE)."""
    table = ledger.database.events_table
    with ledger.engine.begin() as conn:
        if ledger.database.kind == "sqlite":
            conn.execute(sa.text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(sa.text(f"DROP TRIGGER {table}_no_delete"))
        else:
            conn.execute(sa.text(f"DROP TRIGGER {table}_no_mutation ON {table}"))


def position_column(ledger: Ledger) -> str:
    return "rowid" if ledger.database.kind == "sqlite" else "notification_id"


def tamper(ledger: Ledger, code: str, version: int, old: bytes, new: bytes) -> None:
    """Replace bytes in the stored state of one park event, by hand."""
    table = ledger.database.events_table
    with ledger.engine.begin() as conn:
        rows = conn.execute(sa.text(
            f"SELECT {position_column(ledger)}, state FROM {table} "
            f"WHERE originator_version = :v AND topic LIKE 'ledger.domain.park:Park.%'"),
            {"v": version}).all()
        (position, state), = [(p, bytes(s)) for p, s in rows
                              if json.loads(bytes(s))["park_code"] == code]
        assert old in state
        conn.execute(sa.text(f"UPDATE {table} SET state = :s WHERE "
                             f"{position_column(ledger)} = :p"),
                     {"s": state.replace(old, new), "p": position})


@pytest.fixture
def demo_ledger(ledger: Ledger) -> Ledger:
    assert import_commands(ledger, demo_commands()).ok
    return ledger


def test_checker_and_ledger_digest_agree_on_a_clean_ledger(demo_ledger, database_url):
    digest = run_ledger("digest", database_url=database_url)

    status, checked = run_checker(database_url)

    assert digest.returncode == 0 and status == 0
    assert checked["ok"] is True and checked["parks"] == 6
    assert checked["digest"] == json.loads(digest.stdout)
    assert checked["digest"]["events"] == 91


def test_amount_changed_by_hand_is_named_by_verify_and_by_the_checker(demo_ledger, database_url):
    """The Art. 9 subsidy of PE-2022-01 (its version 11) rewritten to ¥200 in the stored row."""
    drop_append_only_triggers(demo_ledger)
    tamper(demo_ledger, "PE-2022-01", 11, b'"2000000.00"', b'"200.00"')

    verified = run_ledger("verify", database_url=database_url)
    status, checked = run_checker(database_url)

    assert verified.returncode == 1
    assert "verification FAILED at park PE-2022-01 version 11" in verified.stderr
    failure = json.loads(verified.stdout)["first_failure"]
    assert (failure["park_code"], failure["version"]) == ("PE-2022-01", 11)
    assert failure["problem"].startswith("hash mismatch")
    assert status == 1 and checked["first_failure"] == failure
    assert run_ledger("digest", database_url=database_url).returncode == 1


def test_event_deleted_by_hand_breaks_the_chain_at_the_next_version(demo_ledger, database_url):
    """DL-2022-01's upheld objection (version 9) deleted from the middle of its history."""
    drop_append_only_triggers(demo_ledger)
    table = demo_ledger.database.events_table
    with demo_ledger.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {table} WHERE originator_version = 9 AND "
                             "topic = 'ledger.domain.park:Park.ObjectionResolved'"))

    verified = run_ledger("verify", database_url=database_url)
    status, checked = run_checker(database_url)

    failure = json.loads(verified.stdout)["first_failure"]
    assert verified.returncode == 1 and status == 1
    assert failure == checked["first_failure"]
    assert failure["park_code"] == "DL-2022-01" and failure["problem"] == "version follows 8"
