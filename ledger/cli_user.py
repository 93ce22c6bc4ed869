"""`ledger user …`: manage accounts from the command line.

`register(subparsers)` adds the `user` command to the `ledger` CLI's argparse tree; until then
`python -m ledger.cli_user add NAME --role ROLE` does the same.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from config import Config
from ledger.accounts import Accounts
from ledger.commands import ROLES
from ledger.domain.errors import LedgerError, ValidationError
from ledger.storage import Database


def register(subparsers: Any) -> None:
    """Add `user add|list|disable|token` under the given argparse subparsers."""
    user = subparsers.add_parser("user", help="manage accounts (people and systems)")
    actions = user.add_subparsers(dest="user_action", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--organisation", help="defaults to the role's usual department")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.add_argument("--no-password", action="store_true",
                     help="no UI login: the account uses API tokens only")
    actions.add_parser("list", help="list accounts")
    disable = actions.add_parser("disable", help="disable an account (password and tokens)")
    disable.add_argument("name")
    token = actions.add_parser("token", help="print a new bearer token for an account")
    token.add_argument("name")
    user.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config | None = None, stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout) -> int:
    """Carry out one `ledger user …` command; errors go to stderr with exit status 1."""
    accounts = _accounts(config or Config.from_env())
    try:
        if args.user_action == "add":
            password = None if args.no_password else _password(args.password_stdin, stdin)
            account = accounts.add(args.name, args.role, password, args.organisation)
            print(f"added {account.name} ({account.role}, {account.organisation})", file=stdout)
        elif args.user_action == "list":
            for account in accounts.all():
                state = "disabled" if account.disabled else "active"
                print(f"{account.name}\t{account.role}\t{state}\t{account.organisation}",
                      file=stdout)
        elif args.user_action == "disable":
            accounts.disable(args.name)
            print(f"disabled {args.name}", file=stdout)
        else:
            print(accounts.issue_token(args.name), file=stdout)
    except LedgerError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    finally:
        accounts.engine.dispose()
    return 0


def _accounts(config: Config) -> Accounts:
    database = Database.from_url(config.database_url)
    database.ensure_schema()
    if database.sqlite_path:
        Path(database.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    return Accounts(database.create_engine())


def _password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValidationError("password", "the two entries differ")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledger")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
