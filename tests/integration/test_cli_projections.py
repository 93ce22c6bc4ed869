"""`ledger rebuild`, `ledger report` and `ledger worker` as real processes."""

from __future__ import annotations

import csv
import io
import json

from tests.builders import FINANCE
from tests.integration.test_cli import approved_lines, line
from tests.processes import run_ledger

CODE = "KM-2026-01"


def _load(database_url: str) -> None:
    lines = approved_lines() + [
        line("disburse_subsidy", FINANCE, park_code=CODE, effective_on="2026-04-01",
             amount_yuan="2000000.00", voucher_no="财-1")]
    done = run_ledger("import", "-", database_url=database_url, stdin="\n".join(lines))
    assert done.returncode == 0, done.stderr


def test_report_subsidies_as_json_and_findings_as_csv(database_url):
    _load(database_url)

    subsidies = run_ledger("report", "subsidies", "--format", "json",
                           database_url=database_url)
    findings = run_ledger("report", "findings", "--as-of", "2027-04-01",
                          database_url=database_url)

    assert subsidies.returncode == 0, subsidies.stderr
    assert json.loads(subsidies.stdout)["province"]["disbursed"] == "2000000.00"
    assert findings.returncode == 0, findings.stderr
    rows = list(csv.DictReader(io.StringIO(findings.stdout)))
    assert [r["finding_id"] for r in rows] == [f"{CODE}/clock/self_evaluation_missing/2026"]


def test_rebuild_named_read_models_and_worker_once(database_url):
    _load(database_url)

    rebuilt = run_ledger("rebuild", "subsidies", "findings", database_url=database_url)
    caught_up = run_ledger("worker", "--once", database_url=database_url)
    unknown = run_ledger("rebuild", "nonsense", database_url=database_url)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt subsidies, findings from 8 events" in rebuilt.stdout
    assert caught_up.returncode == 0 and "applied 0 events" in caught_up.stdout
    assert unknown.returncode == 2 and "unknown read model 'nonsense'" in unknown.stderr


def test_rebuild_in_shards_and_a_count_of_workers_that_is_not_one(database_url):
    _load(database_url)

    sharded = run_ledger("rebuild", "--workers", "2", database_url=database_url)
    none = run_ledger("rebuild", "--workers", "0", database_url=database_url)

    assert sharded.returncode == 0, sharded.stderr
    assert "rebuilt park_status, subsidies, findings, audit_log from 8 events" in sharded.stdout
    assert none.returncode == 2
    assert "--workers: must be a whole number of 1 or more, not '0'" in none.stderr
