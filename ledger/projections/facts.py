"""The dated facts time-raised findings and due dates depend on, and the rules that read them.

A read model keeps a park's facts as JSON: one entry per relevant event, keyed by version, with
the fields the rules read (as text). A correction of one of those fields rewrites the entry, so
a corrected deadline or amount changes what is due. The rules take `as_of`: a fact counts only
once its effective date is on or before `as_of`.

The time rules (DESIGN.md, "Findings that time alone raises"):
- Art. 16 self-evaluation: the year Y's report is due by 31 March of Y+1, for every year from
  the approval year until the year before the plaque is revoked;
- Art. 16 triennial evaluation: due 3, 6, 9 ... years after approval (while the park holds its
  plaque); the n-th grading answers the n-th due date;
- Art. 17 rectification: completed by its deadline;
- Art. 17 clawback: a refund demanded within REFUND_DEMAND_GRACE_DAYS of the revocation of a
  park that received money;
- Art. 17 refund: every demand paid in full by its deadline (receipts pay the oldest demand first).
A finding is raised the day after the date passes; when the fact arrives late it shows as
resolved by that event; an auditor can close it like any other finding.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledger.domain import rules

REFUND_DEMAND_GRACE_DAYS = 30
SEVERITY = rules.BREACH
FACT_FIELDS = {
    "ParkApproved": (), "PlaqueRevoked": (), "SelfEvaluationReported": ("year",),
    "EvaluationGraded": ("cycle",), "RectificationOrdered": ("deadline", "notice_no"),
    "RectificationCompleted": (), "SubsidyDisbursed": ("amount_yuan",),
    "RefundDemanded": ("amount_yuan", "deadline", "notice_no"), "RefundReceived": ("amount_yuan",),
}
DUTY_OF = {"self_evaluation_missing": "self_evaluation",
           "triennial_evaluation_overdue": "triennial_evaluation",
           "rectification_overdue": "rectification", "refund_not_demanded": "refund_demand",
           "refund_overdue": "refund"}  # finding rule -> the duty it watches


def empty() -> dict[str, Any]:
    return {"entries": {}}


def record(facts: dict[str, Any], event: Any) -> bool:
    """Note the event in the facts if a time rule reads it; return whether anything changed."""
    kind = type(event).__name__
    if kind == "EntryCorrected":
        entry = facts["entries"].get(str(event.corrects_version))
        if entry is None or event.field not in entry:
            return False
        entry[event.field] = event.right_value
        return True
    if kind not in FACT_FIELDS:
        return False
    entry = {"type": kind, "version": event.originator_version,
             "effective_on": event.effective_on.isoformat()}
    for name in FACT_FIELDS[kind]:
        entry[name] = str(getattr(event, name))
    facts["entries"][str(event.originator_version)] = entry
    return True


class Facts:
    """A park's facts as known on `as_of`: only entries effective on or before that day."""

    def __init__(self, park_code: str, facts: dict[str, Any], as_of: date) -> None:
        self.park_code = park_code
        self.as_of = as_of
        entries = [e for e in facts["entries"].values()
                   if date.fromisoformat(e["effective_on"]) <= as_of]
        self.entries = sorted(entries, key=lambda e: (e["effective_on"], e["version"]))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["type"] == kind]

    def first_date(self, kind: str) -> date | None:
        found = self.of(kind)
        return _day(found[0]["effective_on"]) if found else None

    def total(self, kind: str) -> Decimal:
        return sum((Decimal(e["amount_yuan"]) for e in self.of(kind)), Decimal("0"))

    # ----------------------------------------------------------------- obligations

    def obligations(self) -> list[dict[str, Any]]:
        """Every dated duty of the park: its due date and the event that met it (if any)."""
        return (self._self_evaluations() + self._triennials() + self._rectifications()
                + self._refund_demand() + self._refunds())

    def findings(self) -> list[dict[str, Any]]:
        """The time-raised findings on `as_of`: duties whose due date passed unmet in time."""
        found = []
        for duty in self.obligations():
            met = duty["met_by"]
            if duty["due_on"] >= self.as_of or (met and met["effective_on"] <= duty["due_on"]):
                continue
            found.append({
                "finding_id": f"{self.park_code}/clock/{duty['rule']}"
                              + (f"/{duty['detail']}" if duty["detail"] else ""),
                "park_code": self.park_code, "source": "clock", "article": duty["article"],
                "rule": duty["rule"], "severity": SEVERITY, "message": duty["message"],
                "raised_on": duty["due_on"] + timedelta(days=1), "due_on": duty["due_on"],
                "resolved_by": met})
        return found

    def next_due(self) -> dict[str, Any] | None:
        """The earliest duty not yet met (overdue ones first, as their date is earlier)."""
        open_ = [d for d in self.obligations() if d["met_by"] is None]
        if not open_:
            return None
        duty = min(open_, key=lambda d: d["due_on"])
        return {"kind": DUTY_OF[duty["rule"]], "due_on": duty["due_on"],
                "detail": duty["detail"], "article": duty["article"],
                "overdue": duty["due_on"] < self.as_of}

    def _duty(self, rule: str, article: str, due_on: date, detail: str, message: str,
              met: dict[str, Any] | None) -> dict[str, Any]:
        met_by = None if met is None else {"version": met["version"],
                                          "effective_on": _day(met["effective_on"])}
        return {"rule": rule, "article": article, "due_on": due_on, "detail": detail,
                "message": message, "met_by": met_by}

    def _holding_years(self) -> tuple[date, date | None] | None:
        approved = self.first_date("ParkApproved")
        return None if approved is None else (approved, self.first_date("PlaqueRevoked"))

    def _self_evaluations(self) -> list[dict[str, Any]]:
        held = self._holding_years()
        if held is None:
            return []
        approved, revoked = held
        last_year = self.as_of.year if revoked is None else revoked.year - 1
        reports = {int(e["year"]): e for e in self.of("SelfEvaluationReported")}
        duties = []
        for year in range(approved.year, last_year + 1):
            due = date(year + 1, *rules.SELF_EVALUATION_DUE)
            duties.append(self._duty("self_evaluation_missing", "Art. 16", due, str(year),
                                     f"self-evaluation of {year} not reported by {due}",
                                     reports.get(year)))
        return duties

    def _triennials(self) -> list[dict[str, Any]]:
        held = self._holding_years()
        if held is None:
            return []
        approved, revoked = held
        grades = self.of("EvaluationGraded")
        duties: list[dict[str, Any]] = []
        n = 1
        while True:
            due = _add_years(approved, rules.EVALUATION_CYCLE_YEARS * n)
            if (revoked is not None and due > revoked) or (
                    n > len(grades) + 1 and due >= self.as_of):
                return duties
            met = grades[n - 1] if n <= len(grades) else None
            duties.append(self._duty("triennial_evaluation_overdue", "Art. 16", due,
                                     due.isoformat(), f"provincial evaluation no. {n} due by "
                                     f"{due} (every {rules.EVALUATION_CYCLE_YEARS} years "
                                     "after approval)", met))
            n += 1

    def _rectifications(self) -> list[dict[str, Any]]:
        completions = self.of("RectificationCompleted")
        duties = []
        for order in self.of("RectificationOrdered"):
            done = next((c for c in completions if c["version"] > order["version"]), None)
            deadline = _day(order["deadline"])
            duties.append(self._duty("rectification_overdue", "Art. 17", deadline,
                                     f"v{order['version']}", f"rectification "
                                     f"{order['notice_no']} not completed by {deadline}", done))
        return duties

    def _refund_demand(self) -> list[dict[str, Any]]:
        revoked = self.first_date("PlaqueRevoked")
        if revoked is None or self.total("SubsidyDisbursed") <= 0:
            return []
        due = revoked + timedelta(days=REFUND_DEMAND_GRACE_DAYS)
        demands = self.of("RefundDemanded")
        return [self._duty("refund_not_demanded", "Art. 17", due, "",
                           f"plaque revoked on {revoked}, no refund demanded within "
                           f"{REFUND_DEMAND_GRACE_DAYS} days", demands[0] if demands else None)]

    def _refunds(self) -> list[dict[str, Any]]:
        receipts = self.of("RefundReceived")
        duties, owed = [], Decimal("0")
        for demand in self.of("RefundDemanded"):
            owed += Decimal(demand["amount_yuan"])
            paid, settled = Decimal("0"), None
            for receipt in receipts:
                paid += Decimal(receipt["amount_yuan"])
                if paid >= owed:
                    settled = receipt
                    break
            deadline = _day(demand["deadline"])
            duties.append(self._duty("refund_overdue", "Art. 17", deadline,
                                     f"v{demand['version']}", f"refund {demand['notice_no']} of "
                                     f"¥{demand['amount_yuan']} not fully received by {deadline}",
                                     settled))
        return duties


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _add_years(day: date, years: int) -> date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))
