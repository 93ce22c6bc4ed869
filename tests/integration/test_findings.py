"""The findings read model: each finding raised (by an event or by the clock), then closed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.projections import findings as findings_model
from ledger.projections import park_status
from ledger.projections.facts import REFUND_DEMAND_GRACE_DAYS
from ledger.projections.findings import findings
from tests.builders import (
    AUDITOR,
    CLERK,
    FINANCE,
    filing,
    grade_scores,
    to_approved,
    to_publicity,
    to_revoked,
)

CODE = "KM-2026-01"


def _one(ledger, finding_id, as_of=None):
    found = {f["finding_id"]: f for f in findings(ledger, as_of=as_of, park_code=CODE)}
    return found.get(finding_id)


def _close(ledger, finding_id, effective_on="2026-11-20"):
    return ledger.close_finding(AUDITOR, park_code=CODE, effective_on=effective_on,
                                finding_id=finding_id, reason="已核实并整改")


def test_art9_subsidy_before_approval_under_override_raises_a_breach_until_closed(ledger):
    to_publicity(ledger)
    paid = ledger.disburse_subsidy(FINANCE, park_code=CODE, effective_on="2026-03-03",
                                   amount_yuan="2000000.00", voucher_no="财-1",
                                   override_reason="省政府专题会议纪要")
    finding_id = f"{CODE}/v{paid['version']}/subsidy_not_approved"
    raised = _one(ledger, finding_id)

    closed = _close(ledger, finding_id)

    assert raised["state"] == "open" and raised["source"] == "event"
    assert (raised["article"], raised["severity"]) == ("Art. 9", "breach")
    assert raised["raised_by"]["version"] == paid["version"]
    assert raised["raised_by"]["override_reason"] == "省政府专题会议纪要"
    finding = _one(ledger, finding_id)
    assert finding["state"] == "closed"
    assert finding["closed_by"]["version"] == closed["version"]
    assert finding["closed_by"]["user"] == AUDITOR["user"]


def test_art4_shortfall_of_a_filing_is_a_finding_and_art5_relaxation_makes_it_noted(ledger):
    ledger.file_application(CLERK, **filing(CODE, agencies_count=10))
    ledger.file_application(CLERK, **filing("DL-2026-01", prefecture="532900",
                                            agencies_count=10, specialisation="industry",
                                            relaxation_reason="数字产业专业园区"))

    short = _one(ledger, f"{CODE}/v1/agencies_count")
    noted = findings(ledger, park_code="DL-2026-01")
    _close(ledger, f"{CODE}/v1/agencies_count", effective_on="2026-01-06")

    assert (short["article"], short["severity"], short["state"]) == ("Art. 4(2)", "shortfall",
                                                                     "open")
    assert [(f["rule"], f["severity"]) for f in noted] == [("agencies_count", "noted")]
    assert _one(ledger, f"{CODE}/v1/agencies_count")["state"] == "closed"
    status = park_status.status(ledger, CODE)
    assert status["eligibility"]["meets_article_4"] is False
    assert status["open_findings"] == 0


def test_art16_self_evaluation_missing_after_31_march_is_raised_then_resolved_then_closed(
        ledger, clock):
    to_approved(ledger)  # approved 2026-03-10
    finding_id = f"{CODE}/clock/self_evaluation_missing/2026"
    clock.now = datetime(2027, 4, 10, 2, 0, tzinfo=UTC)

    on_the_day = _one(ledger, finding_id, as_of=date(2027, 3, 31))
    after = _one(ledger, finding_id)  # as of today by the ledger's clock: 2027-04-10
    late = ledger.report_self_evaluation(CLERK, park_code=CODE, effective_on="2027-04-10",
                                         year=2026, summary="年度自评")
    resolved = _one(ledger, finding_id)
    _close(ledger, finding_id, effective_on="2027-04-10")

    assert on_the_day is None
    assert (after["state"], after["article"], after["raised_on"]) == ("open", "Art. 16",
                                                                      "2027-04-01")
    assert after["raised_by"] == {"clock": "2027-03-31"}
    assert resolved["state"] == "resolved"
    assert resolved["resolved_by"]["version"] == late["version"]
    assert _one(ledger, finding_id)["state"] == "closed"


def test_art16_self_evaluation_reported_in_time_raises_nothing(ledger, clock):
    to_approved(ledger)
    clock.now = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)

    ledger.report_self_evaluation(CLERK, park_code=CODE, effective_on="2027-03-15", year=2026,
                                  summary="年度自评")

    assert _one(ledger, f"{CODE}/clock/self_evaluation_missing/2026") is None


def test_art16_triennial_evaluation_overdue_three_years_after_approval(ledger, clock):
    to_approved(ledger)  # approved 2026-03-10: first provincial evaluation due 2029-03-10
    finding_id = f"{CODE}/clock/triennial_evaluation_overdue/2029-03-10"
    clock.now = datetime(2029, 5, 1, 2, 0, tzinfo=UTC)

    before = _one(ledger, finding_id, as_of=date(2029, 3, 10))
    raised = _one(ledger, finding_id, as_of=date(2029, 3, 11))
    graded = ledger.grade_evaluation(CLERK, park_code=CODE, effective_on="2029-04-20",
                                     cycle="2026-2028", grade="qualified", scores=grade_scores())
    _close(ledger, finding_id, effective_on="2029-05-01")

    assert before is None
    assert (raised["state"], raised["article"]) == ("open", "Art. 16")
    assert _one(ledger, finding_id, as_of=date(2029, 4, 30))["resolved_by"]["version"] == \
        graded["version"]
    assert _one(ledger, finding_id)["state"] == "closed"
    due = park_status.status(ledger, CODE)["next_due"]  # the oldest unmet duty comes first
    assert (due["kind"], due["detail"], due["overdue"]) == ("self_evaluation", "2026", True)


def test_art17_rectification_past_its_deadline_is_raised_then_resolved_then_closed(ledger):
    to_approved(ledger)
    order = ledger.order_rectification(CLERK, park_code=CODE, effective_on="2026-05-01",
                                       notice_no="整改-1", grounds="服务功能不全",
                                       deadline="2026-08-01")
    finding_id = f"{CODE}/clock/rectification_overdue/v{order['version']}"

    raised = _one(ledger, finding_id, as_of=date(2026, 8, 2))
    done = ledger.complete_rectification(CLERK, park_code=CODE, effective_on="2026-09-01",
                                         verified_by="省人社厅")
    resolved = _one(ledger, finding_id)
    _close(ledger, finding_id)

    assert _one(ledger, finding_id, as_of=date(2026, 8, 1)) is None
    assert (raised["state"], raised["article"]) == ("open", "Art. 17")
    assert resolved["state"] == "resolved"
    assert resolved["resolved_by"]["version"] == done["version"]
    assert _one(ledger, finding_id)["state"] == "closed"


def test_art17_revoked_plaque_without_refund_demand_after_grace_period(ledger):
    to_revoked(ledger)  # revoked 2026-06-01 after a disbursement
    finding_id = f"{CODE}/clock/refund_not_demanded"

    in_grace = _one(ledger, finding_id, as_of=date(2026, 7, 1))
    raised = _one(ledger, finding_id, as_of=date(2026, 7, 2))
    demand = ledger.demand_refund(FINANCE, park_code=CODE, effective_on="2026-07-15",
                                  amount_yuan="2000000.00", deadline="2026-12-31",
                                  notice_no="退-1")
    resolved = _one(ledger, finding_id)
    _close(ledger, finding_id)

    assert REFUND_DEMAND_GRACE_DAYS == 30 and in_grace is None
    assert (raised["state"], raised["article"]) == ("open", "Art. 17")
    assert resolved["resolved_by"]["version"] == demand["version"]
    assert _one(ledger, finding_id)["state"] == "closed"


def test_art17_refund_past_deadline_and_not_fully_received(ledger):
    to_revoked(ledger)
    demand = ledger.demand_refund(FINANCE, park_code=CODE, effective_on="2026-06-10",
                                  amount_yuan="2000000.00", deadline="2026-09-30",
                                  notice_no="退-1")
    ledger.receive_refund(FINANCE, park_code=CODE, effective_on="2026-07-01",
                          amount_yuan="800000.00", voucher_no="收-1")
    finding_id = f"{CODE}/clock/refund_overdue/v{demand['version']}"

    raised = _one(ledger, finding_id, as_of=date(2026, 10, 1))
    rest = ledger.receive_refund(FINANCE, park_code=CODE, effective_on="2026-10-15",
                                 amount_yuan="1200000.00", voucher_no="收-2")
    resolved = _one(ledger, finding_id)
    _close(ledger, finding_id)

    assert _one(ledger, finding_id, as_of=date(2026, 9, 30)) is None
    assert (raised["state"], raised["article"]) == ("open", "Art. 17")
    assert resolved["resolved_by"]["version"] == rest["version"]
    assert _one(ledger, finding_id)["state"] == "closed"


def test_auditor_may_close_a_time_raised_finding_that_is_still_open(ledger):
    to_revoked(ledger)
    finding_id = f"{CODE}/clock/refund_not_demanded"
    before = park_status.status(ledger, CODE)["open_findings"]

    _close(ledger, finding_id)

    assert before == 1
    assert _one(ledger, finding_id)["state"] == "closed"
    assert park_status.status(ledger, CODE)["open_findings"] == 0
    assert findings(ledger, state="open") == []


def test_corrected_deadline_moves_the_time_raised_finding(ledger):
    to_approved(ledger)
    order = ledger.order_rectification(CLERK, park_code=CODE, effective_on="2026-05-01",
                                       notice_no="整改-1", grounds="服务功能不全",
                                       deadline="2026-06-01")
    finding_id = f"{CODE}/clock/rectification_overdue/v{order['version']}"

    ledger.correct_entry(CLERK, park_code=CODE, effective_on="2026-05-05",
                         corrects_version=order["version"], field="deadline",
                         wrong_value="2026-06-01", right_value="2026-12-01")

    assert _one(ledger, finding_id, as_of=date(2026, 7, 1)) is None
    assert park_status.status(ledger, CODE)["rectification"]["deadline"] == "2026-12-01"


def test_only_the_parks_with_new_facts_have_their_clock_findings_worked_out_again(
        ledger, clock, monkeypatch):
    to_approved(ledger)  # approved 2026-03-10
    ledger.file_application(CLERK, **filing("QJ-2026-01", prefecture="530300"))
    clock.now = datetime(2027, 4, 10, 2, 0, tzinfo=UTC)
    findings_model._clock_findings.cache_clear()  # other tests may have met the same facts
    before = {f["finding_id"]: f["state"] for f in findings(ledger)}
    worked_out: list[str] = []
    facts_of = findings_model.dated.Facts

    def counted(park_code, facts, day):
        worked_out.append(park_code)
        return facts_of(park_code, facts, day)

    monkeypatch.setattr(findings_model.dated, "Facts", counted)
    ledger.report_self_evaluation(CLERK, park_code=CODE, effective_on="2027-04-10", year=2026,
                                  summary="年度自评")
    after = {f["finding_id"]: f["state"] for f in findings(ledger)}

    missing = f"{CODE}/clock/self_evaluation_missing/2026"
    assert (before[missing], after[missing]) == ("open", "resolved")
    assert worked_out == [CODE]  # QJ-2026-01's facts did not change
