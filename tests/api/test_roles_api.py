"""The role matrix: every endpoint of the OpenAPI document × every role (and no account).

Commands follow the contract's roles (DESIGN.md): auditors, reviewers and admins write no domain
event except that an auditor closes a finding; account management is for admins; every role
reads. An endpoint added without a row here fails `test_matrix_covers_every_endpoint`."""

from __future__ import annotations

import pytest

from ledger.commands import COMMANDS, ROLES
from tests.api.conftest import USERS
from tests.api.payloads import CODE, body, to_approved
from tests.builders import event_count

ADMIN_ONLY = {("get", "/api/v1/accounts"), ("post", "/api/v1/accounts"),
              ("post", "/api/v1/accounts/{name}/disable"),
              ("post", "/api/v1/accounts/{name}/tokens")}
PUBLIC = {("post", "/api/v1/session"), ("delete", "/api/v1/session")}
COMMAND_PREFIX = "/api/v1/commands/"
METHODS = ("get", "post", "put", "patch", "delete")
QUERY = {"/api/v1/parks/{park_code}/as-known-at": {"at": "2026-11-20T10:00:00+08:00"},
         "/api/v1/parks/{park_code}/as-effective-on": {"on": "2026-03-06"},
         "/api/v1/parks/{park_code}/diff": {"before": "2026-03-01", "after": "2026-03-10"}}


@pytest.fixture
def client(any_client):
    """Every test here runs through the test client and through a real HTTP server."""
    return any_client


def operations(client):
    spec = client.get("/api/openapi.json").get_json()
    return [(method, path) for path, item in spec["paths"].items() for method in item
            if method in METHODS]


def expected_roles(method, path):
    """The roles that may use an operation; None for operations open to anyone."""
    if (method, path) in PUBLIC:
        return None
    if path.startswith(COMMAND_PREFIX):
        return set(COMMANDS[path.removeprefix(COMMAND_PREFIX)].roles)
    if (method, path) in ADMIN_ONLY:
        return {"admin"}
    if method == "get":
        return set(ROLES)
    raise AssertionError(f"no row in the role matrix for {method.upper()} {path}")


def call(client, method, path, headers):
    target = USERS["reviewer"] if path.endswith("/disable") else USERS["clerk"]
    url = path.replace("{park_code}", CODE).replace("{name}", target)
    if path.startswith(COMMAND_PREFIX):
        return client.post(url, json=body(path.removeprefix(COMMAND_PREFIX)), headers=headers)
    payload = {"name": "new.user", "role": "clerk"} if url == "/api/v1/accounts" else None
    return client.open(url, method=method.upper(), json=payload, headers=headers,
                       query_string=QUERY.get(path))


def test_matrix_covers_every_endpoint(client):
    for method, path in operations(client):
        expected_roles(method, path)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, auth, ledger, role):
    to_approved(client, auth)
    refused, allowed = [], []

    for method, path in operations(client):
        roles = expected_roles(method, path)
        if roles is None:
            continue
        before = event_count(ledger)
        response = call(client, method, path, auth(role))
        if role in roles:
            allowed.append((method, path))
            assert response.status_code not in (401, 403), (method, path, response.get_json())
            if not path.startswith(COMMAND_PREFIX):
                assert response.status_code in (200, 201, 204), (method, path, response.data)
            if response.status_code == 201 and path.startswith(COMMAND_PREFIX):
                assert ledger.timeline(CODE)[-1]["actor"]["user"] == USERS[role]
        else:
            refused.append((method, path))
            assert response.status_code == 403, (method, path, response.get_json())
            assert response.get_json()["error"]["code"] == "forbidden"
            assert event_count(ledger) == before, (method, path)

    assert allowed
    if role in ("reviewer", "admin"):
        assert not any(p.startswith(COMMAND_PREFIX) for _m, p in allowed)


def test_every_endpoint_needs_an_account(client, auth, ledger):
    to_approved(client, auth)
    before = event_count(ledger)

    for method, path in operations(client):
        if expected_roles(method, path) is None:
            continue
        response = call(client, method, path, {})
        assert response.status_code == 401, (method, path)
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert event_count(ledger) == before


def test_disabled_account_token_stops_working(client, auth, accounts):
    accounts.disable(USERS["clerk"])

    response = client.get("/api/v1/me", headers=auth("clerk"))

    assert response.status_code == 401
