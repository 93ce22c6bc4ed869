"""The findings read model: what auditors act on, each with its article, severity, what raised
it and the `FindingClosed` event that closed it.

Two sources:
- events: every flag an event carries (breaches recorded under override, Art. 4 shortfalls and
  noted Art. 5 relaxations of a filing), id `{park_code}/v{version}/{rule}`;
- the clock: duties whose date passed unmet (`ledger.projections.facts`), id
  `{park_code}/clock/{rule}[/{detail}]`, computed for the day asked (`as_of`) from the dated
  facts stored here, so moving the clock needs no rebuild.
A finding is *open*, *resolved* (a time-raised one whose fact arrived late) or *closed* (an
auditor's `close_finding`, effective on or before `as_of`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ledger.projections import facts as dated
from ledger.projections.rows import Rows
from ledger.projections.runner import (
    METADATA,
    Handler,
    Projection,
    aware,
    park_event_names,
    today,
    utc,
)

if TYPE_CHECKING:
    from ledger.application import Ledger

STATES = ("open", "resolved", "closed")
CLOCK_FINDINGS_KEPT = 50_000  # parks (at one facts row and day each) whose clock findings are kept

FINDINGS = sa.Table(
    "rm_findings", METADATA,
    sa.Column("finding_id", sa.String(200), primary_key=True),
    sa.Column("park_code", sa.String(40), nullable=False, index=True),
    sa.Column("prefecture", sa.String(6), nullable=False, index=True),
    sa.Column("article", sa.String(40), nullable=False),
    sa.Column("rule", sa.String(60), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("raised_by_version", sa.Integer, nullable=False),
    sa.Column("raised_by_position", sa.BigInteger, nullable=False),
    sa.Column("raised_by_event", sa.String(60), nullable=False),
    sa.Column("override_reason", sa.Text),
    sa.Column("raised_on", sa.Date, nullable=False),
    sa.Column("raised_at", sa.DateTime, nullable=False),
)
CLOSURES = sa.Table(
    "rm_finding_closures", METADATA,
    sa.Column("finding_id", sa.String(200), primary_key=True),
    sa.Column("park_code", sa.String(40), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("closed_on", sa.Date, nullable=False),
    sa.Column("closed_at", sa.DateTime, nullable=False),
    sa.Column("closed_by", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
FACTS = sa.Table(
    "rm_finding_facts", METADATA,
    sa.Column("park_code", sa.String(40), primary_key=True),
    sa.Column("prefecture", sa.String(6), nullable=False, index=True),
    sa.Column("facts", sa.JSON, nullable=False),
)


class Findings(Projection):
    """Findings raised by events, closures, and the facts the clock rules read."""

    name = "findings"
    tables = (FINDINGS, CLOSURES, FACTS)

    def handlers(self) -> dict[str, Handler]:
        return {kind: self._any for kind in park_event_names()}

    def forget(self) -> None:
        self._parks: dict[str, dict[str, Any]] = {}  # park -> its FACTS row as stored (or to be)

    def forget_parks(self, park_codes: set[str]) -> None:
        for code in park_codes:
            self._parks.pop(code, None)

    def begin(self, rows: Rows) -> None:
        if "_parks" not in self.__dict__ or len(self._parks) > self.KEEP_AT_MOST:
            self.forget()
        self._new: set[str] = set()
        self._dirty: set[str] = set()
        self._findings: list[dict[str, Any]] = []
        self._closures: list[dict[str, Any]] = []

    def prepare(self, rows: Rows, events: list[tuple[int, Any]]) -> None:
        """Load the facts rows of the parks whose events need them, in one SELECT."""
        codes = {event.park_code for _, event in events if _needs_park(event)} - set(self._parks)
        for row in rows.select(FACTS, "park_code", codes):
            self._parks[row["park_code"]] = row

    def flush(self, rows: Rows) -> None:
        rows.insert(FACTS, [row for code, row in self._parks.items() if code in self._new])
        rows.insert(FINDINGS, self._findings)
        rows.insert(CLOSURES, self._closures)
        rows.update(FACTS, ("park_code",), [
            {"park_code": code, "facts": self._parks[code]["facts"]}
            for code in self._dirty - self._new])
        self.begin(rows)

    def _closed(self, position: int, event: Any) -> None:
        self._closures.append(dict(
            finding_id=event.finding_id, park_code=event.park_code,
            version=event.originator_version, position=position, closed_on=event.effective_on,
            closed_at=utc(event.recorded_at), closed_by=event.actor["user"], reason=event.reason))

    def _park(self, rows: Rows, event: Any) -> dict[str, Any]:
        code = event.park_code
        if type(event).__name__ == "ApplicationFiled":
            self._new.add(code)
            self._parks[code] = {"park_code": code, "prefecture": event.prefecture,
                                 "facts": dated.empty()}
        elif code not in self._parks:
            (self._parks[code],) = rows.select(FACTS, "park_code", [code])
        return self._parks[code]

    def _any(self, rows: Rows, position: int, event: Any) -> None:
        kind = type(event).__name__
        if not _needs_park(event):
            if kind == "FindingClosed":
                self._closed(position, event)
            return
        park = self._park(rows, event)
        for flag in event.flags:
            self._findings.append(dict(
                finding_id=flag["finding_id"], park_code=event.park_code,
                prefecture=park["prefecture"], article=flag["article"], rule=flag["rule"],
                severity=flag["severity"], message=flag["message"],
                raised_by_version=event.originator_version, raised_by_position=position,
                raised_by_event=kind, override_reason=event.override_reason,
                raised_on=event.effective_on, raised_at=utc(event.recorded_at)))
        if dated.record(park["facts"], event):
            self._dirty.add(event.park_code)
        if kind == "FindingClosed":
            self._closed(position, event)
        if kind == "EntryCorrected" and event.corrects_version == 1 and \
                event.field == "prefecture":
            self.flush(rows)  # write what is pending, then move the park's rows
            park["prefecture"] = event.right_value
            for table in (FACTS, FINDINGS):
                rows.set(table, {"park_code": event.park_code}, prefecture=event.right_value)


def _needs_park(event: Any) -> bool:
    """Whether the event reads or writes its park's facts row (flags, dated facts, filing,
    corrections)."""
    kind = type(event).__name__
    return bool(event.flags or kind in dated.FACT_FIELDS
                or kind in ("ApplicationFiled", "EntryCorrected"))


# ------------------------------------------------------------------------- queries


def findings(ledger: Ledger, as_of: date | None = None, *, park_code: str | None = None,
             prefecture: str | None = None, state: str | None = None,
             severity: str | None = None, source: str | None = None,
             park_codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every finding on `as_of` (default: today by the ledger's clock), filtered (`park_codes`:
    of these parks only), in the order park, day raised, id."""
    day = as_of or today(ledger)
    if park_codes is not None and not park_codes:
        return []
    with ledger.reader.connect() as conn:
        raised = conn.execute(_filtered(sa.select(FINDINGS), FINDINGS, park_code, prefecture,
                                        park_codes)
                              .where(FINDINGS.c.raised_on <= day)).mappings().all()
        closures = {row["finding_id"]: row for row in conn.execute(
            _filtered(sa.select(CLOSURES), CLOSURES, park_code, None, park_codes)
            .where(CLOSURES.c.closed_on <= day)).mappings()}
        parks = conn.execute(_filtered(
            sa.select(FACTS.c.park_code, FACTS.c.prefecture, sa.cast(FACTS.c.facts, sa.Text)),
            FACTS, park_code, prefecture, park_codes)).all()
    found = [_from_event(row) for row in raised]
    for code, park_prefecture, facts_text in parks:
        found.extend(dict(f) for f in _clock_findings(code, park_prefecture, facts_text, day))
    for finding in found:
        closure = closures.get(finding["finding_id"])
        finding["closed_by"] = None if closure is None else _closure(closure)
        finding["state"] = ("closed" if closure is not None else
                            "resolved" if finding["resolved_by"] is not None else "open")
    found = [f for f in found if (state is None or f["state"] == state)
             and (severity is None or f["severity"] == severity)
             and (source is None or f["source"] == source)]
    return sorted(found, key=lambda f: (f["park_code"], f["raised_on"], f["finding_id"]))


@functools.lru_cache(maxsize=CLOCK_FINDINGS_KEPT)
def _clock_findings(park_code: str, prefecture: str, facts_text: str, day: date
                    ) -> tuple[dict[str, Any], ...]:
    """The findings the clock raises on `day` on a park with these facts (its FACTS row as
    stored): a function of its arguments alone, so kept. The findings page reads every park's
    row, and between two readings only the parks that had events have new facts: the others
    cost a look-up (10,000 parks: ~430 ms computed, a tenth of that kept). Callers copy what
    they change."""
    return tuple(_from_clock(finding, prefecture) for finding in
                 dated.Facts(park_code, json.loads(facts_text), day).findings())


def _filtered(query: sa.Select[Any], table: sa.Table, park_code: str | None,
              prefecture: str | None, park_codes: Sequence[str] | None = None
              ) -> sa.Select[Any]:
    if park_codes is not None:
        query = query.where(table.c.park_code.in_(list(park_codes)))
    if park_code:
        query = query.where(table.c.park_code == park_code)
    if prefecture:
        query = query.where(table.c.prefecture == prefecture)
    return query


def _from_event(row: Any) -> dict[str, Any]:
    return {"finding_id": row["finding_id"], "park_code": row["park_code"],
            "prefecture": row["prefecture"], "source": "event", "article": row["article"],
            "rule": row["rule"], "severity": row["severity"], "message": row["message"],
            "raised_on": row["raised_on"].isoformat(),
            "raised_by": {"version": row["raised_by_version"],
                          "position": row["raised_by_position"],
                          "event_type": row["raised_by_event"],
                          "recorded_at": aware(row["raised_at"]).isoformat(),  # type: ignore[union-attr]
                          "override_reason": row["override_reason"]},
            "resolved_by": None}


def _from_clock(finding: dict[str, Any], prefecture: str) -> dict[str, Any]:
    resolved = finding["resolved_by"]
    return {**finding, "prefecture": prefecture, "raised_on": finding["raised_on"].isoformat(),
            "raised_by": {"clock": finding["due_on"].isoformat()},
            "due_on": finding["due_on"].isoformat(),
            "resolved_by": None if resolved is None else {
                "version": resolved["version"],
                "effective_on": resolved["effective_on"].isoformat()}}


def _closure(row: Any) -> dict[str, Any]:
    return {"version": row["version"], "position": row["position"],
            "closed_on": row["closed_on"].isoformat(),
            "recorded_at": aware(row["closed_at"]).isoformat(),  # type: ignore[union-attr]
            "user": row["closed_by"], "reason": row["reason"]}
