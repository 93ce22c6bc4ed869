"""The API's JSON is written and read by orjson (web/json_provider.py): the same text Flask's
own provider writes with the app's settings, and what orjson cannot write or read as the
standard library does goes to the standard library."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider

from tests.api.payloads import CODE, body, send


@dataclass
class Point:
    x: int
    label: str


def flask_text(app, value) -> str:
    """What Flask's own provider writes for `value` with this app's settings."""
    provider = DefaultJSONProvider(app)
    provider.ensure_ascii, provider.sort_keys = app.json.ensure_ascii, app.json.sort_keys
    return provider.dumps(value, separators=(",", ":"))


def test_an_audit_log_page_is_the_text_flask_would_write(client, auth):
    for command in ("file_application", "open_evaluation", "record_expert_opinion"):
        assert send(client, auth("clerk"), command, body(command)).status_code == 201

    response = client.get("/api/v1/audit-log", headers=auth("auditor"))

    text = response.get_data(as_text=True)
    assert text == flask_text(client.application, response.get_json()) + "\n"
    assert "云南大学" in text and '"total":3' in text


def test_values_orjson_would_write_otherwise_are_written_as_flask_writes_them(app):
    value = {"when": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "day": date(2026, 3, 1),
             "amount": Decimal("2000000.00"), "point": Point(1, "甲"), "big": 2 ** 70,
             "nested": [{"b": 1, "a": [True, None, "\n\u001f\"\\"]}]}

    def compact(v):
        return app.json.dumps(v, separators=(",", ":"))

    assert compact(value) == flask_text(app, value)
    assert compact({3: "key not a string"}) == flask_text(app, {3: "key not a string"})
    assert '"when":"Sun, 01 Mar 2026 09:30:00 GMT"' in compact(value)
    for other in ({}, {"indent": 2}):  # the templates' tojson, debug mode
        assert app.json.dumps(value, **other) == DefaultJSONProvider.dumps(app.json, value,
                                                                            **other)


def test_an_integer_past_64_bits_goes_in_and_comes_out_whole(client, auth):
    count = 10 ** 25
    payload = {**body("file_application"), "agencies_count": count}
    raw = json.dumps(payload, ensure_ascii=False).encode()

    response = client.post("/api/v1/commands/file_application", data=raw,
                           headers={**auth("clerk"), "Content-Type": "application/json"})
    log = client.get("/api/v1/audit-log", headers=auth("auditor"), query_string={
        "park_code": CODE})

    assert response.status_code == 201, response.get_data(as_text=True)
    assert f'"agencies_count":{count}' in log.get_data(as_text=True)
    assert log.get_json()["entries"][0]["fields"]["agencies_count"] == count
