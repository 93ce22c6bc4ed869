"""`ledger user add|list|disable|token`: accounts from the command line (registered in cli.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from config import Config
from ledger.accounts import Accounts
from ledger.domain.errors import LedgerError, ValidationError
from ledger.storage import Database

ACTIONS = ("add", "list", "disable", "token")


def run_user(args: argparse.Namespace, config: Config, stdin: TextIO | None = None,
             stdout: TextIO | None = None) -> int:
    """Carry out one `ledger user ACTION`; a refusal goes to stderr with exit status 1."""
    out = stdout or sys.stdout
    if args.action != "list" and not args.name:
        print(f"ledger user {args.action}: NAME is required", file=sys.stderr)
        return 2
    if args.action == "add" and not args.role:
        print("ledger user add: --role is required", file=sys.stderr)
        return 2
    accounts = _accounts(config)
    try:
        if args.action == "add":
            password = None if args.no_password else _password(args.password_stdin,
                                                               stdin or sys.stdin)
            account = accounts.add(args.name, args.role, password, args.organisation)
            print(f"added {account.name} ({account.role}, {account.organisation})", file=out)
        elif args.action == "list":
            for account in accounts.all():
                state = "disabled" if account.disabled else "active"
                print(f"{account.name}\t{account.role}\t{state}\t{account.organisation}",
                      file=out)
        elif args.action == "disable":
            accounts.disable(args.name)
            print(f"disabled {args.name}", file=out)
        else:
            print(accounts.issue_token(args.name), file=out)
    except LedgerError as error:
        print(f"ledger user {args.action}: {error.message}", file=sys.stderr)
        return 1
    finally:
        accounts.engine.dispose()
    return 0


def _accounts(config: Config) -> Accounts:
    database = Database.from_url(config.database_url)
    database.ensure_schema()
    database.eventsourcing_env()  # creates the SQLite file's folder
    return Accounts(database.create_engine())


def _password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValidationError("password", "the two entries differ")
    return first
