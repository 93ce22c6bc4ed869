"""`Ledger.execute_many`: several commands decided in memory and saved in one transaction, each
line still recorded whole or refused alone, exactly as if they were sent one by one."""

from __future__ import annotations

import re

import sqlalchemy as sa
from eventsourcing.application import Repository

from config import Config
from ledger.application import Ledger
from ledger.demo import demo_commands
from ledger.domain.errors import (
    ConcurrencyError,
    DuplicateError,
    IdempotencyConflict,
    LedgerError,
    LifecycleError,
    RuleBreach,
)
from ledger.domain.park import park_id
from ledger.importer import import_commands, import_lines, parse_line
from ledger.integrity import verify
from tests.builders import CLERK, FINANCE, event_count, filing, scores

CODE = "KM-2026-01"


def triples(lines: list[dict]) -> list[tuple[str, dict, dict]]:
    out = []
    for line in lines:
        payload = dict(line)
        command, actor = payload.pop("command"), payload.pop("actor")
        out.append((command, payload, actor))
    return out


def read_models(ledger: Ledger) -> dict[str, list[tuple]]:
    """Every read-model row without its global positions: receipts interleave differently
    when the same commands are saved in batches, so positions differ; nothing else may."""
    out = {}
    with ledger.engine.connect() as conn:
        for projection in ledger.projections.select():
            for table in projection.tables:
                columns = [c for c in table.columns if not c.name.endswith("position")]
                rows = conn.execute(sa.select(*columns)).all()
                out[table.name] = sorted((tuple(_unplaced(v) for v in r) for r in rows),
                                         key=repr)
    return out


def _unplaced(value):
    """A stored record (JSON or its search text) without its position."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "position"}
    if isinstance(value, str):
        return re.sub(r'"position": \d+, ', "", value)
    return value


def line(command: str, actor: dict = CLERK, **fields) -> tuple[str, dict, dict]:
    return command, {"park_code": CODE, **fields}, actor


def opening() -> list[tuple[str, dict, dict]]:
    return [
        ("file_application", filing(CODE), CLERK),
        line("open_evaluation", effective_on="2026-01-10", panel=["张专家"]),
        line("record_expert_opinion", effective_on="2026-01-20", expert="张专家",
             organisation="云南大学", scores=scores(), recommendation="recommend"),
        line("conclude_evaluation", effective_on="2026-02-01", outcome="recommended"),
    ]


def test_a_batch_records_what_one_by_one_records(ledger, clock, tmp_path):
    """The demo imported in batches and line by line: the same events, versions, flags and
    read models, and both logs verify."""
    one_by_one = Ledger(Config(database_url=f"sqlite:///{tmp_path / 'single.db'}"), clock=clock)
    batched = import_commands(ledger, demo_commands(), batch_size=50)
    single = import_commands(one_by_one, demo_commands(), batch_size=1)

    assert batched.ok and single.ok and batched.recorded == single.recorded == 91
    for code in {c["park_code"] for c in demo_commands()}:
        assert ledger.park(code) == one_by_one.park(code)
        assert ledger.timeline(code) == one_by_one.timeline(code)
    assert read_models(ledger) == read_models(one_by_one)
    assert verify(ledger.database, ledger.engine).digest()["head"] == \
        verify(one_by_one.database, one_by_one.engine).digest()["head"]
    one_by_one.close()


def test_a_refused_command_is_dropped_and_the_others_are_recorded(ledger):
    """Art. 9 breach without override in the middle of a batch: refused, nothing of it
    written, the commands after it decided against the state before it."""
    batch = [*opening(),
             line("disburse_subsidy", FINANCE, effective_on="2026-02-02",
                  amount_yuan="2000000.00", voucher_no="财-1"),
             line("supplement_materials", effective_on="2026-02-03", note="补充"),
             line("close_publicity", effective_on="2026-02-04")]

    outcomes = ledger.execute_many(batch)

    assert [type(o).__name__ for o in outcomes] == ["dict"] * 4 + ["RuleBreach", "dict",
                                                                  "LifecycleError"]
    assert isinstance(outcomes[4], RuleBreach) and outcomes[4].article == "Art. 9"
    assert isinstance(outcomes[6], LifecycleError)
    assert [o["version"] for o in outcomes if isinstance(o, dict)] == [1, 2, 3, 4, 5]
    park = ledger.park(CODE)
    assert park["version"] == 5 and park["subsidy"]["disbursed"] == "0.00"
    assert [e["event_type"] for e in ledger.timeline(CODE)][-1] == "MaterialsSupplemented"
    assert outcomes[5]["position"] == max(p for p, _ in ledger.park_events())
    assert verify(ledger.database, ledger.engine).ok


def test_a_batch_of_only_refusals_writes_nothing(ledger):
    outcomes = ledger.execute_many([line("supplement_materials", effective_on="2026-02-03",
                                         note="x")])
    assert [o.code for o in outcomes] == ["park_not_found"]
    assert event_count(ledger) == 0


def test_a_park_filed_twice_in_one_batch_is_refused_the_second_time(ledger):
    outcomes = ledger.execute_many([("file_application", filing(CODE), CLERK),
                                    ("file_application", filing(CODE, name="另一个"), CLERK)])
    assert isinstance(outcomes[0], dict) and isinstance(outcomes[1], DuplicateError)
    assert ledger.park(CODE)["name"] == "示例人力资源服务产业园"


def test_idempotency_keys_within_a_batch(ledger):
    """The same key with the same body later in the batch replays the first result; with
    another body it is refused; and a key recorded by an earlier batch replays too."""
    first = line("supplement_materials", effective_on="2026-02-03", note="补充",
                 idempotency_key="k-1")
    other = line("supplement_materials", effective_on="2026-02-03", note="另一份",
                 idempotency_key="k-1")
    outcomes = ledger.execute_many([*opening(), first, first, other])

    assert outcomes[4]["version"] == 5 and "replayed" not in outcomes[4]
    assert outcomes[5]["replayed"] is True and outcomes[5]["version"] == 5
    assert isinstance(outcomes[6], IdempotencyConflict)
    assert ledger.park(CODE)["version"] == 5

    again = ledger.execute_many([first])
    assert again[0]["replayed"] is True and ledger.park(CODE)["version"] == 5


def test_expected_version_is_checked_against_the_batch_state(ledger):
    outcomes = ledger.execute_many([*opening(),
                                    line("supplement_materials", effective_on="2026-02-03",
                                         note="a", expected_version=4),
                                    line("supplement_materials", effective_on="2026-02-03",
                                         note="b", expected_version=4)])
    assert outcomes[4]["version"] == 5
    assert isinstance(outcomes[5], ConcurrencyError)


def test_a_correction_may_name_an_entry_of_the_same_batch(ledger):
    """EntryCorrected names a version recorded earlier in the same batch; its wrong_value is
    checked against that unsaved entry, as it would be against a stored one."""
    supplement = line("supplement_materials", effective_on="2026-02-03", note="错的")
    right = line("correct_entry", effective_on="2026-02-04", corrects_version=5, field="note",
                 wrong_value="错的", right_value="对的", reason="笔误")
    wrong = line("correct_entry", effective_on="2026-02-04", corrects_version=5, field="note",
                 wrong_value="别的", right_value="对的", reason="笔误")
    outcomes = ledger.execute_many([*opening(), supplement, right, wrong])

    assert outcomes[5]["event_type"] == "EntryCorrected"
    assert isinstance(outcomes[6], LedgerError) and outcomes[6].field == "wrong_value"
    assert ledger.park(CODE)["corrected_versions"]


def test_corrections_in_a_batch_find_stored_and_unsaved_entries_alike(ledger):
    """A batch on a park whose first versions are stored: a correction of a stored version
    and of each of the batch's own, before and after them, is checked against that entry."""
    assert all(isinstance(o, dict) for o in ledger.execute_many(opening()))
    def note(text: str) -> tuple[str, dict, dict]:
        return line("supplement_materials", effective_on="2026-02-03", note=text)

    def fix(version: int, wrong: str) -> tuple[str, dict, dict]:
        return line("correct_entry", effective_on="2026-02-04", corrects_version=version,
                    field="note" if version > 4 else "outcome", wrong_value=wrong,
                    right_value="对的" if version > 4 else "not_recommended", reason="笔误")

    outcomes = ledger.execute_many([
        note("甲"), fix(4, "recommended"), fix(5, "甲"),  # versions 5, 6, 7
        note("乙"), fix(8, "乙"), fix(8, "甲"),  # 8, 9, refused
        note("丙"), fix(10, "丙"), fix(5, "乙")])  # 10, 11, refused

    assert [o["version"] if isinstance(o, dict) else o.field for o in outcomes] == \
        [5, 6, 7, 8, 9, "wrong_value", 10, 11, "wrong_value"]
    assert ledger.park(CODE)["corrected_versions"] == [4, 5, 8, 10]


def test_a_long_batch_on_one_park_takes_its_snapshots(ledger):
    """More than 100 events of one park in one batch: the snapshot at version 100 is taken and
    the park loads to the same state as from its events alone."""
    notes = [line("supplement_materials", effective_on="2026-02-03", note=f"第{n}批")
             for n in range(150)]
    outcomes = ledger.execute_many([*opening()[:1], *notes])

    assert all(isinstance(o, dict) for o in outcomes) and outcomes[-1]["version"] == 151
    snapshots = list(ledger.snapshots.get(park_id(CODE)))
    assert [s.originator_version for s in snapshots] == [100]
    assert ledger.park(CODE)["version"] == 151
    # the snapshot holds the state at version 100, not the one the batch went on to
    from_events = Repository(event_store=ledger.events).get(park_id(CODE), version=100)
    assert vars(ledger.repository.get(park_id(CODE), version=100)) == vars(from_events)


def test_another_writer_first_makes_each_command_run_alone(ledger, config, clock, monkeypatch):
    """A version conflict at save (another process wrote to the park meanwhile): nothing of the
    batch was written, and each command is decided again on its own."""
    ledger.execute_many(opening())
    other = Ledger(config, clock=clock)
    original_save = ledger.save
    calls = []

    def save_after_another_writer(*objs, **kwargs):
        if not calls:
            other.execute(*line("supplement_materials", effective_on="2026-02-03", note="他人"))
        calls.append(objs)
        return original_save(*objs, **kwargs)

    monkeypatch.setattr(ledger, "save", save_after_another_writer)
    outcomes = ledger.execute_many([
        line("supplement_materials", effective_on="2026-02-03", note="a"),
        line("supplement_materials", effective_on="2026-02-03", note="b", expected_version=5)])

    assert outcomes[0]["version"] == 6
    assert isinstance(outcomes[1], ConcurrencyError)
    assert [e["fields"].get("note") for e in ledger.timeline(CODE)][4:] == ["他人", "a"]
    other.close()


def test_import_lines_in_batches_reports_every_line(ledger):
    """The importer sends lines in batches; each refused line is still named with its error."""
    lines = [{"command": c, "actor": a, **p} for c, p, a in opening()]
    lines.insert(2, {"command": "close_publicity", "actor": CLERK, "park_code": CODE,
                     "effective_on": "2026-01-11"})
    report = import_commands(ledger, lines, batch_size=3)
    assert report.recorded == 4 and [o.line for o in report.refused] == [3]
    assert report.refused[0].error["code"] == "lifecycle"
    assert parse_line('{"command": "x", "actor": {}}')[0] == "x"


def test_import_lines_in_batches_reports_refusals_in_line_order(ledger):
    """A malformed line is refused where it stands, between the batch's other lines."""
    import json

    lines = [json.dumps({"command": c, "actor": a, **p}, ensure_ascii=False)
             for c, p, a in opening()[:2]]
    lines.insert(1, "[1, 2]")
    lines.append(json.dumps({"command": "withdraw_application", "actor": CLERK,
                             "park_code": "KM-9", "effective_on": "2026-02-01"}))
    report = import_lines(ledger, lines, batch_size=10)
    assert [(o.line, o.error["code"]) for o in report.refused] == [(2, "invalid"),
                                                                  (4, "park_not_found")]
    assert report.recorded == 2
