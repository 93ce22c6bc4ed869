"""The JSON API through a real HTTP server on loopback (werkzeug's, in a thread)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from config import Config
from ledger.accounts import Accounts
from tests.api.http import serving
from tests.api.payloads import CODE, body
from tests.builders import event_count
from web import create_app


@pytest.fixture
def server(config: Config, ledger) -> Iterator[str]:
    with serving(create_app(config, ledger=ledger)) as base_url:
        yield base_url


@pytest.fixture
def token(ledger) -> str:
    accounts = Accounts(ledger.engine)
    accounts.add("li.clerk", "clerk", "correct horse battery")
    return accounts.issue_token("li.clerk")


def request(url: str, method: str = "GET", payload: Any = None, raw: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None
                                        else None)
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or "null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


def test_command_and_read_over_http(server, token, ledger):
    bearer = {"Authorization": f"Bearer {token}"}

    status, headers, recorded = request(f"{server}/api/v1/commands/file_application", "POST",
                                        body("file_application"), headers=bearer)
    read_status, read_headers, park = request(f"{server}/api/v1/parks/{CODE}", headers=bearer)

    assert status == 201
    assert recorded["hash"] == park["head_hash"]
    assert read_status == 200
    assert read_headers["ETag"] == headers["ETag"] == '"1"'
    assert read_headers["X-Content-Type-Options"] == "nosniff"


def test_error_shape_over_http_writes_nothing(server, token, ledger):
    bearer = {"Authorization": f"Bearer {token}"}

    malformed = request(f"{server}/api/v1/commands/file_application", "POST", raw=b"{oops",
                        headers=bearer)
    stale = request(f"{server}/api/v1/commands/supplement_materials", "POST",
                    body("supplement_materials"), headers={**bearer, "If-Match": '"9"'})
    anonymous = request(f"{server}/api/v1/commands/file_application", "POST",
                        body("file_application"))

    assert malformed[0] == 400 and malformed[2]["error"]["code"] == "malformed_json"
    assert stale[0] == 404 and stale[2]["error"]["field"] == "park_code"
    assert anonymous[0] == 401 and anonymous[1]["WWW-Authenticate"].startswith("Bearer")
    assert event_count(ledger) == 0


def test_oversized_body_over_http_is_413(server, token, ledger):
    payload = json.dumps(body("file_application", reason="x" * (2 * 1024 * 1024))).encode()

    status, _headers, error = request(f"{server}/api/v1/commands/file_application", "POST",
                                      raw=payload, headers={"Authorization": f"Bearer {token}"})

    assert status == 413
    assert error["error"]["code"] == "payload_too_large"
    assert event_count(ledger) == 0


def test_login_session_and_rate_limit_over_http(server, token):
    url = f"{server}/api/v1/session"
    good = {"name": "li.clerk", "password": "correct horse battery"}

    status, headers, account = request(url, "POST", good)
    failures = [request(url, "POST", {**good, "password": "wrong!"})[0] for _ in range(9)]
    limited = request(url, "POST", good)

    assert status == 200 and account["role"] == "clerk"
    assert "HttpOnly" in headers["Set-Cookie"]
    assert failures == [401] * 9
    assert limited[0] == 429 and limited[2]["error"]["code"] == "rate_limited"


def test_two_clerks_racing_on_one_version_one_wins_one_gets_412(server, token, ledger):
    bearer = {"Authorization": f"Bearer {token}"}
    request(f"{server}/api/v1/commands/file_application", "POST", body("file_application"),
            headers=bearer)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def clerk(note: str) -> None:
        barrier.wait()
        status, _h, _b = request(f"{server}/api/v1/commands/supplement_materials", "POST",
                                 body("supplement_materials", note=note),
                                 headers={**bearer, "If-Match": '"1"'})
        results.append(status)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [201, 412]
    assert ledger.park(CODE)["version"] == 2
