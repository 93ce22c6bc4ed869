"""The dashboard: parks by status and prefecture, subsidy totals, open findings, what is due."""

from __future__ import annotations

from collections import Counter

from flask import render_template, url_for
from flask.typing import ResponseReturnValue

from ledger.projections import audit_log, findings, park_status, subsidies
from web.views import charts, i18n
from web.views.common import blueprint, ledger, ledger_today, page

bp = blueprint("ui_dashboard")
DUE_SHOWN = 10


@bp.get("/dashboard")
@page()
def dashboard() -> ResponseReturnValue:
    app, day = ledger(), ledger_today()
    parks = park_status.parks(app, as_of=day)
    report = subsidies.ledger_report(app, as_of=day)
    open_findings = findings.findings(app, as_of=day, state="open")
    due = sorted((p for p in parks if p["next_due"]), key=lambda p: p["next_due"]["due_on"])
    statuses = Counter(p["status"] for p in parks).most_common()
    prefectures = sorted(Counter(p["prefecture"] for p in parks).items())
    articles = sorted(Counter(f["article"] for f in open_findings).items(),
                      key=lambda item: _article_order(item[0]))
    return render_template(
        "dashboard.html", day=day, parks_total=len(parks), province=report["province"],
        open_total=len(open_findings), by_article=articles,
        bars_status=charts.bars([(i18n.term("status", s), n, url_for(
            "ui_parks.parks", status=s)) for s, n in statuses]),
        bars_prefecture=charts.bars([(i18n.term("prefecture", code), n, url_for(
            "ui_parks.parks", prefecture=code)) for code, n in prefectures]),
        bars_article=charts.bars([(i18n.term("article", a), n, url_for(
            "ui_findings.findings", state="open", article=a)) for a, n in articles]),
        due=due[:DUE_SHOWN], events_total=audit_log.search(app, limit=1)["total"])


def _article_order(article: str) -> tuple[int, str]:
    """Art. 4(2) before Art. 16: by article number, then clause."""
    number = article.removeprefix("Art. ").split("(")[0]
    return (int(number) if number.isdigit() else 999, article)
