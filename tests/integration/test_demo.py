"""The demo data: every command, several prefectures, and the irregular histories auditors need."""

from __future__ import annotations

import json
from datetime import date

from ledger.commands import COMMANDS
from ledger.demo import demo_commands
from ledger.exporter import event_records
from ledger.importer import import_commands
from ledger.integrity import verify
from tests.processes import run_ledger


def flags_of(records: list[dict], code: str) -> dict[str, dict]:
    return {f["finding_id"]: {**f, "override_reason": r["override_reason"]}
            for r in records if r["park_code"] == code for f in r["flags"]}


def test_demo_uses_every_command_in_several_prefectures_with_fictional_names():
    lines = demo_commands()

    assert {line["command"] for line in lines} == set(COMMANDS)
    assert len({line["prefecture"] for line in lines if "prefecture" in line}) >= 5
    assert all("示例" in line["name"] for line in lines if line["command"] == "file_application")
    assert max(date.fromisoformat(line["effective_on"]) for line in lines) < date(2026, 11, 20)
    assert len({line["idempotency_key"] for line in lines}) == len(lines)


def test_demo_loads_through_the_importer_with_its_irregular_histories(ledger):
    report = import_commands(ledger, demo_commands())
    records = list(event_records(ledger))

    assert report.ok, report.as_dict()
    assert verify(ledger.database, ledger.engine).ok
    dali = [r for r in records if r["park_code"] == "DL-2022-01"]
    assert any(r["event_type"] == "ObjectionResolved" and r["fields"]["outcome"] == "upheld"
               for r in dali)
    assert ledger.park("DL-2022-01")["status"] == "rejected"
    honghe = flags_of(records, "HH-2023-01")
    assert honghe["HH-2023-01/v8/subsidy_not_approved"]["article"] == "Art. 9"
    assert honghe["HH-2023-01/v8/subsidy_not_approved"]["override_reason"]
    assert any(r["event_type"] == "EntryCorrected" and r["fields"]["corrects_version"] == 8
               for r in records)
    puer = ledger.park("PE-2022-01")
    assert puer["status"] == "revoked"
    assert puer["subsidy"] == {"disbursed": "2000000.00", "refund_demanded": "2000000.00",
                               "refunded": "800000.00"}
    assert {f["severity"] for f in flags_of(records, "DQ-2023-01").values()} == {"noted"}
    assert ledger.park("DQ-2023-01")["closed_findings"] == ["DQ-2023-01/v1/agencies_count"]
    assert {f["severity"] for f in flags_of(records, "QJ-2024-01").values()} == {"shortfall"}
    assert ledger.park("QJ-2024-01")["status"] == "withdrawn"


def test_demo_command_loads_once_and_verifies_clean(database_url):
    first = run_ledger("demo", database_url=database_url)

    again = run_ledger("demo", database_url=database_url)

    assert first.returncode == 0, first.stdout + first.stderr
    assert "91 lines: 91 recorded" in first.stdout
    assert again.returncode == 0 and "already loaded: nothing recorded" in again.stdout
    verified = run_ledger("verify", database_url=database_url)
    assert verified.returncode == 0
    assert json.loads(verified.stdout)["digest"]["events"] == 91
