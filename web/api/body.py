"""Reading a JSON command body and its headers strictly: what json.loads forgives, we refuse."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import g, request

from ledger.domain.errors import ValidationError
from web.errors import ApiError

ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; ApiError for anything else."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "send the body as JSON with Content-Type: application/json",
                       field="Content-Type")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant,
                          object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_json", "the body is not UTF-8", field="body") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error.msg} "
                       f"(line {error.lineno}, column {error.colno})", field="body") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "the body nests too deeply",
                       field="body") from None
    except _Refused as refused:
        raise ApiError(400, "malformed_json", refused.message, field=refused.field) from None
    if not isinstance(body, dict):
        raise ApiError(422, "invalid", "the body must be a JSON object", field="body")
    return body


def with_headers(body: dict[str, Any]) -> dict[str, Any]:
    """The body with Idempotency-Key and If-Match folded in as idempotency_key and
    expected_version; a header and a body field that disagree are refused."""
    body = dict(body)
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        _agree(body, "idempotency_key", key, "Idempotency-Key")
        body["idempotency_key"] = key
    tag = request.headers.get("If-Match")
    if tag is not None and tag.strip() != "*":
        match = ETAG.fullmatch(tag.strip())
        if match is None or int(match.group(1)) < 1:
            raise ValidationError("If-Match", 'must be the park\'s version as an ETag, e.g. "3"')
        version = int(match.group(1))
        _agree(body, "expected_version", version, "If-Match")
        body["expected_version"] = version
        g.if_match = version  # a stale version then answers 412, the precondition failed
    return body


def refuse_actor(body: dict[str, Any]) -> None:
    if "actor" in body:
        raise ApiError(422, "unknown_field", "actor: unknown field; the actor is the "
                       "authenticated account, never the request body", field="actor")


def refuse_unknown(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise ApiError(422, "unknown_field", f"{unknown[0]}: unknown field",
                       field=unknown[0], details={"unknown": unknown})


def _agree(body: dict[str, Any], field: str, value: Any, header: str) -> None:
    if field in body and body[field] != value:
        raise ValidationError(field, f"differs from the {header} header; send one of them")


class _Refused(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number", "body")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Refused(f"{key}: appears twice in one object", key)
        seen[key] = value
    return seen
