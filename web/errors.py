"""One table from errors to HTTP statuses; every API error body has the same shape:
`{"error": {"code", "message", "field", "article"?, "details"?}}`."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ledger.accounts import AccountNotFoundError, AuthenticationError
from ledger.domain.errors import (
    CalendarError,
    ConcurrencyError,
    ContentionError,
    DuplicateError,
    IdempotencyConflict,
    LedgerError,
    LifecycleError,
    ParkNotFoundError,
    PermissionDenied,
    RuleBreach,
    ValidationError,
)

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
    412: "precondition_failed", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 500: "internal_error",
}
API_PREFIX = "/api/"


class RoleRequired(LedgerError):
    """The account's role may not use this endpoint."""

    code = "forbidden"

    def __init__(self, role: str, roles: tuple[str, ...]) -> None:
        super().__init__(f"role {role!r} may not do this; needs {' or '.join(roles)}",
                         field="role")


class ApiError(LedgerError):
    """An error only HTTP has (malformed JSON, wrong content type, a bad header)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message, field=field, details=details)
        self.status = status
        self.code = code


STATUS: dict[type[LedgerError], int] = {
    ValidationError: 422,
    CalendarError: 422,
    RuleBreach: 422,
    IdempotencyConflict: 422,
    ParkNotFoundError: 404,
    AccountNotFoundError: 404,
    DuplicateError: 409,
    LifecycleError: 409,
    ConcurrencyError: 409,
    ContentionError: 409,  # others kept writing the park: nothing recorded, send again
    PermissionDenied: 403,
    RoleRequired: 403,
    AuthenticationError: 401,
    LedgerError: 409,
}


def status_of(error: LedgerError) -> int:
    if isinstance(error, ApiError):
        return error.status
    if type(error) is ConcurrencyError and "if_match" in g:
        return 412  # the precondition the client set in If-Match failed
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 409


def error_response(status: int, code: str, message: str, field: str | None = None,
                   article: str | None = None, details: dict[str, Any] | None = None
                   ) -> Response:
    body: dict[str, Any] = {"code": code, "message": message, "field": field}
    if article is not None:
        body["article"] = article
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="park-ledger"'
    return response


def handle_ledger_error(error: LedgerError) -> Response:
    body = error.to_dict()
    return error_response(status_of(error), body["code"], body["message"], body.get("field"),
                          body.get("article"), body.get("details"))


def handle_http_exception(error: HTTPException) -> Response | HTTPException:
    """JSON for the API; pages elsewhere keep Flask's own rendering."""
    if not request.path.startswith(API_PREFIX):
        return error
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs: a body, query or path parameter failed its schema
        return _argument_error(status, data["messages"])
    message = data.get("message") or error.description or error.name
    if status == 413:
        message = f"the request body is larger than {request.max_content_length} bytes"
    if status >= 500:
        message = "internal error; nothing was written by this request"
    response = error_response(status, HTTP_CODES.get(status, "http_error"), message)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    kept = dict(error.get_headers())  # e.g. Allow on a 405
    if error.response is not None:  # e.g. Retry-After from the rate limiter
        kept.update(error.response.headers)
    for name in ("Allow", "Retry-After"):
        if name in kept:
            response.headers[name] = kept[name]
    return response


def _argument_error(status: int, messages: dict[str, Any]) -> Response:
    location = sorted(messages)[0]
    errors = messages[location]
    if not isinstance(errors, dict):  # the body as a whole, e.g. not JSON at all
        code = "malformed_json" if status == 400 else "invalid"
        return error_response(status, code, f"body: {_first_text(errors)}", "body")
    name = sorted(errors, key=str)[0]
    text = _first_text(errors[name])
    if text == "Unknown field.":
        return error_response(422, "unknown_field", f"{name}: unknown field", str(name),
                          details={"errors": messages})
    return error_response(422, "invalid", f"{name}: {text}", str(name),
                          details={"errors": messages})


def _first_text(messages: Any) -> str:
    while isinstance(messages, (list, dict)) and messages:
        messages = messages[0] if isinstance(messages, list) else \
            messages[sorted(messages, key=str)[0]]
    return str(messages)


def init_app(app: Flask) -> None:
    app.register_error_handler(LedgerError, handle_ledger_error)
    app.register_error_handler(HTTPException, handle_http_exception)
