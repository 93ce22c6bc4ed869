"""Export, then import into a fresh database: the same history, recorded again."""

from __future__ import annotations

import json

from config import Config
from ledger.application import Ledger
from ledger.demo import demo_commands
from ledger.exporter import event_records
from ledger.importer import command_from_record, import_commands, import_lines
from ledger.integrity import verify
from tests.processes import run_ledger

# What a second recording of the same event cannot share: where and when it was recorded, and
# the hashes, which cover the recorded time.
RECORDING = ("position", "recorded_at", "prev_hash", "hash")


def history(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in RECORDING} for r in records]


def export_lines(ledger: Ledger) -> list[str]:
    return [json.dumps(r, ensure_ascii=False) for r in event_records(ledger)]


def test_export_imported_with_the_same_clock_gives_the_same_digest(ledger, clock, tmp_path):
    """Everything an event's hash covers travels in the export: with the recorded time held
    equal, a fresh ledger rebuilt from the export has every hash and the digest of the original."""
    import_commands(ledger, demo_commands())
    lines = export_lines(ledger)
    copy = Ledger(Config(database_url=f"sqlite:///{tmp_path / 'copy.db'}"), clock=clock)

    report = import_lines(copy, lines)

    assert report.ok and report.recorded == len(lines) == 91, report.as_dict()
    assert verify(copy.database, copy.engine).ok
    assert verify(copy.database, copy.engine).digest()["head"] == \
        verify(ledger.database, ledger.engine).digest()["head"]
    assert [r["hash"] for r in event_records(copy)] == [json.loads(t)["hash"] for t in lines]
    copy.close()


def test_export_imported_again_into_the_same_ledger_records_nothing(ledger):
    import_commands(ledger, demo_commands())
    before = verify(ledger.database, ledger.engine).digest()

    report = import_lines(ledger, export_lines(ledger))

    assert report.ok and report.recorded == 0 and report.replayed == 91
    assert verify(ledger.database, ledger.engine).digest() == before


def test_exported_event_without_idempotency_key_lands_on_its_version_or_is_refused(ledger):
    """An exported event without an idempotency key is imported with expected_version = its
    version - 1, so a history imported out of order or twice is refused instead of shifted."""
    import_commands(ledger, demo_commands()[:3])  # versions 1-3: filing, supplement, open
    records = list(event_records(ledger))
    opened = {**records[2], "idempotency_key": None}

    report = import_lines(ledger, [json.dumps(opened, ensure_ascii=False)])

    assert command_from_record(opened)["expected_version"] == 2
    assert [r.error["code"] for r in report.refused] == ["stale_version"]


def test_cli_round_trip_keeps_every_event_but_its_recording(database_url, tmp_path):
    """Export from SQLite or PostgreSQL, import into a fresh SQLite file: the same events in the
    same order, each with the same type, dates, actor, fields, documents and flags."""
    run_ledger("demo", database_url=database_url)
    exported = tmp_path / "export.jsonl"
    assert run_ledger("export", "-o", str(exported), database_url=database_url).returncode == 0
    target = f"sqlite:///{tmp_path / 'restored.db'}"

    imported = run_ledger("import", str(exported), database_url=target)
    again = tmp_path / "again.jsonl"
    run_ledger("export", "-o", str(again), database_url=target)

    assert imported.returncode == 0, imported.stdout
    original = [json.loads(t) for t in exported.read_text(encoding="utf-8").splitlines()]
    restored = [json.loads(t) for t in again.read_text(encoding="utf-8").splitlines()]
    assert len(restored) == len(original) == 91
    assert history(restored) == history(original)
    assert {r["event_type"] for r in original} >= {"SubsidyDisbursed", "EntryCorrected"}
    digests = [json.loads(run_ledger("digest", database_url=url).stdout)
               for url in (database_url, target)]
    assert digests[0]["events"] == digests[1]["events"] == 91
    assert run_ledger("verify", database_url=target).returncode == 0
