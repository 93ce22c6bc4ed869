"""Concurrency and repeats (issue 2, item 3): a stale expected_version fails cleanly, an
idempotency key records once — within one process and across OS processes, on both databases."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from typing import Any

import pytest
from eventsourcing.persistence import RecordConflictError

from ledger import application
from ledger.application import Ledger
from ledger.domain.errors import ConcurrencyError, ContentionError, IdempotencyConflict
from ledger.integrity import verify
from tests.builders import CLERK, event_count, filing
from tests.integration.racers import race
from tests.unit.support import CODE, assert_refused, payload

SPAWN = multiprocessing.get_context("spawn")


def run_processes(database_url: str, per_process: list[list[tuple[str, dict[str, Any],
                                                                    dict[str, str]]]]
                  ) -> list[tuple[Any, ...]]:
    """Start one OS process per command list, let them go at once, and collect every outcome."""
    barrier, queue = SPAWN.Barrier(len(per_process)), SPAWN.Queue()
    processes = [SPAWN.Process(target=race, args=(database_url, commands, barrier, queue))
                 for commands in per_process]
    for process in processes:
        process.start()
    outcomes = []
    for _ in range(sum(len(commands) for commands in per_process)):
        try:
            outcomes.append(queue.get(timeout=120))
        except queue_module.Empty:
            pytest.fail(f"no answer from the racing processes (exit codes "
                        f"{[p.exitcode for p in processes]}; outcomes so far {outcomes})")
        if outcomes[-1][0] == "crash":
            break
    for process in processes:
        process.join(timeout=150)
    crashes = [o[1] for o in outcomes if o[0] == "crash"]
    assert not crashes, crashes[0]
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return outcomes


def supplement(note: str, **extra: Any) -> tuple[str, dict[str, Any], dict[str, str]]:
    return ("supplement_materials", payload("supplement_materials", note=note, **extra), CLERK)


# --------------------------------------------------------------------- within one process

def test_stale_expected_version_is_refused_and_writes_nothing(ledger):
    """Two clerks saw version 1; the second to send is told the park moved on."""
    ledger.file_application(CLERK, **filing())
    ledger.supplement_materials(CLERK, **payload("supplement_materials", expected_version=1))

    error = assert_refused(ledger, ConcurrencyError,
                           lambda: ledger.supplement_materials(
                               CLERK, **payload("supplement_materials", note="另一份",
                                                expected_version=1)),
                           field="expected_version")

    assert error.details == {"expected": 1, "actual": 2}


def test_current_expected_version_is_recorded(ledger):
    ledger.file_application(CLERK, **filing())

    result = ledger.supplement_materials(CLERK, **payload("supplement_materials",
                                                          expected_version=1))

    assert result["version"] == 2


def test_idempotency_key_sent_twice_with_the_same_body_records_once(ledger):
    body = filing(idempotency_key="import-line-1")
    first = ledger.file_application(CLERK, **body)
    count = event_count(ledger)

    again = ledger.file_application(CLERK, **body)

    assert event_count(ledger) == count
    assert again.pop("replayed") is True
    assert "replayed" not in first
    assert {k: v for k, v in first.items() if k != "position"} == again


def test_idempotent_replay_answers_even_after_the_park_moved_on(ledger):
    """A repeat returns the first result; it is not decided again against the new state."""
    ledger.file_application(CLERK, **filing())
    body = payload("supplement_materials", expected_version=1, idempotency_key="k-1")
    first = ledger.supplement_materials(CLERK, **body)
    ledger.supplement_materials(CLERK, **payload("supplement_materials", note="后续"))

    again = ledger.supplement_materials(CLERK, **body)

    assert (again["version"], again["hash"], again["replayed"]) == (2, first["hash"], True)


@pytest.mark.parametrize("change", [{"note": "不同的内容"}, {"effective_on": "2026-11-02"},
                                    {"expected_version": 1}])
def test_idempotency_key_sent_again_with_a_different_body_is_refused(ledger, change):
    ledger.file_application(CLERK, **filing())
    ledger.supplement_materials(CLERK, **payload("supplement_materials", idempotency_key="k-1"))

    assert_refused(ledger, IdempotencyConflict,
                   lambda: ledger.supplement_materials(
                       CLERK, **payload("supplement_materials", idempotency_key="k-1",
                                        **change)),
                   field="idempotency_key")


def test_idempotency_key_reused_by_another_actor_or_command_is_refused(ledger):
    ledger.file_application(CLERK, **filing(idempotency_key="k-1"))

    assert_refused(ledger, IdempotencyConflict,
                   lambda: ledger.file_application({**CLERK, "user": "other"},
                                                   **filing(idempotency_key="k-1")),
                   field="idempotency_key")
    assert_refused(ledger, IdempotencyConflict,
                   lambda: ledger.supplement_materials(
                       CLERK, **payload("supplement_materials", idempotency_key="k-1")),
                   field="idempotency_key")


def test_writer_that_lost_the_version_decides_again_on_the_new_state(ledger, config, clock):
    """Without expected_version a real conflict (another ledger on the same database took the
    next version between our read and our write) is retried on the new state."""
    ledger.file_application(CLERK, **filing())
    other = Ledger(config, clock=clock)
    real_save, calls = ledger.save, []

    def save_after_another_writer(*objs):
        if not calls:
            other.supplement_materials(CLERK, **payload("supplement_materials", note="抢先"))
        calls.append(objs)
        return real_save(*objs)

    ledger.save = save_after_another_writer
    try:
        result = ledger.supplement_materials(CLERK, **payload("supplement_materials"))
    finally:
        other.close()

    assert len(calls) == 2
    assert result["version"] == 3
    assert [e["fields"]["note"] for e in ledger.timeline(CODE)[1:]] == ["抢先",
                                                                       "补充运营情况报告"]


def test_writer_that_keeps_losing_gives_up_with_a_typed_error_and_writes_nothing(ledger,
                                                                                 monkeypatch):
    ledger.file_application(CLERK, **filing())
    monkeypatch.setattr(application, "RETRY_BACKOFF_SECONDS", 0)

    def always_conflicts(*objs):
        raise RecordConflictError("another writer took the version")

    ledger.save = always_conflicts

    error = assert_refused(ledger, ContentionError,
                           lambda: ledger.supplement_materials(
                               CLERK, **payload("supplement_materials")),
                           field="park_code")

    assert error.details == {"attempts": application.MAX_RETRIES}
    assert isinstance(error, ConcurrencyError)


# --------------------------------------------------------------------- across OS processes

def test_processes_racing_with_the_same_expected_version_record_exactly_one(ledger,
                                                                            database_url):
    ledger.file_application(CLERK, **filing())
    before = event_count(ledger)

    outcomes = run_processes(database_url, [
        [supplement(f"第{i}份补充", expected_version=1)] for i in range(3)])

    assert event_count(ledger) == before + 1
    assert sorted(o[0] for o in outcomes) == ["error", "error", "ok"]
    assert {o[1] for o in outcomes if o[0] == "error"} == {"stale_version"}
    assert all(o[2]["field"] == "expected_version" for o in outcomes if o[0] == "error")
    assert ledger.park(CODE)["version"] == 2


def test_processes_racing_with_one_idempotency_key_record_once_and_replay(ledger,
                                                                         database_url):
    ledger.file_application(CLERK, **filing())
    before = event_count(ledger)
    same = supplement("同一份补充", idempotency_key="import-7")

    outcomes = run_processes(database_url, [[same] for _ in range(3)])

    assert event_count(ledger) == before + 2  # the event and its idempotency receipt
    assert [o[0] for o in outcomes] == ["ok", "ok", "ok"], outcomes
    results = [o[1] for o in outcomes]
    assert sorted(bool(r.get("replayed")) for r in results) == [False, True, True]
    assert {r["hash"] for r in results} == {ledger.timeline(CODE)[-1]["hash"]}
    assert ledger.park(CODE)["version"] == 2


def test_processes_racing_with_one_key_and_one_expected_version_replay(ledger, database_url):
    """A loser that reads the park after the winner's commit sees a newer version; the key
    says it is the same command, so it is a replay, not a stale writer."""
    ledger.file_application(CLERK, **filing())
    same = supplement("同一份补充", idempotency_key="import-8", expected_version=1)

    outcomes = run_processes(database_url, [[same] for _ in range(3)])

    assert [o[0] for o in outcomes] == ["ok", "ok", "ok"], outcomes
    assert sorted(bool(o[1].get("replayed")) for o in outcomes) == [False, True, True]
    assert ledger.park(CODE)["version"] == 2


def test_stale_expected_version_under_a_recorded_key_is_a_replay(ledger):
    ledger.file_application(CLERK, **filing())
    body = payload("supplement_materials", expected_version=1, idempotency_key="k-2")
    ledger.supplement_materials(CLERK, **body)

    again = ledger.supplement_materials(CLERK, **body)

    assert again["replayed"] is True


def test_processes_racing_to_file_one_park_under_one_key_record_one_filing(ledger,
                                                                          database_url):
    before = event_count(ledger)
    same = ("file_application", filing(idempotency_key="filing-1"), CLERK)

    outcomes = run_processes(database_url, [[same], [same]])

    assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
    assert event_count(ledger) == before + 2
    assert sorted(bool(o[1].get("replayed")) for o in outcomes) == [False, True]


def test_processes_racing_with_one_key_and_different_bodies_record_one(ledger, database_url):
    ledger.file_application(CLERK, **filing())
    before = event_count(ledger)

    outcomes = run_processes(database_url, [
        [supplement("甲", idempotency_key="k")], [supplement("乙", idempotency_key="k")]])

    assert event_count(ledger) == before + 2
    assert sorted(o[0] for o in outcomes) == ["error", "ok"]
    assert [o[1] for o in outcomes if o[0] == "error"] == ["idempotency_conflict"]


def test_processes_writing_without_expected_version_all_succeed(ledger, database_url):
    """Without expected_version the service decides again when another writer got in first."""
    ledger.file_application(CLERK, **filing())

    outcomes = run_processes(database_url, [
        [supplement(f"进程{p}-第{i}份") for i in range(8)] for p in range(2)])

    assert [o[0] for o in outcomes] == ["ok"] * 16, [o for o in outcomes if o[0] != "ok"]
    assert sorted(o[1]["version"] for o in outcomes) == list(range(2, 18))
    timeline = ledger.timeline(CODE)
    assert [e["version"] for e in timeline] == list(range(1, 18))
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(timeline, timeline[1:], strict=False))
    assert verify(ledger.database, ledger.engine).ok


def test_processes_starting_on_a_fresh_database_at_once_all_start(database_url, config, clock):
    """Several workers start together on an empty database; creating the tables is
    serialised, so none fails (PostgreSQL said "tuple concurrently updated")."""
    outcomes = run_processes(database_url, [
        [("file_application", filing(f"KM-2026-0{n}"), CLERK)] for n in range(1, 4)])

    ledger = Ledger(config, clock=clock)
    try:
        assert [o[0] for o in outcomes] == ["ok"] * 3, outcomes
        assert event_count(ledger) == 3
        assert verify(ledger.database, ledger.engine).ok
    finally:
        ledger.close()
