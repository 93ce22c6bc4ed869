"""The audit log: every filter of the read model, keyset pagination, and CSV/JSON export of
exactly what is filtered — by the JSON API's own export (`/api/v1/audit-log/export`, streamed,
objectors masked by role), which a logged-in page may read with its session."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger.domain import rules
from ledger.projections import audit_log
from web.views import charts
from web.views.common import (
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


def api_filter_args() -> dict[str, Any]:
    """The filter as the API's export takes it: recorded times with their zone."""
    kept = filter_args()
    for key in ("recorded_from", "recorded_to"):
        moment = local_datetime_arg(key)
        if moment is None:
            kept.pop(key, None)
        else:
            kept[key] = moment.isoformat()
    for key in ("effective_from", "effective_to"):
        if key in kept and date_arg(key) is None:
            del kept[key]  # a malformed date is ignored here too, not refused by the API
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
        export_csv=url_for("audit.export", format="csv", **api_filter_args()),
        export_json=url_for("audit.export", format="json", **api_filter_args()))
