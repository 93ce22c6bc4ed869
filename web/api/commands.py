"""One endpoint per command of the contract: POST /api/v1/commands/<command>."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from ledger.commands import COMMANDS, CommandSpec
from ledger.domain.errors import PermissionDenied
from web.api.body import json_object, refuse_actor, refuse_unknown, with_headers
from web.api.common import ERRORS, Blueprint, ledger
from web.api.schemas import RecordedEventSchema
from web.auth import current_account

blp = Blueprint("commands", __name__, url_prefix="/api/v1/commands",
                description="Record what happened: one endpoint per command of the contract. "
                            "The actor is the authenticated account.")
HEADERS = [
    {"in": "header", "name": "Idempotency-Key", "required": False,
     "schema": {"type": "string", "minLength": 1, "maxLength": 200},
     "description": "the same key with the same body answers the first result again "
                    "(nothing new is written); with another body it is refused"},
    {"in": "header", "name": "If-Match", "required": False,
     "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]{1,9}"?$'},
     "description": "the park's version the sender saw, as the ETag a read returned; "
                    "a newer version in the ledger answers 412"},
]


def _view(spec: CommandSpec) -> Callable[[], Any]:
    def record() -> tuple[dict[str, Any], int, dict[str, str]]:
        actor = current_account().actor
        if actor["role"] not in spec.roles:  # refuse before reading the body
            raise PermissionDenied(actor["role"], spec.name)
        body = json_object()
        refuse_actor(body)
        refuse_unknown(body, set(spec.schema.fields))
        result = ledger().execute(spec.name, with_headers(body), actor)
        status = 200 if result.get("replayed") else 201
        return result, status, {"ETag": f'"{result["version"]}"'}

    record.__name__ = spec.name
    record.__doc__ = (f"Record {spec.event} ({spec.name})\n\nRoles: {', '.join(spec.roles)}. "
                      "A breach of the regulation is refused (422, code rule_breach, with the "
                      "article) unless override_reason is given; then it is recorded and "
                      "flagged.")
    return record


def _register(spec: CommandSpec) -> None:
    view = _view(spec)
    view = blp.response(201, RecordedEventSchema, description="recorded")(view)
    view = blp.alt_response(200, schema=RecordedEventSchema,
                            description="an Idempotency-Key replay: nothing new written")(view)
    for status in ERRORS:
        view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
    view = blp.doc(parameters=HEADERS, requestBody={
        "required": True, "content": {"application/json": {"schema": spec.schema}}})(view)
    blp.route(f"/{spec.name}", methods=["POST"], endpoint=spec.name)(view)


for _spec in COMMANDS.values():
    _register(_spec)
