"""Findings, open and closed, by article; auditors close one with a reason (close_finding)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger.domain import rules
from ledger.domain.errors import LedgerError
from ledger.projections import findings as read_model
from ledger.projections import report
from ledger.projections.runner import kept
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
    listed = _listed(day, args)
    pages = max(1, -(-len(listed.shown) // PAGE))
    number = min(int_arg("page", 1), pages)
    kept = {k: v for k, v in args.items() if v}  # what the pager's links keep asking for
    if request.args.get("as_of"):
        kept["as_of"] = day.isoformat()
    return render_template(
        "findings.html", findings=listed.shown[(number - 1) * PAGE:number * PAGE],
        total=len(listed.shown), page=number, pages=pages, kept=kept, args=args, day=day,
        by_article=listed.by_article, articles=listed.articles,
        prefectures=rules.PREFECTURES, may_close=account().role == "auditor")


@dataclass(frozen=True)
class Listed:
    """The findings page's list for one question, before paging."""

    shown: list[dict[str, Any]]  # those the filters keep
    by_article: list[tuple[str, Counter[str]]]  # of the park or prefecture: states by article
    articles: list[str]  # the filter's choice of articles


def _listed(day: date, args: dict[str, str]) -> Listed:
    """The list for these filters on `day`: kept in one slot until the read model moves or
    the question changes, so paging through it reads every finding once (~100 ms among
    10,000 parks)."""
    app = ledger()

    def work() -> Listed:
        everything = read_model.findings(app, as_of=day, park_code=args["park_code"] or None,
                                         prefecture=args["prefecture"] or None)
        by_article: dict[str, Counter[str]] = {}
        for finding in everything:
            by_article.setdefault(finding["article"], Counter())[finding["state"]] += 1
        return Listed(
            shown=[f for f in everything
                   if all(not args[k] or f[k] == args[k] for k in ("state", "article",
                                                                   "severity", "source"))],
            by_article=sorted(by_article.items(), key=lambda item: _order(item[0])),
            articles=sorted({f["article"] for f in everything}, key=_order))

    stamp = (day, tuple(sorted(args.items())), app.projections.positions().get("findings"))
    return kept(app, "findings_page", stamp, work)


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


def _order(article: str) -> tuple[int, str]:
    number = article.removeprefix("Art. ").split("(")[0]
    return (int(number) if number.isdigit() else 999, article)
