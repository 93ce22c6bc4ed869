"""Exports of the read models: `ledger report subsidies|findings|audit_log --format csv|json`.

JSON is the query's own answer. CSV is one flat row per line: for subsidies a row per park,
then per prefecture, then the province (column `level`); for findings a row per finding; for
the audit log a row per event (its own fields as JSON text, objectors masked unless asked).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

from ledger.domain.errors import ValidationError
from ledger.projections import audit_log, findings, subsidies

if TYPE_CHECKING:
    from ledger.application import Ledger

REPORTS = ("subsidies", "findings", "audit_log")
FORMATS = ("csv", "json")
SUBSIDY_COLUMNS = ("level", "park_code", "name", "prefecture", "revoked_on", "parks",
                   *subsidies.TOTALS)
FINDING_COLUMNS = ("finding_id", "park_code", "prefecture", "source", "article", "rule",
                   "severity", "state", "message", "raised_on", "raised_by_version",
                   "raised_by_clock", "override_reason", "resolved_by_version", "resolved_on",
                   "closed_by_version", "closed_on", "closed_by")
AUDIT_COLUMNS = ("position", "park_code", "version", "event_type", "prefecture", "effective_on",
                 "recorded_at", "actor_user", "actor_role", "actor_organisation", "reason",
                 "override_reason", "flags", "corrected_by", "fields")


def write_report(ledger: Ledger, name: str, fmt: str, out: TextIO, as_of: date | None = None,
                 where: audit_log.AuditFilter | None = None,
                 reveal_protected: bool = False) -> int:
    """Write the named report to `out`; return how many parks, findings or log entries it
    holds. `where` and `reveal_protected` apply to the audit log (objectors masked unless)."""
    if name not in REPORTS:
        raise ValidationError("report", f"must be one of {', '.join(REPORTS)}")
    if fmt not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}")
    if name == "subsidies":
        data: Any = subsidies.ledger_report(ledger, as_of)
        rows = subsidy_rows(data)
        count = len(data["parks"])
    elif name == "findings":
        data = findings.findings(ledger, as_of)
        rows = [finding_row(f) for f in data]
        count = len(data)
    else:
        data = audit_log.entries(ledger, where, reveal_protected=reveal_protected)
        rows = [audit_row(e) for e in data]
        count = len(data)
    if fmt == "json":
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        columns = {"subsidies": SUBSIDY_COLUMNS, "findings": FINDING_COLUMNS,
                   "audit_log": AUDIT_COLUMNS}[name]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return count


def subsidy_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The subsidy ledger flattened: parks, prefectures, then the province."""
    rows = [{"level": "park", "parks": 1, **_pick(p, SUBSIDY_COLUMNS)} for p in report["parks"]]
    rows += [{"level": "prefecture", **_pick(p, SUBSIDY_COLUMNS)} for p in report["prefectures"]]
    rows.append({"level": "province", **_pick(report["province"], SUBSIDY_COLUMNS)})
    return rows


def finding_row(finding: dict[str, Any]) -> dict[str, Any]:
    """One finding flattened to the CSV columns."""
    raised, resolved, closed = (finding["raised_by"], finding["resolved_by"] or {},
                                finding["closed_by"] or {})
    return {**_pick(finding, FINDING_COLUMNS),
            "raised_by_version": raised.get("version"), "raised_by_clock": raised.get("clock"),
            "override_reason": raised.get("override_reason"),
            "resolved_by_version": resolved.get("version"),
            "resolved_on": resolved.get("effective_on"),
            "closed_by_version": closed.get("version"), "closed_on": closed.get("closed_on"),
            "closed_by": closed.get("user")}


def audit_row(entry: dict[str, Any]) -> dict[str, Any]:
    """One audit-log entry flattened: actor split, flags and fields as JSON text."""
    return {**_pick(entry, AUDIT_COLUMNS),
            **{f"actor_{k}": v for k, v in entry["actor"].items()},
            "flags": json.dumps(entry["flags"], ensure_ascii=False),
            "corrected_by": " ".join(str(v) for v in entry["corrected_by"]),
            "fields": json.dumps(entry["fields"], ensure_ascii=False, sort_keys=True)}


def _pick(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    return {k: row[k] for k in columns if k in row}
