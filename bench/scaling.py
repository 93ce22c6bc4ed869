"""Small against large: each figure of two result files side by side (`python -m bench scaling`).

A rate that holds, or a time per operation that holds, as the data grows 10-200x is what "no
worse than linear" asks: the work per command, per event or per page must not grow with the
size of the ledger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RATES = ("commands", "bulk_import", "rebuild", "verify")  # per second: higher is better
TIMES = ("as_known_at", "audit_search")  # ms per operation: lower is better
HTTP = ("park_page", "audit_log_page", "command", "dashboard_page", "findings_page", "finance_page",
        "audit_ui_page", "park_ui_page")


def rows(small: dict[str, Any], large: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, small, large, large ÷ small) for every figure both runs have."""
    out = []
    for name in RATES + TIMES:
        a, b = small["figures"].get(name), large["figures"].get(name)
        if not a or not b:
            continue
        unit = a["unit"]
        if name in TIMES:
            out.append((f"{name} p50 / p95 ({unit})",
                        f"{a['median']:.1f} / {a.get('p95_ms', 0):.1f}",
                        f"{b['median']:.1f} / {b.get('p95_ms', 0):.1f}",
                        f"{b['median'] / a['median']:.2f}"))
        else:
            out.append((f"{name} ({unit}; ratio to the library)",
                        f"{a['median']:,.0f} ({a['ratio']:.3f}x)",
                        f"{b['median']:,.0f} ({b['ratio']:.3f}x)",
                        f"{b['median'] / a['median']:.2f}"))
    for name in HTTP:
        a = small.get("http", {}).get("scenarios", {}).get(name)
        b = large.get("http", {}).get("scenarios", {}).get(name)
        if not a or not b or a.get("p95_ms") is None or b.get("p95_ms") is None:
            continue
        out.append((f"HTTP {name} p95 ms (req/s)", f"{a['p95_ms']:.1f} ({a['req_per_s']:,.0f})",
                    f"{b['p95_ms']:.1f} ({b['req_per_s']:,.0f})",
                    f"{b['p95_ms'] / a['p95_ms']:.2f}"))
    return out


def merged(paths: list[Path]) -> dict[str, Any]:
    """Several result files of one size and database as one: for each figure the latest file
    that has it (and did not mark it invalid)."""
    runs = sorted((json.loads(p.read_text(encoding="utf-8")) for p in paths),
                  key=lambda r: r["started_at"])
    out: dict[str, Any] = {"figures": {}, "data": runs[-1]["data"], "db": runs[-1]["db"]}
    for run in runs:
        out["figures"].update({k: v for k, v in run["figures"].items() if "invalid" not in v})
        if run.get("http", {}).get("scenarios"):
            out["http"] = run["http"]
    return out


def table(small_paths: Path | list[Path], large_paths: Path | list[Path]) -> str:
    small, large = (merged(p if isinstance(p, list) else [p])
                    for p in (small_paths, large_paths))
    size = (f"{small['data']['park_events']:,} → {large['data']['park_events']:,} park events, "
            f"{small['data']['parks']:,} → {large['data']['parks']:,} parks ({small['db']})")
    lines = [size, "", "| figure | small | large | large ÷ small |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(small, large)]
    return "\n".join(lines)
