"""Who is asking: a bearer token (systems) or a login session (people), and what role they have.

Writes through the API need a bearer token, so a browser session cannot be ridden by another site
(no CSRF on the API); reads accept either. The actor of every write is the account's, never the
request body's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user

from ledger.accounts import Account, Accounts, AuthenticationError
from web.errors import RoleRequired

LOGIN_LIMIT = "10 per minute"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
F = TypeVar("F", bound=Callable[..., Any])


class SessionUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of an account."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return self.account.name


def accounts() -> Accounts:
    return cast(Accounts, current_app.extensions["accounts"])


def current_account() -> Account:
    """The authenticated account of this request; AuthenticationError (401) otherwise."""
    if "account" in g:
        return cast(Account, g.account)
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError()
        account = accounts().by_token(token.strip())
    elif current_user.is_authenticated and request.method in SAFE_METHODS:
        account = current_user.account
    else:
        raise AuthenticationError()
    g.account = account
    return account


def authenticate() -> None:
    """A blueprint's before_request: 401 before any parameter of the request is looked at."""
    current_account()


def requires(*roles: str) -> Callable[[F], F]:
    """Only these roles may call the view (any authenticated role if none is named)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if roles and account.role not in roles:
                raise RoleRequired(account.role, roles)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _load_user(name: str) -> SessionUser | None:
    account = accounts().enabled(name)
    return SessionUser(account) if account is not None else None


def init_app(app: Flask) -> None:
    manager = LoginManager()
    manager.user_loader(_load_user)
    manager.init_app(app)
    # In-memory counters: per process, which is enough to slow a password guesser down.
    app.extensions["ledger_limiter"] = Limiter(get_remote_address, app=app,
                                               storage_uri="memory://", default_limits=[],
                                               headers_enabled=True)


def login_limit() -> Any:
    """A context manager counting one login attempt against LOGIN_LIMIT (429 past it)."""
    limiter = current_app.extensions["ledger_limiter"]
    return limiter.limit(LOGIN_LIMIT, scope="login")
