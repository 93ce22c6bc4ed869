"""Password login for people: a session that reads, hashed passwords, rate-limited attempts."""

from __future__ import annotations

import pytest

from tests.api.conftest import USERS
from tests.api.payloads import body
from tests.builders import event_count

PASSWORD = "correct horse battery"


@pytest.fixture
def clerk(accounts):
    accounts.add("li.clerk", "clerk", PASSWORD)
    return "li.clerk"


def login(client, name, password):
    return client.post("/api/v1/session", json={"name": name, "password": password})


def test_login_opens_a_session_that_reads(client, clerk):
    response = login(client, clerk, PASSWORD)

    assert response.status_code == 200
    assert response.get_json() == {"name": clerk, "role": "clerk",
                                   "organisation": "云南省人力资源和社会保障厅",
                                   "disabled": False}
    assert client.get("/api/v1/me").get_json()["name"] == clerk
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_cannot_write_through_the_api(client, clerk, ledger):
    login(client, clerk, PASSWORD)

    response = client.post("/api/v1/commands/file_application", json=body("file_application"))

    assert response.status_code == 401
    assert event_count(ledger) == 0


def test_logout_ends_the_session(client, clerk):
    login(client, clerk, PASSWORD)

    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(("name", "password"), [
    ("li.clerk", "wrong password"), ("nobody", PASSWORD), ("li.clerk\x00", PASSWORD),
])
def test_wrong_name_or_password_is_401_without_saying_which(client, clerk, name, password):
    response = login(client, name, password)

    assert response.status_code == 401
    assert response.get_json()["error"] == {
        "code": "unauthorized", "field": None,
        "message": "authentication required: a valid bearer token or login"}


def test_disabled_account_cannot_log_in_and_its_session_ends(client, clerk, accounts):
    login(client, clerk, PASSWORD)

    accounts.disable(clerk)

    assert client.get("/api/v1/me").status_code == 401
    assert login(client, clerk, PASSWORD).status_code == 401


def test_logins_are_rate_limited(client, clerk):
    statuses = [login(client, clerk, "wrong password").status_code for _ in range(10)]

    response = login(client, clerk, PASSWORD)

    assert statuses == [401] * 10
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_password_is_stored_hashed(accounts, clerk, ledger):
    import sqlalchemy as sa

    from ledger.accounts import accounts_table

    with ledger.engine.connect() as conn:
        stored = conn.execute(sa.select(accounts_table.c.password_hash)).scalar_one()

    assert PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_demo_users_fixture_names_are_distinct():
    assert len(set(USERS.values())) == len(USERS)
