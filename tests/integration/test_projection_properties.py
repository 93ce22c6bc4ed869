"""Properties of the read models over random command sequences (hypothesis).

Commands are drawn at random over a few parks; the domain refuses those that do not fit (that
is part of the test: a refusal must leave no trace). Each example uses new park codes, so the
examples accumulate in the one ledger of the test and every check covers all of them.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.errors import LedgerError
from ledger.projections import audit_log, findings, park_status, subsidies
from ledger.projections.runner import POSITIONS, Projections
from ledger.projections.subsidies import Subsidies
from tests.builders import AUDITOR, CLERK, FINANCE, filing, grade_scores, scores
from tests.integration.test_projections import FailingSubsidies

STEPS = ("file", "open", "opinion", "conclude", "publicity", "close", "approve", "plaque",
         "disburse", "self_evaluation", "grade", "rectify", "rectified", "revoke", "demand",
         "receive", "correct", "close_finding", "withdraw")
AMOUNTS = ("2000000.00", "500000.00", "1200000.00", "800000.00")
LIFECYCLE = ("file", "open", "opinion", "conclude", "publicity", "close", "approve")
START = date(2026, 1, 5)
RUNS = itertools.count()

# "next" takes the park one step further along its approval; the rest are drawn at random.
MONEY = ("disburse", "revoke", "demand", "receive", "correct") * 2
step = st.tuples(st.integers(0, 2), st.sampled_from(("next",) * 8 + STEPS + MONEY),
                 st.booleans(), st.sampled_from(AMOUNTS))
# How far along its approval each of the three parks gets before the random steps.
depths = st.lists(st.sampled_from((1, 4, 6, 7, 7, 7)), min_size=3, max_size=3)
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


def _command(ledger, code, name, day, override, amount):
    """The command a step names, on park `code`, effective on `day`."""
    on = day.isoformat()
    later = (day + timedelta(days=25)).isoformat()
    common = {"park_code": code, "effective_on": on}
    if override:
        common["override_reason"] = "随机测试中的特批"
    calls = {
        "file": lambda: ledger.file_application(CLERK, **filing(
            code, effective_on=on, agencies_count=30 if override else 20)),
        "open": lambda: ledger.open_evaluation(CLERK, panel=["张专家"], **common),
        "opinion": lambda: ledger.record_expert_opinion(
            CLERK, expert="张专家", organisation="云南大学", scores=scores(),
            recommendation="recommend", **common),
        "conclude": lambda: ledger.conclude_evaluation(CLERK, outcome="recommended", **common),
        "publicity": lambda: ledger.start_publicity(
            CLERK, starts_on=on, ends_on=(day + timedelta(days=9)).isoformat(),
            channel="网站", **common),
        "close": lambda: ledger.close_publicity(CLERK, **common),
        "approve": lambda: ledger.approve_park(CLERK, approval_no="批-1", **common),
        "plaque": lambda: ledger.award_plaque(CLERK, plaque_no="牌-1", **common),
        "disburse": lambda: ledger.disburse_subsidy(FINANCE, amount_yuan=amount,
                                                    voucher_no="财-1", **common),
        "self_evaluation": lambda: ledger.report_self_evaluation(
            CLERK, year=2026, summary="自评", **common),
        "grade": lambda: ledger.grade_evaluation(CLERK, cycle="2023-2025", grade="excellent",
                                                 scores=grade_scores(), **common),
        "rectify": lambda: ledger.order_rectification(CLERK, notice_no="整-1", grounds="整改",
                                                      deadline=later, **common),
        "rectified": lambda: ledger.complete_rectification(CLERK, verified_by="省厅", **common),
        "revoke": lambda: ledger.revoke_plaque(CLERK, decision_no="撤-1",
                                               grounds=["violation"], **common),
        "demand": lambda: ledger.demand_refund(FINANCE, amount_yuan=amount, deadline=later,
                                               notice_no="退-1", **common),
        "receive": lambda: ledger.receive_refund(FINANCE, amount_yuan=amount,
                                                 voucher_no="收-1", **common),
        "correct": lambda: _correct_last_money(ledger, code, amount, on),
        "close_finding": lambda: _close_first_finding(ledger, code, on),
        "withdraw": lambda: ledger.withdraw_application(CLERK, **common),
    }
    calls[name]()


def _correct_last_money(ledger, code, amount, on):
    money = subsidies.entries(ledger, code)
    if money:
        last = money[-1]
        ledger.correct_entry(FINANCE, park_code=code, effective_on=on,
                             corrects_version=last["version"], field="amount_yuan",
                             wrong_value=last["amount_yuan"], right_value=amount)


def _close_first_finding(ledger, code, on):
    found = findings.findings(ledger, park_code=code, state="open")
    if found:
        ledger.close_finding(AUDITOR, park_code=code, effective_on=on,
                             finding_id=found[0]["finding_id"])


def _run(ledger, depths, steps):
    run = next(RUNS)
    days, stages = [START] * 3, [0] * 3
    prefix = [(park, "next", False, AMOUNTS[0]) for park, depth in enumerate(depths)
              for _ in range(depth)]
    for park, name, override, amount in prefix + steps:
        code = f"R{run}-{park}"
        if name == "next":
            if stages[park] == len(LIFECYCLE):
                continue
            name = LIFECYCLE[stages[park]]
        try:
            _command(ledger, code, name, days[park], override, amount)
        except LedgerError:
            continue  # refused: nothing written
        if name in LIFECYCLE:
            stages[park] = LIFECYCLE.index(name) + 1
        days[park] += timedelta(days=12 if name == "publicity" else 4)  # outlast publicity


@settings(max_examples=8, **SETTINGS)
@given(depths=depths, steps=st.lists(step, min_size=5, max_size=40))
def test_incremental_read_models_equal_a_full_rebuild(ledger, depths, steps):
    _run(ledger, depths, steps)
    incremental = ledger.projections.dump()

    ledger.projections.rebuild()

    assert ledger.projections.dump() == incremental


@settings(max_examples=8, **SETTINGS)
@given(depths=depths, steps=st.lists(step, min_size=5, max_size=40))
def test_subsidy_totals_balance_and_agree_with_the_parks(ledger, depths, steps):
    _run(ledger, depths, steps)

    report = subsidies.ledger_report(ledger)

    for row in report["parks"]:
        money = {k: Decimal(v) for k, v in row.items() if k in subsidies.TOTALS}
        assert money["disbursed"] - money["refunded"] == money["net_retained"]
        assert money["outstanding"] >= 0 and 0 <= money["overdue"] <= money["outstanding"]
        assert money["refund_demanded"] - money["refunded"] == \
            money["outstanding"] - money["refunded_beyond_demand"]
        park = ledger.park(row["park_code"])
        assert park["subsidy"] == {"disbursed": row["disbursed"],
                                   "refund_demanded": row["refund_demanded"],
                                   "refunded": row["refunded"]}
    for total in subsidies.TOTALS:
        parks = sum((Decimal(r[total]) for r in report["parks"]), Decimal("0"))
        prefectures = sum((Decimal(r[total]) for r in report["prefectures"]), Decimal("0"))
        assert parks == prefectures == Decimal(report["province"][total])


@settings(max_examples=6, **SETTINGS)
@given(depths=depths, steps=st.lists(step, min_size=5, max_size=40))
def test_park_status_and_audit_log_agree_with_the_aggregates(ledger, depths, steps):
    _run(ledger, depths, steps)

    rows = park_status.parks(ledger)

    for row in rows:
        park = ledger.park(row["park_code"])
        assert (row["status"], row["version"], row["sub_parks"]) == (
            park["status"], park["version"], park["sub_parks"])
        logged = audit_log.search(ledger, audit_log.AuditFilter(park_code=row["park_code"]))
        assert logged["total"] == park["version"]
        raised = {f["finding_id"] for f in findings.findings(ledger, park_code=row["park_code"],
                                                             source="event")}
        assert raised == set(park["raised_findings"])



@settings(max_examples=5, **SETTINGS)
@given(depths=depths, steps=st.lists(step, min_size=5, max_size=30),
       crash=st.floats(0.0, 1.0), batch_size=st.integers(1, 7))
def test_catch_up_after_a_crash_anywhere_equals_a_rebuild(ledger, depths, steps, crash,
                                                          batch_size):
    _run(ledger, depths, steps)
    expected = ledger.projections.dump()
    with ledger.engine.begin() as conn:
        for table in Subsidies.tables:
            conn.execute(sa.delete(table))
        conn.execute(POSITIONS.update().where(POSITIONS.c.name == "subsidies").values(position=0))
    positions = [position for position, _ in ledger.park_events()]
    fail_at = positions[int(crash * (len(positions) - 1))]
    crashing = Projections(ledger, [FailingSubsidies(fail_at)])

    with pytest.raises(RuntimeError):
        crashing.catch_up(batch_size=batch_size)
    crashing.catch_up(batch_size=batch_size)

    assert ledger.projections.dump() == expected
