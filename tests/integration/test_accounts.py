"""Accounts: roles, hashed passwords, hashed tokens, disabling, the demo accounts, the CLI."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from config import Config
from ledger.accounts import (
    DEMO_ACCOUNTS,
    AccountNotFoundError,
    Accounts,
    AuthenticationError,
    accounts_table,
    ensure_demo_accounts,
    tokens_table,
)
from ledger.application import Ledger
from ledger.commands import ROLES
from ledger.domain.errors import DuplicateError, ValidationError
from tests.processes import run_ledger


@pytest.fixture
def accounts(ledger):
    return Accounts(ledger.engine)


def test_token_identifies_its_account_and_is_stored_only_hashed(accounts, ledger):
    accounts.add("li.clerk", "clerk")

    token = accounts.issue_token("li.clerk")

    assert accounts.by_token(token).actor == {
        "user": "li.clerk", "role": "clerk", "organisation": "云南省人力资源和社会保障厅"}
    with ledger.engine.connect() as conn:
        stored = conn.execute(sa.select(tokens_table.c.token_sha256)).scalar_one()
    assert token not in stored and len(stored) == 64


def test_password_login_checks_the_hash(accounts, ledger):
    accounts.add("li.clerk", "clerk", "correct horse")

    assert accounts.login("li.clerk", "correct horse").role == "clerk"
    with pytest.raises(AuthenticationError):
        accounts.login("li.clerk", "Correct horse")
    with ledger.engine.connect() as conn:
        assert "correct horse" not in conn.execute(
            sa.select(accounts_table.c.password_hash)).scalar_one()


def test_disabled_account_loses_password_and_tokens(accounts):
    accounts.add("li.clerk", "clerk", "correct horse")
    token = accounts.issue_token("li.clerk")

    accounts.disable("li.clerk")

    with pytest.raises(AuthenticationError):
        accounts.by_token(token)
    with pytest.raises(AuthenticationError):
        accounts.login("li.clerk", "correct horse")
    with pytest.raises(ValidationError):
        accounts.issue_token("li.clerk")


@pytest.mark.parametrize(("name", "role", "password", "field"), [
    ("li.clerk", "emperor", None, "role"), ("Li Clerk", "clerk", None, "name"),
    ("x", "clerk", None, "name"), ("li.clerk\n", "clerk", None, "name"),
    ("li.clerk", "clerk", "short", "password"),
])
def test_bad_account_is_refused_naming_the_field(accounts, name, role, password, field):
    with pytest.raises(ValidationError) as refused:
        accounts.add(name, role, password)

    assert refused.value.field == field
    assert accounts.all() == []


def test_account_name_is_unique(accounts):
    accounts.add("li.clerk", "clerk")

    with pytest.raises(DuplicateError):
        accounts.add("li.clerk", "finance")


def test_unknown_or_forged_token_is_refused(accounts):
    accounts.add("li.clerk", "clerk")
    token = accounts.issue_token("li.clerk")

    for forged in (token[:-1], "plt_" + "A" * 43, "", token + "x"):
        with pytest.raises(AuthenticationError):
            accounts.by_token(forged)


def test_demo_accounts_one_per_role_and_idempotent(ledger, accounts):
    ensure_demo_accounts(ledger)
    ensure_demo_accounts(ledger)

    assert sorted(a.role for a in accounts.all()) == sorted(ROLES)
    for name, _role, password in DEMO_ACCOUNTS:
        assert accounts.login(name, password).name == name


def test_cli_adds_lists_issues_token_and_disables(database_url, ledger, accounts):
    added = run_ledger("user", "add", "wang.finance", "--role", "finance", "--password-stdin",
                       database_url=database_url, stdin="correct horse\n")
    logged_in = accounts.login("wang.finance", "correct horse")
    token = run_ledger("user", "token", "wang.finance", database_url=database_url)
    listing = run_ledger("user", "list", database_url=database_url)
    disabled = run_ledger("user", "disable", "wang.finance", database_url=database_url)

    assert added.returncode == 0, added.stderr
    assert logged_in.role == "finance"
    assert token.returncode == 0 and token.stdout.startswith("plt_")
    assert "wang.finance\tfinance\tactive\t云南省财政厅" in listing.stdout
    assert disabled.returncode == 0
    with pytest.raises(AuthenticationError):
        accounts.by_token(token.stdout.strip())


def test_cli_refuses_an_unknown_account_or_a_bad_role(database_url, ledger):
    unknown = run_ledger("user", "token", "nobody", database_url=database_url)
    bad_role = run_ledger("user", "add", "x.user", "--role", "emperor", "--no-password",
                          database_url=database_url)

    assert unknown.returncode == 1
    assert "no account named 'nobody'" in unknown.stderr
    assert bad_role.returncode == 2


def test_unknown_account_is_not_found(accounts):
    with pytest.raises(AccountNotFoundError):
        accounts.get("nobody")


def test_demo_command_sets_up_one_account_per_role(database_url):
    done = run_ledger("demo", database_url=database_url)

    assert done.returncode == 0, done.stderr
    assert "demo.reviewer / demo-reviewer-pass" in done.stdout
    ledger = Ledger(Config(database_url=database_url))
    try:
        roles = sorted(a.role for a in Accounts(ledger.engine).all())
    finally:
        ledger.close()
    assert roles == sorted(ROLES)


def test_accounts_tables_are_created_once_by_workers_starting_together(ledger):
    errors = []
    barrier = threading.Barrier(4)

    def start() -> None:
        engine = ledger.database.create_engine()
        try:
            barrier.wait()
            Accounts(engine)
        except Exception as error:  # noqa: BLE001 - the test reports any failure
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Accounts(ledger.engine).all() == []
