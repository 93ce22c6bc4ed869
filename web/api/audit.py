"""The audit log: every event, filtered and paged, and exported as CSV or JSON (streamed)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context
from marshmallow import Schema, fields, validate

from ledger.privacy import mask_record, sees_protected
from ledger.projections.audit_log import MAX_PAGE, AuditFilter, search
from web.api.common import Blueprint, ledger
from web.api.schemas import EventSchema, StrictSchema, as_documented, aware_datetime
from web.auth import authenticate, current_account

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log",
                description="The audit log: every event, with every filter, and exports.")
blp.before_request(authenticate)
EXPORT_PAGE = 500
CSV_COLUMNS = ("position", "park_code", "prefecture", "version", "event_type", "effective_on",
               "recorded_at", "actor_user", "actor_role", "actor_organisation", "reason",
               "override_reason", "idempotency_key", "flags", "documents", "fields",
               "corrected_by", "prev_hash", "hash")


class FilterArgs(StrictSchema):
    park_code = fields.String(validate=validate.Length(min=1, max=40))
    prefecture = fields.String(validate=validate.Length(min=1, max=6))
    event_type = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                             metadata={"description": "repeat for several types"})
    actor = fields.String(validate=validate.Length(min=1, max=64),
                          metadata={"description": "the account (user) that recorded it"})
    effective_from = fields.Date()
    effective_to = fields.Date()
    recorded_from = aware_datetime()
    recorded_to = aware_datetime()
    text = fields.String(validate=validate.Length(min=1, max=200),
                         metadata={"description": "free text, case-insensitive"})


class SearchArgs(FilterArgs):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    after = fields.Integer(validate=validate.Range(min=0, max=2**62), metadata={
        "description": "the `next` cursor of the previous page"})
    newest_first = fields.Boolean(load_default=False)


class ExportArgs(FilterArgs):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "json")))


class AuditPageSchema(Schema):
    entries = fields.List(fields.Nested(EventSchema), required=True)
    next = fields.Integer(allow_none=True, required=True,
                          metadata={"description": "pass as `after` for the next page"})
    total = fields.Integer(required=True)


def audit_filter(args: dict[str, Any]) -> AuditFilter:
    return AuditFilter(park_code=args.get("park_code"), prefecture=args.get("prefecture"),
                       event_types=tuple(args.get("event_type") or ()), actor=args.get("actor"),
                       effective_from=args.get("effective_from"),
                       effective_to=args.get("effective_to"),
                       recorded_from=args.get("recorded_from"),
                       recorded_to=args.get("recorded_to"), text=args.get("text"))


@blp.route("", methods=["GET"])
@blp.arguments(SearchArgs, location="query")
@blp.response(200, AuditPageSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def audit_log(args: dict[str, Any]) -> Any:
    """One page of the log, oldest first (or newest first), with the total that matches"""
    role = current_account().role
    page = search(ledger(), audit_filter(args), limit=args["limit"], after=args.get("after"),
                  newest_first=args["newest_first"], reveal_protected=sees_protected(role))
    return as_documented({**page, "entries": [mask_record(e, role) for e in page["entries"]]})


@blp.route("/export", methods=["GET"])
@blp.arguments(ExportArgs, location="query")
@blp.doc(responses={"200": {
    "description": "every matching entry, streamed: CSV, or a JSON array with format=json",
    "content": {"text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array",
                                                "items": {"$ref": "#/components/schemas/Event"}}}},
}})
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def export(args: dict[str, Any]) -> Response:
    """Every matching entry, oldest first, as CSV or JSON, streamed (large logs welcome)"""
    role = current_account().role
    entries = _entries(audit_filter(args), role)
    if args["format"] == "json":
        body, mimetype = _json_lines(entries), "application/json"
    else:
        body, mimetype = _csv_lines(entries), "text/csv"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="audit-log.{args["format"]}"')
    return response


def _entries(where: AuditFilter, role: str) -> Iterator[dict[str, Any]]:
    app, cursor = ledger(), None
    while True:
        page = search(app, where, limit=EXPORT_PAGE, after=cursor,
                      reveal_protected=sees_protected(role))
        for entry in page["entries"]:
            yield mask_record(entry, role)
        cursor = page["next"]
        if cursor is None:
            return


def _json_lines(entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, entry in enumerate(entries):
        yield ("," if index else "") + "\n" + json.dumps(entry, ensure_ascii=False)
    yield "\n]\n"


def _csv_lines(entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([_cell(value) for value in _csv_row(entry)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _csv_row(entry: dict[str, Any]) -> list[Any]:
    actor = entry.get("actor") or {}
    flat = {**entry, "actor_user": actor.get("user"), "actor_role": actor.get("role"),
            "actor_organisation": actor.get("organisation")}
    return [flat.get(column) for column in CSV_COLUMNS]


def _cell(value: Any) -> Any:
    """JSON for nested values; a leading quote keeps a spreadsheet from running a formula."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
