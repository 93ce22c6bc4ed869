"""Accounts: roles, hashed passwords, hashed tokens, disabling, the demo accounts, the CLI."""

from __future__ import annotations

import argparse
import io

import pytest
import sqlalchemy as sa

from ledger.accounts import (
    DEMO_ACCOUNTS,
    AccountNotFoundError,
    Accounts,
    AuthenticationError,
    accounts_table,
    ensure_demo_accounts,
    tokens_table,
)
from ledger.cli_user import register, run
from ledger.commands import ROLES
from ledger.domain.errors import DuplicateError, ValidationError


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


def cli(config, *argv, stdin=""):
    parser = argparse.ArgumentParser(prog="ledger")
    register(parser.add_subparsers(dest="command", required=True))
    out = io.StringIO()
    status = run(parser.parse_args(["user", *argv]), config, io.StringIO(stdin), out)
    return status, out.getvalue()


def test_cli_adds_lists_issues_token_and_disables(config, ledger, accounts):
    assert cli(config, "add", "wang.finance", "--role", "finance", "--password-stdin",
               stdin="correct horse\n")[0] == 0

    status, token = cli(config, "token", "wang.finance")
    listing = cli(config, "list")[1]
    disabled = cli(config, "disable", "wang.finance")[0]

    assert status == 0
    assert "wang.finance\tfinance\tactive" in listing
    assert disabled == 0
    assert accounts.get("wang.finance").disabled
    with pytest.raises(AuthenticationError):
        accounts.by_token(token.strip())


def test_cli_reports_an_unknown_account(config, ledger, capsys):
    status, _out = cli(config, "token", "nobody")

    assert status == 1
    assert "no account named 'nobody'" in capsys.readouterr().err


def test_unknown_account_is_not_found(accounts):
    with pytest.raises(AccountNotFoundError):
        accounts.get("nobody")
