"""Finance: the clawback list, overdue refunds, per-prefecture and province totals, export."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from ledger.projections import report, subsidies
from ledger.projections.runner import kept
from web.views import i18n
from web.views.common import (
    blueprint,
    date_arg,
    int_arg,
    ledger,
    ledger_today,
    page,
    report_download,
)

bp = blueprint("ui_finance")
PAGE = 100  # parks a page of the per-park ledger shows


@bp.get("/finance")
@page()
def finance() -> ResponseReturnValue:
    """The clawbacks, overdue refunds and totals in full; the per-park ledger a page at a time."""
    day = date_arg("as_of") or ledger_today()
    number = int_arg("page", 1)
    data = subsidies.ledger_page(ledger(), as_of=day, offset=(number - 1) * PAGE, limit=PAGE)
    pages = max(1, -(-data["parks_total"] // PAGE))
    if number > pages:  # past the end: the last page
        number = pages
        data = subsidies.ledger_page(ledger(), as_of=day, offset=(number - 1) * PAGE,
                                     limit=PAGE)
    kept_args = {"as_of": day.isoformat()} if request.args.get("as_of") else {}
    return render_template("finance.html", day=day, data=data, lists=_lists(data),
                           parks=data["parks"], page=number, pages=pages, kept=kept_args)


def _lists(data: dict[str, Any]) -> Markup:
    """The clawback and overdue-refund lists, rendered once for every request of the same day,
    position of the subsidy read model (`stamp`) and language, and kept: they are the same for
    everyone who may open the page (568 revoked parks on `large` took ~14 ms of templates on
    every request)."""
    language = i18n.language()
    return kept(ledger(), f"ui_finance.lists.{language}", (data["stamp"], request.script_root),
                lambda: Markup(render_template("finance_lists.html", data=data,
                                               overdue=data["overdue"])))


@bp.get("/finance/export.<fmt>")
@page()
def export(fmt: str) -> ResponseReturnValue:
    """The subsidy ledger as `ledger report subsidies` writes it (the same rows and columns)."""
    if fmt not in report.FORMATS:
        return Response("format must be csv or json", status=404)
    return report_download("subsidies", fmt, date_arg("as_of") or ledger_today(), "subsidy-ledger")
