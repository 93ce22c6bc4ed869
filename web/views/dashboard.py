"""The dashboard: parks by status and prefecture, subsidy totals, open findings, what is due."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template, url_for
from flask.typing import ResponseReturnValue

from ledger.application import Ledger
from ledger.projections import audit_log, findings, park_status, subsidies
from ledger.projections.runner import kept
from web.views import charts, i18n
from web.views.common import blueprint, ledger, ledger_today, page

bp = blueprint("ui_dashboard")
DUE_SHOWN = 10


@bp.get("/dashboard")
@page()
def dashboard() -> ResponseReturnValue:
    app, day = ledger(), ledger_today()
    f = _figures(app, day)
    return render_template(
        "dashboard.html", day=day, parks_total=f.parks_total, province=f.province,
        open_total=f.open_total, by_article=f.articles,
        bars_status=charts.bars([(i18n.term("status", s), n, url_for(
            "ui_parks.parks", status=s)) for s, n in f.statuses]),
        bars_prefecture=charts.bars([(i18n.term("prefecture", code), n, url_for(
            "ui_parks.parks", prefecture=code)) for code, n in f.prefectures]),
        bars_article=charts.bars([(i18n.term("article", a), n, url_for(
            "ui_findings.findings", state="open", article=a)) for a, n in f.articles]),
        due=f.due, events_total=f.events_total)


@dataclass(frozen=True)
class Figures:
    """What the dashboard shows, worked out from every park, the province's subsidy totals,
    the open findings and the number of events."""

    parks_total: int
    statuses: list[tuple[str, int]]  # most parks first
    prefectures: list[tuple[str, int]]  # by code
    due: list[dict[str, Any]]  # the parks whose next due item comes first
    province: dict[str, Any]
    open_total: int
    articles: list[tuple[str, int]]  # open findings by article, in article order
    events_total: int


def _figures(app: Ledger, day: date) -> Figures:
    """The dashboard's figures on `day`.

    They read every park (~0.3 s among 10,000 once a park had an event, the summaries of the
    others being kept; seconds on a new day) yet change only when the read models move or the
    day turns: worked out once per (day, read-model positions) and reused until then.
    """
    def work() -> Figures:
        parks = park_status.parks(app, as_of=day)
        open_findings = findings.findings(app, as_of=day, state="open")
        return Figures(
            parks_total=len(parks),
            statuses=Counter(p["status"] for p in parks).most_common(),
            prefectures=sorted(Counter(p["prefecture"] for p in parks).items()),
            due=sorted((p for p in parks if p["next_due"]),
                       key=lambda p: p["next_due"]["due_on"])[:DUE_SHOWN],
            province=subsidies.province(app, as_of=day), open_total=len(open_findings),
            articles=sorted(Counter(f["article"] for f in open_findings).items(),
                            key=lambda item: _article_order(item[0])),
            events_total=audit_log.search(app, limit=1)["total"])

    return kept(app, "dashboard", (day, tuple(sorted(app.projections.positions().items()))),
                work)


def _article_order(article: str) -> tuple[int, str]:
    """Art. 4(2) before Art. 16: by article number, then clause."""
    number = article.removeprefix("Art. ").split("(")[0]
    return (int(number) if number.isdigit() else 999, article)
