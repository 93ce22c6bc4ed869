"""The OpenAPI document is generated from the same schemas the ledger loads commands with."""

from __future__ import annotations

import re

import pytest

from ledger.commands import COMMANDS

pytestmark = pytest.mark.usefixtures("ledger")


def spec(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def command_schema(document, name):
    operation = document["paths"][f"/api/v1/commands/{name}"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_openapi_3_document_is_served(client):
    document = spec(client)

    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_has_an_endpoint_with_exactly_its_fields(client, name):
    schema = command_schema(spec(client), name)

    assert set(schema["properties"]) == set(COMMANDS[name].schema.fields)
    assert set(schema.get("required", [])) == {
        n for n, f in COMMANDS[name].schema.fields.items() if f.required}
    assert schema["additionalProperties"] is False


def test_money_is_documented_as_a_decimal_string(client):
    schema = command_schema(spec(client), "disburse_subsidy")

    amount = schema["properties"]["amount_yuan"]
    assert amount["type"] == "string"
    assert re.fullmatch(amount["pattern"], "2000000.00")
    assert not re.fullmatch(amount["pattern"], "2e6")


def test_commands_document_their_headers_and_error_shape(client):
    document = spec(client)
    operation = document["paths"]["/api/v1/commands/approve_park"]["post"]

    assert {p["name"] for p in operation["parameters"]} == {"Idempotency-Key", "If-Match"}
    assert {"201", "401", "403", "404", "409", "412", "422"} <= set(operation["responses"])
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorBody")


def test_interactive_page_uses_only_local_assets(client):
    page = client.get("/api/docs/")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "http://" not in html and "https://" not in html
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        with client.get(asset) as response:
            assert response.status_code == 200, asset


def test_responses_carry_security_headers(client):
    for url in ("/api/openapi.json", "/api/v1/me", "/api/docs/"):
        headers = client.get(url).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"
