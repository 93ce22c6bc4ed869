"""A fuzz run of the API from its own OpenAPI document (schemathesis + hypothesis): valid and
invalid requests to every operation find no server error, every refused request writes
nothing, and every answer has the documented shape."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from ledger.commands import COMMANDS
from tests.api.http import serving
from tests.api.payloads import to_approved
from tests.builders import event_count

# Examples per operation and generation mode, through the test client (WSGI) and through a real
# HTTP server: about a minute and a half in all, on both databases.
EXAMPLES = {"wsgi": 8, "http": 4}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
COMMAND_PREFIX = "/api/v1/commands/"


def role_for(path: str) -> str:
    if path.startswith(COMMAND_PREFIX):
        return COMMANDS[path.removeprefix(COMMAND_PREFIX)].roles[0]
    return "admin" if path.startswith("/api/v1/accounts") else "auditor"


@pytest.mark.parametrize("transport", ["wsgi", "http"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_fuzz_every_operation_from_the_openapi_document(app, client, auth, ledger, mode,
                                                        transport):
    to_approved(client, auth)
    with serving(app) as base_url:
        schema = (schemathesis.openapi.from_wsgi("/api/openapi.json", app)
                  if transport == "wsgi" else
                  schemathesis.openapi.from_url(f"{base_url}/api/openapi.json"))
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= len(COMMANDS)

        for operation in operations:
            fuzz(operation, auth(role_for(operation.path)), mode, ledger, EXAMPLES[transport])


def fuzz(operation, headers, mode, ledger, examples):
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
    def run(case):
        before = event_count(ledger)
        response = case.call(headers={**headers, **(case.headers or {})})
        case.validate_response(response, checks=checks)
        if response.status_code >= 400:
            assert event_count(ledger) == before, case.as_curl_command()

    run()
