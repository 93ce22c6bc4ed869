"""The park status read model: one row per park with what a reviewer looks at first.

Stored: status, prefecture, sub-parks, the eligibility summary of the filing, grades, the open
rectification, and the dated facts. Computed on reading, for a given day: the next due item and
the number of open findings (time raises some of them, so they cannot be stored).
"""

from __future__ import annotations

import weakref
from contextlib import suppress
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from eventsourcing.application import LRUCache

from ledger.domain import park as domain
from ledger.domain import rules
from ledger.domain.errors import ParkNotFoundError
from ledger.projections import facts as dated
from ledger.projections.rows import Rows
from ledger.projections.runner import (
    METADATA,
    Handler,
    Projection,
    aware,
    chunks,
    park_event_names,
    today,
    utc,
)

if TYPE_CHECKING:
    from ledger.application import Ledger

SUMMARIES_KEPT = 50_000  # park summaries (at one version and day each) a process keeps per ledger
OPEN_COUNTS_BY_CODE = 500  # parks to work out at most before open findings are read by filter
_SUMMARIES: weakref.WeakKeyDictionary[Ledger, LRUCache[tuple[str, int, date], dict[str, Any]]] = \
    weakref.WeakKeyDictionary()

PARK_STATUS = sa.Table(
    "rm_park_status", METADATA,
    sa.Column("park_code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefecture", sa.String(6), nullable=False, index=True),
    sa.Column("applicant", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("filed_on", sa.Date, nullable=False),
    sa.Column("approved_on", sa.Date),
    sa.Column("approval_no", sa.String(100)),
    sa.Column("plaque_no", sa.String(100)),
    sa.Column("revoked_on", sa.Date),
    sa.Column("sub_parks", sa.JSON, nullable=False),
    sa.Column("sources", sa.JSON, nullable=False),  # column -> version of the event it shows
    sa.Column("eligibility", sa.JSON, nullable=False),  # the filing's Art. 4 flags
    sa.Column("grades", sa.JSON, nullable=False),  # version -> {cycle, grade}
    sa.Column("rectification", sa.JSON),  # the open one: {notice_no, deadline, version}
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Column("last_effective_on", sa.Date, nullable=False),
    sa.Column("last_recorded_at", sa.DateTime, nullable=False),
)
STATUS_OF = {
    "ApplicationWithdrawn": domain.WITHDRAWN, "EvaluationOpened": domain.UNDER_EVALUATION,
    "EvaluationConcluded": domain.EVALUATED, "PublicityStarted": domain.IN_PUBLICITY,
    "PublicityClosed": domain.PUBLICITY_CLOSED, "ParkApproved": domain.APPROVED,
    "ApplicationRejected": domain.REJECTED, "PlaqueRevoked": domain.REVOKED,
}
FILING_FIELDS = ("name", "prefecture", "applicant")
# The columns a later event sets, by the event field each one shows (a correction names fields).
SHOWN = {"ParkApproved": {"approval_no": "approval_no", "effective_on": "approved_on"},
         "PlaqueAwarded": {"plaque_no": "plaque_no"},
         "PlaqueRevoked": {"effective_on": "revoked_on"}}


class ParkStatus(Projection):
    """Per park: where it stands in its life."""

    name = "park_status"
    tables = (PARK_STATUS,)

    def handlers(self) -> dict[str, Handler]:
        return {kind: (self._filed if kind == "ApplicationFiled" else self._changed)
                for kind in park_event_names()}

    def forget(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}  # park -> its row as stored (or to be)

    def forget_parks(self, park_codes: set[str]) -> None:
        for code in park_codes:
            self._rows.pop(code, None)

    def begin(self, rows: Rows) -> None:
        if "_rows" not in self.__dict__ or len(self._rows) > self.KEEP_AT_MOST:
            self.forget()
        self._changed_columns: dict[str, set[str]] = {}  # park -> columns this batch changed
        self._new: set[str] = set()

    def prepare(self, rows: Rows, events: list[tuple[int, Any]]) -> None:
        """Load the rows of the parks this batch touches (every event touches its park's row)
        that are not kept from an earlier batch."""
        codes = {event.park_code for _, event in events} - set(self._rows)
        for row in rows.select(PARK_STATUS, "park_code", codes):
            self._rows[row["park_code"]] = row

    def flush(self, rows: Rows) -> None:
        """Insert the new rows; update, in the others, only the columns that changed (one
        statement per set of columns)."""
        rows.insert(PARK_STATUS, [self._rows[code] for code in self._new])
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for code, columns in self._changed_columns.items():
            if code not in self._new:
                row = self._rows[code]
                by_columns.setdefault(tuple(sorted(columns)), []).append(
                    {"park_code": code, **{c: row[c] for c in columns}})
        for changes in by_columns.values():
            rows.update(PARK_STATUS, ("park_code",), changes)
        self._changed_columns, self._new = {}, set()

    def _row(self, rows: Rows, park_code: str) -> dict[str, Any]:
        if park_code not in self._rows:
            (self._rows[park_code],) = rows.select(PARK_STATUS, "park_code", [park_code])
        return self._rows[park_code]

    def _filed(self, rows: Rows, position: int, event: Any) -> None:
        facts = dated.empty()
        dated.record(facts, event)
        self._new.add(event.park_code)
        self._rows[event.park_code] = dict(
            {column.name: None for column in PARK_STATUS.columns},
            park_code=event.park_code, name=event.name, prefecture=event.prefecture,
            applicant=event.applicant, status=domain.FILED, version=1,
            filed_on=event.effective_on, sub_parks=list(event.sub_parks), sources={},
            eligibility=[f for f in event.flags if f["severity"] != rules.BREACH], grades={},
            rectification=None, facts=facts, last_effective_on=event.effective_on,
            last_recorded_at=utc(event.recorded_at))

    def _changed(self, rows: Rows, position: int, event: Any) -> None:
        row = self._row(rows, event.park_code)
        kind = type(event).__name__
        change: dict[str, Any] = {
            "version": event.originator_version, "last_recorded_at": utc(event.recorded_at),
            "last_effective_on": max(row["last_effective_on"], event.effective_on)}
        if kind in STATUS_OF:
            change["status"] = STATUS_OF[kind]
        if dated.record(row["facts"], event):
            change["facts"] = row["facts"]
        for field, column in SHOWN.get(kind, {}).items():
            change[column] = getattr(event, field)
            change["sources"] = {**row["sources"], column: event.originator_version}
            row["sources"] = change["sources"]
        if kind == "SubParkAdded":
            change["sub_parks"] = [*row["sub_parks"], event.name]
        elif kind == "EvaluationGraded":
            change["grades"] = {**row["grades"], str(event.originator_version):
                                {"cycle": event.cycle, "grade": event.grade}}
        elif kind == "RectificationOrdered":
            change["rectification"] = {"notice_no": event.notice_no,
                                       "deadline": event.deadline.isoformat(),
                                       "version": event.originator_version}
        elif kind == "RectificationCompleted":
            change["rectification"] = None
        elif kind == "EntryCorrected":
            change.update(_corrected(row, event))
        row.update(change)
        self._changed_columns.setdefault(event.park_code, set()).update(change)


def _corrected(row: dict[str, Any], event: Any) -> dict[str, Any]:
    """What a correction changes here: a filing's name/prefecture/applicant, a grade, a deadline."""
    version, field, value = event.corrects_version, event.field, event.right_value
    if version == 1 and field in FILING_FIELDS:
        return {field: value}
    for kind_fields in SHOWN.values():
        column = kind_fields.get(field)
        if column is not None and row["sources"].get(column) == version:
            return {column: date.fromisoformat(value) if field == "effective_on" else value}
    grade = row["grades"].get(str(version))
    if grade is not None and field in grade:
        return {"grades": {**row["grades"], str(version): {**grade, field: value}}}
    open_ = row["rectification"]
    if open_ is not None and open_["version"] == version and field in ("deadline", "notice_no"):
        return {"rectification": {**open_, field: value}}
    return {}


# ------------------------------------------------------------------------- queries


def status(ledger: Ledger, park_code: str, as_of: date | None = None) -> dict[str, Any]:
    """One park's status on `as_of` (default: today by the ledger's clock)."""
    found = parks(ledger, as_of=as_of, park_code=park_code)
    if not found:
        raise ParkNotFoundError(park_code)
    return found[0]


def parks(ledger: Ledger, as_of: date | None = None, *, park_code: str | None = None,
          prefecture: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Every park (filtered), ordered by code, with its next due item and open findings."""
    return parks_page(ledger, as_of, park_code=park_code, prefecture=prefecture,
                      status=status)[0]


def parks_page(ledger: Ledger, as_of: date | None = None, *, park_code: str | None = None,
               prefecture: str | None = None, status: str | None = None, offset: int = 0,
               limit: int | None = None, text: str | None = None
               ) -> tuple[list[dict[str, Any]], int]:
    """One page of the parks (filtered, ordered by code) and how many there are in all;
    `text`: a part of the code, name or applicant, in any case.

    Open findings depend on the day (the clock raises some), so they are counted on reading,
    for the parks of the page only: a page costs the same among 50 parks or 10,000.
    """
    from ledger.projections.findings import findings
    day = as_of or today(ledger)
    query = sa.select(PARK_STATUS.c.park_code, PARK_STATUS.c.version)
    for column, value in (("park_code", park_code), ("prefecture", prefecture),
                          ("status", status)):
        if value:
            query = query.where(PARK_STATUS.c[column] == value)
    if text:
        needle = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(sa.or_(*(
            sa.func.lower(PARK_STATUS.c[name]).like(f"%{needle}%", escape="\\")
            for name in ("park_code", "name", "applicant"))))
    kept = _kept_summaries(ledger)
    found: dict[str, dict[str, Any]] = {}
    with ledger.reader.connect() as conn:
        total = conn.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        page = query.order_by(PARK_STATUS.c.park_code).offset(offset)
        listed = conn.execute(page if limit is None else page.limit(limit)).all()
        for code, version in listed:
            if kept is not None:
                with suppress(KeyError):
                    found[code] = kept.get((code, version, day))
        missing = [code for code, _ in listed if code not in found]
        if len(missing) > OPEN_COUNTS_BY_CODE:  # many: the page's own query, whole rows
            whole = page.with_only_columns(*PARK_STATUS.c)
            wanted = set(missing)
            rows = [row for row in conn.execute(
                whole if limit is None else whole.limit(limit)).mappings()
                if row["park_code"] in wanted]
        else:
            rows = [row for chunk in chunks(missing) for row in conn.execute(
                sa.select(PARK_STATUS).where(PARK_STATUS.c.park_code.in_(chunk))).mappings()]
    if rows:
        open_counts: dict[str, int] = {}
        many = len(rows) > OPEN_COUNTS_BY_CODE  # then one pass over the filter's parks
        for finding in findings(ledger, as_of=day, park_code=park_code, prefecture=prefecture,
                                park_codes=None if many else missing, state="open"):
            open_counts[finding["park_code"]] = open_counts.get(finding["park_code"], 0) + 1
        for row in rows:
            found[row["park_code"]] = summary = _summary(
                row, day, open_counts.get(row["park_code"], 0))
            if kept is not None:
                kept.put((row["park_code"], row["version"], day), summary)
    return [dict(found[code]) for code, _ in listed], total


def _kept_summaries(ledger: Ledger
                    ) -> LRUCache[tuple[str, int, date], dict[str, Any]] | None:
    """The summaries this process worked out for the ledger, by (park, version, day), or
    None while this read model and the findings one stand at different log positions.

    A summary is a function of the park's events and the day alone (its status, facts and
    findings come from the park's own events; even closing a finding is one), so one at a
    version is never stale: a page, or the dashboard's every park, works out again only the
    parks that had events since (among 10,000: ~15 ms instead of ~700 ms). Its open findings
    are the findings read model's, so summaries are kept and used only while both read
    models have applied the same events."""
    positions = ledger.projections.positions()
    if positions.get(ParkStatus.name) != positions.get("findings"):
        return None
    try:
        return _SUMMARIES[ledger]
    except KeyError:
        return _SUMMARIES.setdefault(ledger, LRUCache(maxsize=SUMMARIES_KEPT))


def _summary(row: Any, day: date, open_findings: int) -> dict[str, Any]:
    grades = sorted(row["grades"].values(), key=lambda g: g["cycle"])
    latest = grades[-1] if grades else None
    due = dated.Facts(row["park_code"], row["facts"], day).next_due()
    return {
        "park_code": row["park_code"], "name": row["name"], "prefecture": row["prefecture"],
        "prefecture_name": rules.PREFECTURES.get(row["prefecture"], ""),
        "applicant": row["applicant"], "status": row["status"], "version": row["version"],
        "filed_on": row["filed_on"].isoformat(), "approved_on": _iso(row["approved_on"]),
        "approval_no": row["approval_no"], "plaque_no": row["plaque_no"],
        "revoked_on": _iso(row["revoked_on"]), "sub_parks": list(row["sub_parks"]),
        "eligibility": {"meets_article_4": not any(f["severity"] == rules.SHORTFALL
                                                   for f in row["eligibility"]),
                        "flags": list(row["eligibility"])},
        "latest_grade": latest and latest["grade"], "latest_cycle": latest and latest["cycle"],
        "rectification": row["rectification"],
        "next_due": None if due is None else {**due, "due_on": due["due_on"].isoformat()},
        "open_findings": open_findings, "as_of": day.isoformat(),
        "last_effective_on": row["last_effective_on"].isoformat(),
        "last_recorded_at": aware(row["last_recorded_at"]).isoformat(),  # type: ignore[union-attr]
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
