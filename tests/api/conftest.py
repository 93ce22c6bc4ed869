"""Fixtures for the JSON API: the app around the `ledger` fixture (SQLite and PostgreSQL), a
test client, and one account with a bearer token per role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Config
from ledger.accounts import Accounts
from ledger.application import Ledger
from ledger.commands import ROLES
from tests.api.http import HttpClient, serving
from web import create_app

PASSWORD = "correct horse battery"
USERS = {"clerk": "li.clerk", "finance": "wang.finance", "auditor": "zhao.audit",
         "reviewer": "sun.review", "admin": "qian.admin"}


@pytest.fixture
def app(config: Config, ledger: Ledger) -> Flask:
    app = create_app(config, ledger=ledger)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(params=["test-client", "http"])
def any_client(request: pytest.FixtureRequest, app: Flask) -> Iterator[Any]:
    """Flask's test client, then a client of the same app behind a real HTTP server."""
    if request.param == "test-client":
        yield app.test_client()
        return
    with serving(app) as base_url:
        client = HttpClient(base_url)
        yield client
        client.close()


@pytest.fixture
def accounts(app: Flask) -> Accounts:
    return app.extensions["accounts"]


@pytest.fixture
def tokens(accounts: Accounts) -> dict[str, str]:
    """A bearer token for one account of each role."""
    result = {}
    for role in ROLES:
        accounts.add(USERS[role], role)
        result[role] = accounts.issue_token(USERS[role])
    return result


@pytest.fixture
def auth(tokens: dict[str, str]) -> Any:
    """auth("clerk") -> the Authorization header of the clerk's account."""

    def header(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    return header
