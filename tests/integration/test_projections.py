"""The read models: current after every command, exactly-once catch-up, rebuild from the log."""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa

from ledger.application import Ledger
from ledger.domain.errors import ValidationError
from ledger.integrity import verify
from ledger.projections import park_status, subsidies
from ledger.projections.audit_log import AuditFilter, search
from ledger.projections.park_status import ParkStatus
from ledger.projections.runner import POSITIONS, Projections
from ledger.projections.subsidies import Subsidies
from tests.builders import CLERK, FINANCE, event_count, filing, to_approved, to_revoked


def _history(ledger: Ledger) -> None:
    to_revoked(ledger, "KM-2026-01")
    ledger.demand_refund(FINANCE, park_code="KM-2026-01", effective_on="2026-06-10",
                         amount_yuan="2000000.00", deadline="2026-09-30", notice_no="退-1")
    ledger.receive_refund(FINANCE, park_code="KM-2026-01", effective_on="2026-07-01",
                          amount_yuan="800000.00", voucher_no="收-1")
    to_approved(ledger, "QJ-2026-01")
    ledger.file_application(CLERK, **filing("YX-2026-01", prefecture="530400",
                                            agencies_count=10))


def test_read_models_are_current_when_a_command_returns(ledger):
    to_approved(ledger)

    ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                            amount_yuan="2000000.00", voucher_no="财-1")

    assert subsidies.parks(ledger, park_code="KM-2026-01")[0]["disbursed"] == "2000000.00"
    assert park_status.status(ledger, "KM-2026-01")["status"] == "approved"
    assert set(ledger.projections.positions().values()) == {event_count(ledger)}


def test_refused_command_leaves_read_models_unchanged(ledger):
    to_approved(ledger)
    before = ledger.projections.dump()

    with pytest.raises(ValidationError):
        ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2099-01-01",
                                amount_yuan="2000000.00", voucher_no="财-1")

    assert ledger.projections.dump() == before


def test_rebuild_equals_incremental_read_models(ledger):
    _history(ledger)
    incremental = ledger.projections.dump()

    read = ledger.projections.rebuild()

    assert ledger.projections.dump() == incremental
    assert read == event_count(ledger)
    assert sum(len(rows) for rows in incremental.values()) > read


def test_rebuild_of_one_read_model_leaves_the_others_alone(ledger):
    _history(ledger)
    before = ledger.projections.dump()
    with ledger.engine.begin() as conn:  # damage one read model by hand
        conn.execute(sa.delete(subsidies.SUBSIDY_ENTRIES))

    ledger.projections.rebuild(["subsidies"])

    assert ledger.projections.dump() == before


def test_rebuild_refuses_an_unknown_read_model(ledger):
    with pytest.raises(ValidationError) as error:
        ledger.projections.rebuild(["nonsense"])

    assert error.value.field == "name"


class FailingSubsidies(Subsidies):
    """The subsidy read model, crashing when it meets the event at `fail_at` or the first of
    type `fail_on` (`times` times)."""

    def __init__(self, fail_at: int = -1, times: int = 1, fail_on: str = "") -> None:
        self.fail_at = fail_at
        self.fail_on = fail_on
        self.times = times

    def apply(self, rows, position, event):
        if self.times > 0 and (position == self.fail_at or type(event).__name__ == self.fail_on):
            self.times -= 1
            raise RuntimeError(f"crash at {position}")
        super().apply(rows, position, event)


def _use(ledger: Ledger, projections: Projections) -> None:
    """Let these read models follow the ledger's commands instead of its own."""
    ledger.projections = projections
    ledger.after_commit[:] = [projections.after_command]


def test_catch_up_after_a_crash_in_the_middle_neither_skips_nor_double_counts(ledger):
    _history(ledger)
    expected = ledger.projections.dump(["subsidies"])
    with ledger.engine.begin() as conn:
        conn.execute(sa.delete(subsidies.SUBSIDY_ENTRIES))
        conn.execute(sa.delete(subsidies.SUBSIDY_PARKS))
        conn.execute(POSITIONS.update().where(POSITIONS.c.name == "subsidies")
                     .values(position=0))
    crashing = Projections(ledger, [FailingSubsidies(fail_at=9)])

    with pytest.raises(RuntimeError, match="crash at 9"):
        crashing.catch_up(batch_size=4)
    stopped_at = crashing.positions()["subsidies"]
    crashing.catch_up(batch_size=4)

    assert 0 < stopped_at < 9  # earlier batches were kept, the failed batch was not
    assert ledger.projections.dump(["subsidies"]) == expected


def test_two_processes_catching_up_at_once_apply_each_event_once(ledger, config, clock):
    _history(ledger)
    expected = ledger.projections.dump()
    with ledger.engine.begin() as conn:  # empty, so both have the whole log ahead of them
        for projection in ledger.projections.select():
            for table in projection.tables:
                conn.execute(sa.delete(table))
        conn.execute(POSITIONS.update().values(position=0))
    other = Ledger(config, clock=clock)
    errors: list[BaseException] = []

    def work(app: Ledger) -> None:
        try:
            app.projections.catch_up(batch_size=3)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    try:
        threads = [threading.Thread(target=work, args=(app,)) for app in (ledger, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()

    assert errors == []
    assert ledger.projections.dump() == expected


def test_worker_catches_up_events_written_by_another_process(ledger, config, clock):
    writer = Ledger(config, clock=clock)
    writer.after_commit.clear()  # a web process that leaves the read models to the worker
    try:
        to_approved(writer)
    finally:
        writer.close()
    rounds = iter([False, True])

    ledger.projections.run_worker(interval=0, stop=lambda: next(rounds), sleep=lambda _: None)

    assert park_status.status(ledger, "KM-2026-01")["status"] == "approved"
    assert set(ledger.projections.positions().values()) == {event_count(ledger)}


def test_deferred_catch_up_brings_read_models_current_at_the_end_of_the_block(ledger):
    with ledger.projections.deferred():
        to_approved(ledger)
        during = ledger.projections.positions()

    assert set(during.values()) == {0}
    assert set(ledger.projections.positions().values()) == {event_count(ledger)}
    assert park_status.status(ledger, "KM-2026-01")["status"] == "approved"
    assert ledger.after_commit == [ledger.projections.after_command]


def test_commands_from_two_processes_at_once_keep_read_models_exact(ledger, config, clock):
    other = Ledger(config, clock=clock)
    errors: list[BaseException] = []

    def write(app: Ledger, code: str) -> None:
        try:
            to_revoked(app, code)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    try:
        threads = [threading.Thread(target=write, args=(app, code))
                   for app, code in ((ledger, "KM-2026-01"), (other, "QJ-2026-01"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    incremental = ledger.projections.dump()
    positions = set(ledger.projections.positions().values())

    ledger.projections.rebuild()

    assert errors == []
    assert positions == {event_count(ledger)}  # current without any extra catch-up
    assert ledger.projections.dump() == incremental
    assert subsidies.ledger_report(ledger)["province"]["disbursed"] == "4000000.00"


def test_a_read_model_with_an_older_table_layout_is_rebuilt_on_start(ledger, config, clock):
    _history(ledger)
    expected = ledger.projections.dump()
    with ledger.engine.begin() as conn:  # as if written by an older version of the code
        conn.execute(sa.text("ALTER TABLE rm_subsidy_entry ADD COLUMN obsolete INTEGER"))
        conn.execute(sa.delete(subsidies.SUBSIDY_ENTRIES))

    restarted = Ledger(config, clock=clock)
    try:
        assert restarted.projections.dump() == expected
    finally:
        restarted.close()


def test_a_failing_read_model_does_not_fail_the_recorded_command(ledger, caplog):
    to_approved(ledger)
    before = ledger.recorder.max_notification_id()
    # fails in the command's transaction, and again when caught up after the commit
    broken = Projections(ledger, [FailingSubsidies(fail_on="SubsidyDisbursed", times=2)])
    _use(ledger, broken)

    result = ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                     amount_yuan="2000000.00", voucher_no="财-1")
    broken_at = broken.positions()["subsidies"]
    broken.catch_up()

    assert result["event_type"] == "SubsidyDisbursed"
    assert "read models could not be written with the events" in caplog.text
    assert "read models could not catch up" in caplog.text
    assert broken_at == before < result["position"]  # it lagged until caught up
    assert subsidies.parks(ledger)[0]["disbursed"] == "2000000.00"


def test_a_read_model_failing_in_the_transaction_is_caught_up_after_the_events_are_saved(
        ledger, caplog):
    to_approved(ledger)
    broken = Projections(ledger, [ParkStatus(), FailingSubsidies(fail_on="SubsidyDisbursed")])
    _use(ledger, broken)
    status_before = park_status.status(ledger, "KM-2026-01")["version"]

    result = ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                     amount_yuan="2000000.00", voucher_no="财-1")

    assert result["version"] == status_before + 1  # the event is recorded
    assert "read models could not be written with the events" in caplog.text
    # nothing of the rolled-back transaction stayed; the catch-up after the commit wrote it
    assert set(broken.positions().values()) == {event_count(ledger)}
    assert park_status.status(ledger, "KM-2026-01")["version"] == result["version"]
    assert subsidies.parks(ledger)[0]["disbursed"] == "2000000.00"
    assert verify(ledger.database, ledger.engine).ok


class TakingTurns:
    """Several ledgers on one database, each command going to the next one in turn: processes
    writing to the same park one after the other."""

    def __init__(self, *ledgers: Ledger) -> None:
        self._ledgers = itertools.cycle(ledgers)

    def __getattr__(self, name: str) -> object:
        return getattr(next(self._ledgers), name)


def test_processes_taking_turns_on_one_park_keep_read_models_and_chain_exact(ledger, config,
                                                                            clock):
    """Each process keeps parks and read-model rows in memory between commands; what another
    process wrote since must be read, never overwritten with the kept copy."""
    other = Ledger(config, clock=clock)
    try:
        _history(TakingTurns(ledger, other))  # type: ignore[arg-type]
        # the other process's copies are now behind: it must catch up, not write stale rows
        other.correct_entry(CLERK, park_code="KM-2026-01", effective_on="2026-07-02",
                            corrects_version=1, field="name", wrong_value="示例人力资源服务产业园",
                            right_value="昆明市人力资源服务产业园", reason="名称笔误")
        ledger.receive_refund(FINANCE, park_code="KM-2026-01", effective_on="2026-07-03",
                              amount_yuan="100000.00", voucher_no="收-2")
        other.receive_refund(FINANCE, park_code="KM-2026-01", effective_on="2026-07-04",
                             amount_yuan="100000.00", voucher_no="收-3")
        for app in (ledger, other):
            assert app.park("KM-2026-01")["subsidy"]["refunded"] == "1000000.00"
    finally:
        other.close()
    incremental = ledger.projections.dump()

    ledger.projections.rebuild()

    assert ledger.projections.dump() == incremental
    assert park_status.status(ledger, "KM-2026-01")["name"] == "昆明市人力资源服务产业园"
    assert subsidies.ledger_report(ledger)["province"]["refunded"] == "1000000.00"
    assert verify(ledger.database, ledger.engine).ok  # each process chained onto the other's


def test_a_command_while_one_read_model_lags_catches_that_one_up_from_the_log(ledger):
    """The saved events are applied in hand only when every read model stands right before
    them; one that lags (emptied here) is caught up from the log in the same way."""
    _history(ledger)
    expected = ledger.projections.dump()
    with ledger.engine.begin() as conn:
        for table in Subsidies.tables:
            conn.execute(sa.delete(table))
        conn.execute(POSITIONS.update().where(POSITIONS.c.name == "subsidies").values(position=0))

    ledger.receive_refund(FINANCE, park_code="KM-2026-01", effective_on="2026-07-02",
                          amount_yuan="100000.00", voucher_no="收-9")
    incremental = ledger.projections.dump()
    ledger.projections.rebuild()

    assert set(ledger.projections.positions().values()) == {event_count(ledger)}
    assert incremental == ledger.projections.dump() != expected
    assert subsidies.ledger_report(ledger)["province"]["refunded"] == "900000.00"


def test_a_process_with_an_old_copy_of_a_park_decides_on_the_current_one(ledger, config, clock):
    """Art. 17 on a park another process revoked: the demand is refused on this process's
    old copy (not revoked) but must be decided, and recorded, on the current park."""
    other = Ledger(config, clock=clock)
    try:
        to_approved(ledger)
        ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                amount_yuan="2000000.00", voucher_no="财-2026-001")
        revoked = other.revoke_plaque(CLERK, park_code="KM-2026-01", effective_on="2026-06-01",
                                      decision_no="云人社〔2026〕9号", grounds=["violation"])

        demanded = ledger.demand_refund(FINANCE, park_code="KM-2026-01",
                                        effective_on="2026-06-10", amount_yuan="2000000.00",
                                        deadline="2026-09-30", notice_no="退-1")
        received = other.receive_refund(FINANCE, park_code="KM-2026-01",
                                        effective_on="2026-07-01", amount_yuan="500000.00",
                                        voucher_no="收-1")
        # this process's copy is behind again: its decision is refused by the store, then
        # made again on the current park
        again = ledger.receive_refund(FINANCE, park_code="KM-2026-01",
                                      effective_on="2026-07-02", amount_yuan="500000.00",
                                      voucher_no="收-2")
    finally:
        other.close()

    assert (demanded["flags"], demanded["version"]) == ([], revoked["version"] + 1)
    assert demanded["prev_hash"] == revoked["hash"]
    assert (received["version"], again["version"]) == (demanded["version"] + 1,
                                                       demanded["version"] + 2)
    assert again["prev_hash"] == received["hash"]
    assert ledger.park("KM-2026-01")["subsidy"]["refunded"] == "1000000.00"
    assert verify(ledger.database, ledger.engine).ok


def test_an_index_added_since_a_table_was_made_is_created_on_start(ledger, config, clock):
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX rm_audit_log_prefecture_type")

    Ledger(config, clock=clock).close()  # a process of the newer code starts

    indexes = {index["name"] for index in sa.inspect(ledger.engine).get_indexes("rm_audit_log")}
    assert "rm_audit_log_prefecture_type" in indexes


class ClashingSubsidies(Subsidies):
    """The subsidy read model, writing a row that is there already when it flushes money."""

    def flush(self, rows):
        if self._new:  # a money entry: insert its park a second time
            rows.insert(subsidies.SUBSIDY_PARKS, [{
                "park_code": "KM-2026-01", "name": "x", "prefecture": "530100",
                "revoked_on": None, "revocation_no": None}])
        super().flush(rows)


def test_a_statement_of_a_read_model_failing_in_the_database_does_not_fail_the_command(ledger,
                                                                                      caplog):
    """On PostgreSQL statements are pipelined: the error must surface before the commit."""
    to_approved(ledger)
    before = ledger.recorder.max_notification_id()
    clashing = Projections(ledger, [ParkStatus(), ClashingSubsidies()])
    _use(ledger, clashing)

    result = ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                     amount_yuan="2000000.00", voucher_no="财-1")

    assert result["event_type"] == "SubsidyDisbursed"
    assert "read models could not be written with the events" in caplog.text
    assert ledger.park("KM-2026-01")["subsidy"]["disbursed"] == "2000000.00"
    # nothing of the rolled-back transaction stayed; the catch-up clashes again (its batch,
    # both read models, is rolled back), so both lag until the fault is mended
    assert park_status.status(ledger, "KM-2026-01")["version"] == result["version"] - 1
    assert set(clashing.positions().values()) == {before}
    assert verify(ledger.database, ledger.engine).ok


def test_rows_kept_of_parks_another_process_wrote_to_are_read_again(ledger, config, clock):
    """Each process keeps read-model rows between commands; when another process has written
    since, the rows of the parks it wrote to are stale, and must be read again."""
    other = Ledger(config, clock=clock)
    try:
        ledger.file_application(CLERK, **filing("KM-2026-01"))
        other.file_application(CLERK, **filing("QJ-2026-01", prefecture="530300"))
        ledger.supplement_materials(CLERK, park_code="KM-2026-01", effective_on="2026-05-01",
                                    note="补充材料")
        other.correct_entry(CLERK, park_code="KM-2026-01", effective_on="2026-05-20",
                            corrects_version=1, field="prefecture", wrong_value="530100",
                            right_value="530400", reason="州市填错")
        other.supplement_materials(CLERK, park_code="QJ-2026-01", effective_on="2026-05-02",
                                   note="补充材料")
        # this process kept KM's rows from before the other's correction (its prefecture,
        # its last effective date): they must not be used
        ledger.supplement_materials(CLERK, park_code="KM-2026-01", effective_on="2026-05-10",
                                    note="再补充")
        ledger.supplement_materials(CLERK, park_code="QJ-2026-01", effective_on="2026-05-03",
                                    note="再补充")
    finally:
        other.close()
    incremental = ledger.projections.dump()
    status = park_status.status(ledger, "KM-2026-01")

    ledger.projections.rebuild()

    assert ledger.projections.dump() == incremental
    assert (status["prefecture"], status["last_effective_on"]) == ("530400", "2026-05-20")
    assert {e["prefecture"] for e in search(ledger, AuditFilter(park_code="KM-2026-01"))[
        "entries"]} == {"530400"}
    assert set(ledger.projections.positions().values()) == {event_count(ledger)}


def test_a_rebuild_and_an_import_collect_less_often_and_leave_the_collector_as_found(
        ledger, monkeypatch):
    """ledger/collector.py: full collections a tenth as often while the batches run."""
    import gc

    from bench.generator import generate
    from ledger.collector import FULL_COLLECTION_EVERY
    from ledger.importer import import_commands

    audit = ledger.projections.projections["audit_log"]
    seen = []
    flush = audit.flush
    monkeypatch.setattr(audit, "flush", lambda rows: (seen.append(gc.get_threshold()[2]),
                                                      flush(rows))[-1])
    before = gc.get_threshold()

    assert import_commands(ledger, generate("tiny", seed=2)).ok
    assert seen and set(seen) == {max(before[2], FULL_COLLECTION_EVERY)}
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    seen.clear()
    ledger.projections.rebuild()
    assert seen and set(seen) == {max(before[2], FULL_COLLECTION_EVERY)}
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
