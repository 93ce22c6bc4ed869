"""Findings, open and closed, by article; auditors close one with a reason (close_finding)."""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger.domain import rules
from ledger.domain.errors import LedgerError
from ledger.projections import findings as read_model
from ledger.projections import report
from web.views import i18n
from web.views.common import (
    account,
    blueprint,
    date_arg,
    error_text,
    int_arg,
    ledger,
    ledger_today,
    page,
    report_download,
)

bp = blueprint("ui_findings")
FILTERS = ("state", "article", "severity", "park_code", "prefecture", "source")
PAGE = 100  # findings a page shows (a country's ledger holds thousands)


@bp.get("/findings")
@page()
def findings() -> ResponseReturnValue:
    day = date_arg("as_of") or ledger_today()
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    everything = _findings(day, args["park_code"] or None, args["prefecture"] or None)
    shown = [f for f in everything
             if all(not args[k] or f[k] == args[k] for k in ("state", "article", "severity",
                                                             "source"))]
    pages = max(1, -(-len(shown) // PAGE))
    number = min(int_arg("page", 1), pages)
    kept = {k: v for k, v in args.items() if v}  # what the pager's links keep asking for
    if request.args.get("as_of"):
        kept["as_of"] = day.isoformat()
    by_article: dict[str, Counter[str]] = {}
    for finding in everything:
        by_article.setdefault(finding["article"], Counter())[finding["state"]] += 1
    return render_template(
        "findings.html", findings=shown[(number - 1) * PAGE:number * PAGE], total=len(shown),
        page=number, pages=pages, kept=kept, args=args, day=day,
        by_article=sorted(by_article.items(), key=lambda item: _order(item[0])),
        articles=sorted({f["article"] for f in everything}, key=_order),
        prefectures=rules.PREFECTURES, may_close=account().role == "auditor")


@bp.get("/findings/export.<fmt>")
@page()
def export(fmt: str) -> ResponseReturnValue:
    """Every finding on the day, as `ledger report findings` writes it."""
    if fmt not in report.FORMATS:
        abort(404)
    return report_download("findings", fmt, date_arg("as_of") or ledger_today(), "findings")


@bp.post("/findings/close")
@page("auditor")
def close() -> ResponseReturnValue:
    form = request.form
    finding_id, park_code = form.get("finding_id", ""), form.get("park_code", "")
    reason = form.get("reason", "").strip()
    back = form.get("back") or url_for(".findings", state="open")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for(".findings")
    if not reason:
        flash(f"{finding_id}: {i18n.text('findings.reason_required')}", "error")
        return redirect(back)
    payload: dict[str, Any] = {"park_code": park_code, "finding_id": finding_id,
                               "effective_on": ledger_today().isoformat(), "reason": reason}
    try:
        ledger().execute("close_finding", payload, account().actor)
    except LedgerError as error:
        flash(f"{finding_id}: {error_text(error)}", "error")
        return redirect(back)
    flash(i18n.text("findings.closed", id=finding_id), "success")
    return redirect(back)


def _findings(day: date, park_code: str | None, prefecture: str | None
              ) -> list[dict[str, Any]]:
    """Every finding on `day` of the park or prefecture (or all): kept in one slot until the
    read model moves or the question changes, so paging through them, or filtering by state,
    article, severity or source, reads them once (~100 ms among 10,000 parks)."""
    app = ledger()
    stamp = (day, park_code, prefecture, app.projections.positions().get("findings"))
    with suppress(KeyError):
        kept_stamp, kept = app.answers.get("findings_page")
        if kept_stamp == stamp:
            return kept  # type: ignore[no-any-return]
    found = read_model.findings(app, as_of=day, park_code=park_code, prefecture=prefecture)
    app.answers.put("findings_page", (stamp, found))
    return found


def _order(article: str) -> tuple[int, str]:
    number = article.removeprefix("Art. ").split("(")[0]
    return (int(number) if number.isdigit() else 999, article)
