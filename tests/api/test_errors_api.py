"""Every refusal has the same JSON shape, a stable code, the field, the right status, and
writes nothing."""

from __future__ import annotations

import json

import pytest

from tests.api.payloads import CODE, body, send
from tests.builders import event_count

URL = "/api/v1/commands/file_application"


@pytest.fixture
def client(any_client):
    """Every test here runs through the test client and through a real HTTP server."""
    return any_client


def assert_error(response, status, code, field):
    assert response.status_code == status, response.get_json()
    assert response.is_json
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message", "field"}
    assert set(error) <= {"code", "message", "field", "article", "details"}
    assert error["code"] == code
    assert error["field"] == field
    assert error["message"]
    return error


def post_raw(client, auth, data, content_type="application/json"):
    return client.post(URL, data=data, content_type=content_type, headers=auth("clerk"))


@pytest.mark.parametrize(("data", "field"), [
    ("{", "body"),
    ('{"park_code": "A", "park_code": "B"}', "park_code"),
    ('{"agencies_count": NaN}', "body"),
    ("[" * 100_000 + "]" * 100_000, "body"),
    (b"\xff\xfe{}", "body"),
], ids=["truncated", "duplicate-key", "nan", "deep-nesting", "not-utf8"])
def test_malformed_json_is_400(client, auth, ledger, data, field):
    response = post_raw(client, auth, data)

    assert_error(response, 400, "malformed_json", field)
    assert event_count(ledger) == 0


def test_body_that_is_not_an_object_is_422(client, auth, ledger):
    assert_error(post_raw(client, auth, "[1, 2]"), 422, "invalid", "body")
    assert event_count(ledger) == 0


def test_body_that_is_not_json_is_415(client, auth, ledger):
    response = post_raw(client, auth, "park_code=A", "application/x-www-form-urlencoded")

    assert_error(response, 415, "unsupported_media_type", "Content-Type")
    assert event_count(ledger) == 0


def test_unknown_field_is_named(client, auth, ledger):
    response = send(client, auth("clerk"), "file_application",
                    body("file_application", colour="blue"))

    assert_error(response, 422, "unknown_field", "colour")
    assert event_count(ledger) == 0


def test_wrong_type_is_named(client, auth, ledger):
    response = send(client, auth("clerk"), "file_application",
                    body("file_application", agencies_count="thirty"))

    assert_error(response, 422, "invalid", "agencies_count")
    assert event_count(ledger) == 0


def test_missing_field_is_named(client, auth, ledger):
    payload = body("file_application")
    del payload["prefecture"]

    response = send(client, auth("clerk"), "file_application", payload)

    assert_error(response, 422, "invalid", "prefecture")
    assert event_count(ledger) == 0


@pytest.mark.parametrize("amount", [2000000.0, 2000000, "2e6", "-5.00", "1.001"])
def test_money_that_is_not_a_positive_decimal_string_is_refused(client, auth, ledger, amount):
    response = send(client, auth("clerk"), "file_application",
                    body("file_application", annual_revenue_yuan=amount))

    assert_error(response, 422, "invalid", "annual_revenue_yuan")
    assert event_count(ledger) == 0


def test_float_money_in_raw_json_is_refused(client, auth, ledger):
    payload = json.dumps(body("file_application")).replace(
        '"annual_revenue_yuan": "900000000.00"', '"annual_revenue_yuan": 900000000.00')

    assert_error(post_raw(client, auth, payload), 422, "invalid", "annual_revenue_yuan")
    assert event_count(ledger) == 0


def test_oversized_payload_is_413(client, auth, ledger):
    payload = body("file_application", reason="x" * (2 * 1024 * 1024))

    response = send(client, auth("clerk"), "file_application", payload)

    assert_error(response, 413, "payload_too_large", None)
    assert event_count(ledger) == 0


@pytest.mark.parametrize("value", ["2026-02-30", "05/01/2026", "", 20260105])
def test_bad_date_is_named(client, auth, ledger, value):
    response = send(client, auth("clerk"), "file_application",
                    body("file_application", effective_on=value))

    assert_error(response, 422, "invalid", "effective_on")
    assert event_count(ledger) == 0


def test_future_date_is_refused(client, auth, ledger):
    response = send(client, auth("clerk"), "file_application",
                    body("file_application", effective_on="2030-01-01"))

    assert_error(response, 422, "invalid", "effective_on")
    assert event_count(ledger) == 0


def test_unknown_park_is_404_for_commands_and_reads(client, auth, ledger):
    command = send(client, auth("clerk"), "supplement_materials",
                   body("supplement_materials", park_code="NO-SUCH"))
    read = client.get("/api/v1/parks/NO-SUCH", headers=auth("auditor"))
    timeline = client.get("/api/v1/parks/NO-SUCH/timeline", headers=auth("auditor"))

    for response in (command, read, timeline):
        assert_error(response, 404, "park_not_found", "park_code")
    assert event_count(ledger) == 0


def test_stale_version_in_if_match_is_412(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))
    send(client, auth("clerk"), "supplement_materials", body("supplement_materials"))
    count = event_count(ledger)

    response = send(client, {**auth("clerk"), "If-Match": 'W/"1"'}, "supplement_materials",
                    body("supplement_materials"))

    assert_error(response, 412, "stale_version", "expected_version")
    assert event_count(ledger) == count


def test_malformed_if_match_is_named(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))

    response = send(client, {**auth("clerk"), "If-Match": "yesterday"}, "supplement_materials",
                    body("supplement_materials"))

    assert_error(response, 422, "invalid", "If-Match")
    assert event_count(ledger) == 1


def test_replayed_idempotency_key_with_other_body_is_refused(client, auth, ledger):
    headers = {**auth("clerk"), "Idempotency-Key": "k-1"}
    send(client, headers, "file_application", body("file_application"))
    count = event_count(ledger)

    response = send(client, headers, "file_application", body("file_application", CODE + "X"))

    assert_error(response, 422, "idempotency_conflict", "idempotency_key")
    assert event_count(ledger) == count


def test_duplicate_park_code_is_409(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))

    response = send(client, auth("clerk"), "file_application", body("file_application"))

    assert_error(response, 409, "duplicate", "park_code")
    assert event_count(ledger) == 1


def test_lifecycle_refusal_is_409(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))

    response = send(client, auth("clerk"), "approve_park", body("approve_park"))

    assert_error(response, 409, "lifecycle", "park_code")
    assert event_count(ledger) == 1


@pytest.mark.parametrize("header", [None, "Bearer plt_not-a-token", "Basic dXNlcjpwYXNz",
                                    "Bearer "])
def test_missing_or_bad_credentials_are_401(client, ledger, header):
    headers = {"Authorization": header} if header else {}

    response = client.post(URL, json=body("file_application"), headers=headers)

    assert_error(response, 401, "unauthorized", None)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert event_count(ledger) == 0


def test_unknown_route_and_wrong_method_have_the_same_shape(client, auth):
    assert_error(client.get("/api/v1/nothing", headers=auth("clerk")), 404, "not_found", None)
    wrong = client.get(URL, headers=auth("clerk"))
    assert_error(wrong, 405, "method_not_allowed", None)
    assert "POST" in wrong.headers["Allow"]


def test_a_crash_answers_500_in_the_same_shape_without_details(app, auth, ledger,
                                                                monkeypatch):
    app.config["TESTING"] = False  # production behaviour: no exception propagates

    def crash(park_code):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ledger, "park", crash)

    response = app.test_client().get("/api/v1/parks/X", headers=auth("auditor"))

    error = assert_error(response, 500, "internal_error", None)
    assert "secret" not in error["message"]


def test_login_body_of_wrong_type_is_named(client, auth, tokens):
    response = client.post("/api/v1/session", json={"name": 5, "password": "x"})

    assert_error(response, 422, "invalid", "name")
