"""Parks: the filtered list, a park's page (state, lifecycle, events, money, findings, as of a
past moment), its step-through replay and its print view."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import LRUCache
from flask import Flask, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from ledger import timetravel
from ledger.domain import rules
from ledger.domain.errors import ParkNotFoundError
from ledger.projections import audit_log, findings, park_status, subsidies
from ledger.projections.audit_log import AUDIT_LOG
from web.views import charts, i18n
from web.views.common import (
    blueprint,
    date_arg,
    int_arg,
    ledger,
    ledger_today,
    local_datetime_arg,
    masked,
    page,
    sees_objectors,
)

bp = blueprint("ui_parks")
PAGE = 50
EVENTS_PAGE = 100
STATUSES = ("filed", "under_evaluation", "evaluated", "in_publicity", "publicity_closed",
            "approved", "rejected", "withdrawn", "revoked")
# Parks' pages (as recorded now) each process keeps. With its events kept too, a park of ~100
# events cost about half a megabyte (tracemalloc on `large`, session 9); now its event list is
# kept rendered instead (~100 KB of HTML) and the events are not (not measured again).
PAGES_KEPT = 256
PAGES_SLOT = "ui_park_pages"


def init_app(app: Flask) -> None:
    app.extensions[PAGES_SLOT] = LRUCache(maxsize=PAGES_KEPT)


@bp.get("/parks")
@page()
def parks() -> ResponseReturnValue:
    args = {k: request.args.get(k, "").strip() for k in ("prefecture", "status", "grade",
                                                         "has_open", "q")}
    number = int_arg("page", 1)
    if args["grade"] or args["has_open"]:  # filters on values computed per park: all of them
        found = park_status.parks_page(ledger(), as_of=ledger_today(),
                                       prefecture=args["prefecture"], status=args["status"],
                                       text=args["q"])[0]
        found = [p for p in found
                 if (not args["grade"] or (p["latest_grade"] or "none") == args["grade"])
                 and (args["has_open"] != "yes" or p["open_findings"] > 0)
                 and (args["has_open"] != "no" or p["open_findings"] == 0)]
        shown, total = found[(number - 1) * PAGE:number * PAGE], len(found)
    else:  # the page alone, whatever the number of parks
        shown, total = park_status.parks_page(
            ledger(), as_of=ledger_today(), prefecture=args["prefecture"],
            status=args["status"], text=args["q"], offset=(number - 1) * PAGE, limit=PAGE)
    return render_template("parks.html", parks=shown, total=total, args=args,
                           page=number, pages=max(1, -(-total // PAGE)),
                           prefectures=rules.PREFECTURES, statuses=STATUSES,
                           grades=(*rules.GRADES, "none"))


@dataclass
class History:
    """What the park page shows of a park's events: now, or as of a past moment."""

    state: dict[str, Any] | None
    events: list[dict[str, Any]]  # this page of the event list
    total: int
    cursor: int | None  # where the next page starts, if there is one
    marks: list[charts.Mark]
    money: list[dict[str, Any]]
    after: int = 0  # where this page starts (0: the first page)
    previous: int | None = None  # where the previous page starts, when it can be told
    offset: int | None = None  # how many entries come before this page, when it can be told


@bp.get("/parks/<code>")
@page()
def park(code: str) -> ResponseReturnValue:
    version = _require(code)
    known_at, effective_on = local_datetime_arg("known_at"), date_arg("effective_on")
    after = int_arg("after", 0, low=0, high=2**62)
    if known_at is None and effective_on is None:
        day = ledger_today()
        view, shown = None, _kept_now(code, version, after, day)
    else:
        view = _as_of(code, known_at, effective_on, after)
        day = effective_on or (known_at.astimezone(ledger().timezone).date() if known_at
                               else ledger_today())
        shown = _gathered(code, view, known_at, after, day)
    history = shown["history"]
    return render_template(
        "park.html", code=code, view=view, day=day, state=history.state, total=history.total,
        known_at=request.args.get("known_at", ""),
        effective_on=request.args.get("effective_on", ""), money=history.money, **shown)


def _shown(code: str, view: dict[str, Any] | None, known_at: datetime | None, after: int,
           day: date) -> dict[str, Any]:
    """What the park page shows of the park on `day`: now (`view` None) or as of a past
    moment."""
    history = (_now(code, after) if view is None
               else _then_known(code, view) if known_at is not None
               else _then(code, view, after))
    park_findings = findings.findings(ledger(), as_of=day, park_code=code)
    if known_at is not None:
        park_findings = [f for f in park_findings if _known(f, known_at)]
    return {"history": history, "findings": park_findings,
            "status_row": park_status.status(ledger(), code, as_of=day),
            "balances": _balances(code, day, history.money if view is not None else None),
            **_pictures(history, day)}


def _gathered(code: str, view: dict[str, Any] | None, known_at: datetime | None, after: int,
              day: date) -> dict[str, Any]:
    """Everything the park page shows of the park, its event list rendered."""
    shown = _shown(code, view, known_at, after, day)
    return {**shown, **_timeline(code, shown["history"])}


def _timeline(code: str, history: History) -> dict[str, Any]:
    """The page of the event list, its rows rendered as this reader may see them, and the
    links to the pages around it."""
    events = [masked(e) for e in history.events]
    return {"timeline": Markup(render_template("park_events.html", events=events)),
            "events_shown": len(events), **_pager(code, history)}


def _kept_now(code: str, version: int, after: int, day: date) -> dict[str, Any]:
    """The park as recorded now. What the read models show of it, the event list rendered,
    is kept while the park stays at `version` (its row in the park status read model) and
    the day, the reader's sight of objectors and the language stay the same: a park's page
    reads only the park's own events and rows. Kept only while every read model stands at the
    same position, so that all of them hold the park at `version` (one catching up from
    behind, or rebuilt, would otherwise be kept half-way). The state is the store's, read on
    every request: it may be ahead of the read models (events saved while they wait to catch
    up)."""
    positions = set(ledger().projections.positions().values())
    if len(positions) != 1:
        return _gathered(code, None, None, after, day)
    key = (code, version, after, day, sees_objectors(), i18n.language(), request.script_root)
    pages: LRUCache[tuple[Any, ...], dict[str, Any]] = current_app.extensions[PAGES_SLOT]
    try:
        shown = pages.get(key)
    except KeyError:
        shown = _gathered(code, None, None, after, day)
        # the events are kept rendered, not twice
        pages.put(key, {**shown, "history": replace(shown["history"], events=[])})
        return shown
    return {**shown, "history": replace(shown["history"], state=ledger().park(code))}


def _now(code: str, after: int) -> History:
    """The park as recorded now: its events a page at a time from the audit-log index (the
    cursor is a position in the log)."""
    app = ledger()
    found = audit_log.search(app, audit_log.AuditFilter(park_code=code), limit=EVENTS_PAGE,
                             after=after or None, reveal_protected=sees_objectors())
    return History(app.park(code), found["entries"], found["total"], found["next"],
                   _marks(code), subsidies.entries(app, code), after)


def _then_known(code: str, view: dict[str, Any]) -> History:
    """The park as known at a past moment: `view` holds one page of its timeline (the cursor
    is a version; versions 1..N are all there, so the previous page is `after` - a page)."""
    known, after = view["version"], view["after"]
    return History(
        view["state"], view["timeline"], view["total"], view["next"],
        [m for m in _marks(code) if m.version <= known],
        [m for m in subsidies.entries(ledger(), code) if m["version"] <= known], after,
        previous=max(0, min(after, known) - EVENTS_PAGE) if after else None,
        offset=min(after, known))


def _then(code: str, view: dict[str, Any], after: int) -> History:
    """The park as in force on a past day (the time-travel answer holds its whole timeline)."""
    timeline = view["timeline"]
    versions = {e["version"] for e in timeline}
    later = [e for e in timeline if e["version"] > after]
    events = later[:EVENTS_PAGE]
    return History(
        view["state"], events, len(timeline),
        events[-1]["version"] if len(later) > EVENTS_PAGE else None,
        [charts.Mark(e["version"], e["event_type"], date.fromisoformat(e["effective_on"]),
                     bool(e["flags"])) for e in timeline],
        [m for m in subsidies.entries(ledger(), code) if m["version"] in versions], after)


def _pager(code: str, history: History) -> dict[str, Any]:
    """Links to the first, previous and next pages of the event list (None where there is no
    such page, or it cannot be told), keeping the as-of moment; and the number of the first
    entry shown, when it can be told."""
    kept: dict[str, Any] = {k: v for k, v in request.args.items()
                            if k in ("known_at", "effective_on")}

    def link(after: int, anchor: str) -> str:
        return url_for(".park", code=code, **kept, **({"after": after} if after else {})) + \
            anchor

    last = history.events[-1]["version"] if history.events else None
    return {
        "next_url": link(history.cursor, f"#v{last + 1}")
        if history.cursor is not None and last is not None else None,
        "previous_url": link(history.previous, f"#v{history.previous + 1}")
        if history.previous is not None else None,
        "first_url": link(0, "#events") if history.after else None,
        "shown_from": None if history.offset is None or not history.events
        else history.offset + 1,
    }


def _pictures(history: History, day: date) -> dict[str, Any]:
    return {
        "lifecycle": charts.lifecycle(history.marks, day, lambda k: i18n.term("event", k),
                                      lambda lane: i18n.text(f"stage.{lane}"),
                                      lambda v: f"#v{v}"),
        "balance_chart": charts.balance(history.money, day, {
            "held": i18n.text("chart.held"), "owed": i18n.text("chart.owed")}),
    }


@bp.get("/parks/<code>/replay")
@page()
def replay(code: str) -> ResponseReturnValue:
    order = request.args.get("order", timetravel.RECORDED)
    if order not in (timetravel.RECORDED, timetravel.EFFECTIVE):
        order = timetravel.RECORDED
    step = int_arg("step", 1, high=2**31)
    result = timetravel.replay(ledger(), code, order=order, start=step, limit=1)
    if not result["steps"] and result["total"]:
        step = result["total"]
        result = timetravel.replay(ledger(), code, order=order, start=step, limit=1)
    current = result["steps"][0] if result["steps"] else None
    if current is not None:
        current = {**current, "event": masked(current["event"]),
                   "changes": [{**c, "label": _state_label(c["field"])}
                               for c in current["changes"]
                               if not (_blank(c["before"]) and _blank(c["after"]))]}
    return render_template("replay.html", code=code, order=order, step=step,
                           total=result["total"], current=current,
                           prev_url=url_for(".replay", code=code, order=order, step=step - 1)
                           if step > 1 else None,
                           next_url=url_for(".replay", code=code, order=order, step=step + 1)
                           if step < result["total"] else None)


@bp.get("/parks/<code>/print")
@page()
def print_view(code: str) -> ResponseReturnValue:
    app = ledger()
    _require(code)
    events = audit_log.entries(app, audit_log.AuditFilter(park_code=code))
    return render_template("park_print.html", code=code, state=app.park(code),
                           events=[masked(e) for e in events], printed_at=app.clock(),
                           lifecycle=charts.lifecycle(
                               _marks(code), ledger_today(), lambda k: i18n.term("event", k),
                               lambda lane: i18n.text(f"stage.{lane}"), lambda v: f"#v{v}",
                               width=900))


# --------------------------------------------------------------------------- helpers


def _require(code: str) -> int:
    """The park's version in the park status read model; 404 unless the park exists (asked
    of the read model: the store would replay it)."""
    table = park_status.PARK_STATUS
    with ledger().reader.connect() as conn:
        version = conn.scalar(sa.select(table.c.version).where(table.c.park_code == code))
    if version is None:
        abort(404)
    return int(version)


def _as_of(code: str, known_at: datetime | None, effective_on: date | None, after: int
           ) -> dict[str, Any] | None:
    try:
        if known_at is not None:
            return timetravel.as_known_at(ledger(), code, known_at, after=after,
                                          limit=EVENTS_PAGE)
        if effective_on is not None:
            return timetravel.as_effective_on(ledger(), code, effective_on)
    except ParkNotFoundError:
        abort(404)
    return None


def _marks(code: str) -> list[charts.Mark]:
    """Every event of the park as the lifecycle picture needs it, from the audit-log index."""
    c = AUDIT_LOG.c
    query = (sa.select(c.version, c.event_type, c.effective_on, c.flag_count)
             .where(c.park_code == code).order_by(c.version))
    with ledger().reader.connect() as conn:
        return [charts.Mark(v, kind, on, flags > 0) for v, kind, on, flags in conn.execute(query)]


def _balances(code: str, day: date, money: list[dict[str, Any]] | None) -> dict[str, str]:
    """The park's subsidy balances on `day` (from the read model), or summed from the money
    events of an as-known-at view."""
    if money is None:
        rows = subsidies.parks(ledger(), day, park_code=code)
        return rows[0] if rows else {}
    sums = {k: Decimal(0) for k in ("disbursed", "demanded", "received")}
    for entry in money:
        sums[entry["kind"]] += Decimal(entry["amount_yuan"])
    return {"disbursed": f"{sums['disbursed']:.2f}", "refund_demanded": f"{sums['demanded']:.2f}",
            "refunded": f"{sums['received']:.2f}",
            "net_retained": f"{sums['disbursed'] - sums['received']:.2f}",
            "outstanding": f"{max(Decimal(0), sums['demanded'] - sums['received']):.2f}"}


def _blank(value: Any) -> bool:
    return value is None or value == {} or value == [] or value == ""


def _state_label(path: str) -> str:
    """A state field's dotted path with its first part in the page's language."""
    head, _, rest = path.partition(".")
    key = f"col.{head}"
    label = i18n.text(key) if key in i18n.UI else i18n.term("field", head)
    return f"{label} · {rest}" if rest else label


def _known(finding: dict[str, Any], moment: datetime) -> bool:
    raised = finding["raised_by"]
    if "recorded_at" in raised:
        return datetime.fromisoformat(raised["recorded_at"]) <= moment
    return True
