"""Accounts of the people and systems that use the ledger: roles, hashed passwords, API tokens.

Kept in two SQL tables beside the events (`accounts`, `account_tokens`), on the ledger's engine.
Passwords are stored as salted scrypt hashes; API tokens are random and stored only as their
SHA-256, so a copy of the database gives no usable credential. No Flask here: the CLI and the web
both use this module.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ledger.commands import ROLES
from ledger.domain.errors import DuplicateError, LedgerError, ValidationError
from ledger.storage import reads_only

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "plt_"
DEFAULT_ORGANISATIONS = {
    "clerk": "云南省人力资源和社会保障厅",
    "finance": "云南省财政厅",
    "auditor": "云南省审计厅",
    "reviewer": "云南省纪委监委驻人社厅纪检监察组",
    "admin": "Park Ledger 系统管理",
}
# One account per role for the demo; the passwords are printed in the README, so never use
# them outside a demo database.
DEMO_ACCOUNTS = [(f"demo.{role}", role, f"demo-{role}-pass") for role in ROLES]

metadata = sa.MetaData()
accounts_table = sa.Table(
    "accounts", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("organisation", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
tokens_table = sa.Table(
    "account_tokens", metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("account", sa.String(64), sa.ForeignKey("accounts.name"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class AuthenticationError(LedgerError):
    """Wrong name, password or token, or a disabled account (never says which)."""

    code = "unauthorized"

    def __init__(self) -> None:
        super().__init__("authentication required: a valid bearer token or login")


class AccountNotFoundError(LedgerError):
    """No account has this name."""

    code = "account_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no account named {name!r}", field="name")


@dataclass(frozen=True)
class Account:
    """An authenticated user or system; `actor` is what its writes record."""

    name: str
    role: str
    organisation: str
    disabled: bool = False

    @property
    def actor(self) -> dict[str, str]:
        return {"user": self.name, "role": self.role, "organisation": self.organisation}

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "organisation": self.organisation,
                "disabled": self.disabled}


class Accounts:
    """The account store on one SQLAlchemy engine (the ledger's)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.reader = reads_only(engine)  # look-ups (a bearer token's on every API request)
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # several workers may start at once
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7318003)"))
            for table in metadata.sorted_tables:  # IF NOT EXISTS: SQLite starts race too
                conn.execute(sa.schema.CreateTable(table, if_not_exists=True))

    def add(self, name: str, role: str, password: str | None = None,
            organisation: str | None = None) -> Account:
        """Create an account; a password is needed only for UI login (systems use tokens)."""
        _check_name(name)
        if role not in ROLES:
            raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
        if password is not None and len(password) < MIN_PASSWORD:
            raise ValidationError("password", f"must have at least {MIN_PASSWORD} characters")
        account = Account(name, role, (organisation or DEFAULT_ORGANISATIONS[role]).strip())
        if not account.organisation:
            raise ValidationError("organisation", "must not be empty")
        with self.engine.begin() as conn:
            if conn.execute(sa.select(accounts_table.c.name)
                            .where(accounts_table.c.name == name)).first():
                raise DuplicateError(f"account {name!r} already exists", field="name")
            conn.execute(accounts_table.insert().values(
                name=name, role=role, organisation=account.organisation, disabled=False,
                password_hash=generate_password_hash(password) if password else None,
                created_at=datetime.now(UTC)))
        return account

    def get(self, name: str) -> Account:
        if not NAME.fullmatch(name):
            raise AccountNotFoundError(name)
        with self.reader.connect() as conn:
            row = conn.execute(sa.select(accounts_table)
                               .where(accounts_table.c.name == name)).first()
        if row is None:
            raise AccountNotFoundError(name)
        return _account(row)

    def all(self) -> list[Account]:
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(accounts_table).order_by(accounts_table.c.name)).all()
        return [_account(row) for row in rows]

    def disable(self, name: str) -> Account:
        """Disable an account: its password and every token stop working at once."""
        self.get(name)
        with self.engine.begin() as conn:
            conn.execute(accounts_table.update().where(accounts_table.c.name == name)
                         .values(disabled=True))
        return self.get(name)

    def set_password(self, name: str, password: str) -> None:
        self.get(name)
        if len(password) < MIN_PASSWORD:
            raise ValidationError("password", f"must have at least {MIN_PASSWORD} characters")
        with self.engine.begin() as conn:
            conn.execute(accounts_table.update().where(accounts_table.c.name == name)
                         .values(password_hash=generate_password_hash(password)))

    def issue_token(self, name: str) -> str:
        """A new bearer token for the account; only its hash is stored, so show it once."""
        account = self.get(name)
        if account.disabled:
            raise ValidationError("name", f"account {name!r} is disabled")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(tokens_table.insert().values(
                token_sha256=_token_hash(token), account=name, created_at=datetime.now(UTC)))
        return token

    def login(self, name: str, password: str) -> Account:
        """The account if the password matches and it is enabled; AuthenticationError else."""
        if not NAME.fullmatch(name):
            raise AuthenticationError()
        with self.reader.connect() as conn:
            row = conn.execute(sa.select(accounts_table)
                               .where(accounts_table.c.name == name)).first()
        stored = row.password_hash if row is not None else None
        # Check a hash even for an unknown name, so timing does not tell which names exist.
        valid = check_password_hash(stored or _dummy_hash(), password)
        if row is None or stored is None or not valid or row.disabled:
            raise AuthenticationError()
        return _account(row)

    def by_token(self, token: str) -> Account:
        """The enabled account holding this bearer token; AuthenticationError else."""
        if not token.startswith(TOKEN_PREFIX):
            raise AuthenticationError()
        digest = _token_hash(token)
        query = (sa.select(accounts_table, tokens_table.c.token_sha256)
                 .join(tokens_table, tokens_table.c.account == accounts_table.c.name)
                 .where(tokens_table.c.token_sha256 == digest))
        with self.reader.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.disabled or not hmac.compare_digest(row.token_sha256, digest):
            raise AuthenticationError()
        return _account(row)

    def enabled(self, name: str) -> Account | None:
        """The account if it exists and is enabled (for a session that outlives a disable)."""
        try:
            account = self.get(name)
        except AccountNotFoundError:
            return None
        return None if account.disabled else account


def ensure_demo_accounts(ledger: Any) -> list[tuple[str, str, str]]:
    """One account per role (demo.clerk / demo-clerk-pass, ...) on the ledger's database;
    existing ones are left alone. Returns (name, role, password) for each."""
    accounts = Accounts(ledger.engine)
    for name, role, password in DEMO_ACCOUNTS:
        try:
            accounts.get(name)
        except AccountNotFoundError:
            accounts.add(name, role, password)
    return list(DEMO_ACCOUNTS)


def _check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise ValidationError("name", "2-64 characters: lower-case letters, digits, '.', '_', "
                              "'-', starting with a letter or digit")


def _account(row: Any) -> Account:
    return Account(row.name, row.role, row.organisation, bool(row.disabled))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(8))
