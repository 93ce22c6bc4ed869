"""The `ledger` command as a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from config import Config
from ledger.application import Ledger
from ledger.cli import SUBCOMMANDS, build_parser, ledger_exists
from tests.builders import CLERK, FINANCE, filing, scores
from tests.processes import process_env, run_ledger

CODE = "KM-2026-01"


def line(command: str, actor: dict[str, str] = CLERK, **fields: object) -> str:
    return json.dumps({"command": command, "actor": actor, **fields}, ensure_ascii=False)


def approved_lines(code: str = CODE) -> list[str]:
    """Import lines taking a park from filing to approval (publicity 2026-03-02 to 03-06)."""
    return [
        line("file_application", **filing(code)),
        line("open_evaluation", park_code=code, effective_on="2026-01-10", panel=["张专家"]),
        line("record_expert_opinion", park_code=code, effective_on="2026-01-20", expert="张专家",
             organisation="云南大学", scores=scores(), recommendation="recommend"),
        line("conclude_evaluation", park_code=code, effective_on="2026-02-01",
             outcome="recommended"),
        line("start_publicity", park_code=code, effective_on="2026-03-02",
             starts_on="2026-03-02", ends_on="2026-03-06", channel="网站"),
        line("close_publicity", park_code=code, effective_on="2026-03-06"),
        line("approve_park", park_code=code, effective_on="2026-03-10", approval_no="批-1"),
    ]


def stored_events(database_url: str) -> int:
    ledger = Ledger(Config(database_url=database_url))
    try:
        return sum(1 for _ in ledger.park_events())
    finally:
        ledger.close()


def test_every_subcommand_accepts_database_url():
    parser = build_parser()

    for name in SUBCOMMANDS:
        positional = {"import": ["-"], "user": ["list"], "report": ["findings"]}.get(name, [])
        args = parser.parse_args([name, *positional, "--database-url", "sqlite:///x.db"])

        assert args.database_url == "sqlite:///x.db"


def test_init_creates_the_ledger_and_says_where(database_url):
    done = run_ledger("init", database_url=database_url)

    assert done.returncode == 0, done.stderr
    assert "ledger ready at" in done.stdout and "(0 stored events)" in done.stdout
    assert ledger_exists(database_url)


def test_init_takes_the_database_from_ledger_database_url(database_url):
    done = run_ledger("init", env=process_env(LEDGER_DATABASE_URL=database_url))

    assert done.returncode == 0, done.stderr
    assert ledger_exists(database_url)


def test_read_only_subcommands_refuse_a_missing_ledger_and_create_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'typo.db'}"

    for name in ("verify", "digest", "export"):
        done = run_ledger(name, database_url=url)

        assert done.returncode == 2
        assert "no ledger at" in done.stderr and "ledger init" in done.stderr
    assert not (tmp_path / "typo.db").exists()


def test_import_records_every_line_and_exits_zero(database_url, tmp_path):
    path = tmp_path / "commands.jsonl"
    path.write_text("\n".join(approved_lines()) + "\n\n", encoding="utf-8")

    done = run_ledger("import", str(path), database_url=database_url)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 lines: 7 recorded, 0 already recorded (same idempotency key), 0 refused" \
        in done.stdout
    ledger = Ledger(Config(database_url=database_url))
    try:
        assert ledger.park(CODE)["status"] == "approved"
    finally:
        ledger.close()


def test_import_names_each_refused_line_with_its_code_and_exits_one(database_url, tmp_path):
    lines = [
        line("file_application", **filing(CODE)),
        '{"command": "file_application", "actor": ',  # malformed JSON
        line("disburse_subsidy", FINANCE, park_code=CODE, effective_on="2026-04-01",
             amount_yuan="2000000.00", voucher_no="财-1"),  # Art. 9: not approved, no override
        line("open_evaluation", park_code="NOPE-1", effective_on="2026-01-10", panel=["张"]),
        json.dumps({"command": "supplement_materials", "park_code": CODE,
                    "effective_on": "2026-01-06", "note": "x"}),  # no actor
        line("supplement_materials", FINANCE, park_code=CODE, effective_on="2026-01-06",
             note="x"),  # finance may not
        line("supplement_materials", park_code=CODE, effective_on="2026-01-06",
             amount_yuan=1),  # unknown field, note missing
        line("supplement_materials", park_code=CODE, effective_on="2026-01-07", note="补充"),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")

    done = run_ledger("import", str(path), database_url=database_url)

    assert done.returncode == 1
    out = done.stdout
    assert "line 2: refused invalid (line): line: not valid JSON" in out
    assert "line 3: refused rule_breach (override_reason): breaches Art. 9" in out
    assert "line 4: refused park_not_found (park_code)" in out
    assert "line 5: refused invalid (actor): actor: missing" in out
    assert "line 6: refused forbidden (actor.role)" in out
    assert "line 7: refused invalid (" in out
    assert "line 1:" not in out and "line 8:" not in out
    assert "8 lines: 2 recorded, 0 already recorded (same idempotency key), 6 refused" in out
    assert stored_events(database_url) == 2  # the refused lines wrote nothing


def test_import_reads_stdin_and_reports_json(database_url):
    stdin = "\n".join([line("file_application", **filing(CODE)),
                       line("withdraw_application", park_code="KM-9", effective_on="2026-02-01"),
                       "[1, 2]"])

    done = run_ledger("import", "-", "--json", database_url=database_url, stdin=stdin)

    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert (report["lines"], report["recorded"], report["replayed"]) == (3, 1, 0)
    assert [(r["line"], r["error"]["code"], r["error"].get("field")) for r in report["refused"]] \
        == [(2, "park_not_found", "park_code"), (3, "invalid", "line")]
    assert report["refused"][0]["command"] == "withdraw_application"


def test_import_of_lines_with_idempotency_keys_twice_records_once(database_url, tmp_path):
    path = tmp_path / "keyed.jsonl"
    keyed = [json.dumps({**json.loads(text), "idempotency_key": f"k-{n}"}, ensure_ascii=False)
             for n, text in enumerate(approved_lines())]
    path.write_text("\n".join(keyed), encoding="utf-8")
    first = run_ledger("import", str(path), database_url=database_url)

    again = run_ledger("import", str(path), database_url=database_url)

    assert first.returncode == 0 and again.returncode == 0, again.stdout
    assert "7 lines: 0 recorded, 7 already recorded" in again.stdout
    assert stored_events(database_url) == 7


def test_export_writes_every_park_event_in_global_order(database_url, tmp_path):
    source = tmp_path / "commands.jsonl"
    source.write_text("\n".join(approved_lines() + approved_lines("DL-2026-01")),
                      encoding="utf-8")
    assert run_ledger("import", str(source), database_url=database_url).returncode == 0
    out = tmp_path / "export.jsonl"

    done = run_ledger("export", "-o", str(out), database_url=database_url)

    assert done.returncode == 0, done.stderr
    assert "exported 14 events" in done.stderr
    records = [json.loads(t) for t in out.read_text(encoding="utf-8").splitlines()]
    positions = [r["position"] for r in records]
    assert positions == sorted(positions) and len(set(positions)) == 14
    assert [(r["park_code"], r["version"]) for r in records[:7]] == \
        [(CODE, v) for v in range(1, 8)]
    first = records[0]
    assert first["event_type"] == "ApplicationFiled" and first["effective_on"] == "2026-01-05"
    assert first["actor"] == CLERK and first["fields"]["name"] == "示例人力资源服务产业园"
    assert first["prev_hash"] == "0" * 64 and records[1]["prev_hash"] == first["hash"]
    assert set(first) >= {"recorded_at", "flags", "documents", "override_reason", "reason"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_export_to_stdout_is_utf8_json_lines(database_url, tmp_path):
    run_ledger("import", "-", database_url=database_url, stdin=approved_lines()[0])

    done = run_ledger("export", database_url=database_url)

    (record,) = [json.loads(t) for t in done.stdout.splitlines()]
    assert record["fields"]["applicant"] == "昆明市人民政府"
    assert "示例人力资源服务产业园" in done.stdout  # written as UTF-8, not \u escapes
