"""The audit log: every filter of the read model, keyset pagination, and CSV/JSON export of
exactly what is filtered (streamed page by page, so a large export never sits in memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Response, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from ledger.domain import rules
from ledger.projections import audit_log, report
from web.views import charts
from web.views.common import (
    account,
    blueprint,
    date_arg,
    int_arg,
    ledger,
    local_datetime_arg,
    masked,
    page,
    sees_objectors,
)

bp = blueprint("ui_audit")
PER_PAGE = (25, 50, 100, 200)
FILTER_KEYS = ("park_code", "prefecture", "event_type", "actor", "effective_from",
               "effective_to", "recorded_from", "recorded_to", "text")
# `ledger report audit_log`'s columns, then what an auditor checks a copy against.
EXTRA_COLUMNS = ("documents", "prev_hash", "hash")
CSV_COLUMNS = (*report.AUDIT_COLUMNS, *EXTRA_COLUMNS)


def current_filter() -> audit_log.AuditFilter:
    """The filter the query string describes (a malformed date is ignored, not guessed)."""
    args = request.args
    return audit_log.AuditFilter(
        park_code=args.get("park_code", "").strip() or None,
        prefecture=args.get("prefecture", "").strip() or None,
        event_types=tuple(t for t in args.getlist("event_type") if t),
        actor=args.get("actor", "").strip() or None,
        effective_from=date_arg("effective_from"), effective_to=date_arg("effective_to"),
        recorded_from=local_datetime_arg("recorded_from"),
        recorded_to=local_datetime_arg("recorded_to"),
        text=args.get("text", "").strip() or None)


def filter_args() -> dict[str, Any]:
    """The query parameters that describe the filter, to carry into links and exports."""
    kept: dict[str, Any] = {}
    for key in FILTER_KEYS:
        values = [v for v in request.args.getlist(key) if v.strip()]
        if values:
            kept[key] = values if key == "event_type" else values[0]
    return kept


@bp.get("/audit", endpoint="audit_log")
@page()
def audit_log_page() -> ResponseReturnValue:
    per_page = int_arg("per_page", 50, low=1, high=max(PER_PAGE))
    newest = request.args.get("order", "newest") != "oldest"
    after = request.args.get("after", type=int)
    offset = int_arg("offset", 0, low=0, high=2**62)
    result = audit_log.search(ledger(), current_filter(), limit=per_page, after=after,
                              newest_first=newest, reveal_protected=sees_objectors())
    entries = [masked(e) for e in result["entries"]]
    kept = {**filter_args(), "per_page": per_page, "order": "newest" if newest else "oldest"}
    next_url = (url_for(".audit_log", **kept, after=result["next"], offset=offset + per_page)
                if result["next"] is not None else None)
    return render_template(
        "audit.html", entries=entries, total=result["total"], offset=offset,
        next_url=next_url, first_url=url_for(".audit_log", **kept) if after else None,
        args=request.args, lanes=charts.LANES, prefectures=rules.PREFECTURES,
        per_page_choices=PER_PAGE, per_page=per_page, newest=newest,
        export_csv=url_for(".export", fmt="csv", **filter_args()),
        export_json=url_for(".export", fmt="json", **filter_args()))


@bp.get("/audit/export.<fmt>")
@page()
def export(fmt: str) -> ResponseReturnValue:
    if fmt not in ("csv", "json"):
        return Response("format must be csv or json", status=404)
    where = current_filter()
    role_reveals = sees_objectors()
    rows = (masked(e) for e in _entries(where, role_reveals))
    body = _csv(rows) if fmt == "csv" else _json(rows)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    name = f"audit-log-{account().name}.{fmt}"
    return Response(stream_with_context(body), mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _entries(where: audit_log.AuditFilter, reveal: bool) -> Iterator[dict[str, Any]]:
    """Every matching entry, oldest first, a page at a time."""
    cursor = None
    while True:
        page_ = audit_log.search(ledger(), where, limit=audit_log.MAX_PAGE, after=cursor,
                                 reveal_protected=reveal)
        yield from page_["entries"]
        cursor = page_["next"]
        if cursor is None:
            return


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    buffer.write("\ufeff")  # a byte-order mark, so spreadsheet programs read the UTF-8 right
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        flat = {**report.audit_row(row), "prev_hash": row["prev_hash"], "hash": row["hash"],
                "documents": json.dumps(row["documents"], ensure_ascii=False)}
        writer.writerow([flat.get(column, "") for column in CSV_COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for i, row in enumerate(rows):
        yield ("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"
