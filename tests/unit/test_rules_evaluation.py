"""Art. 16 yearly self-evaluation and triennial grade; Art. 17 consequences of the grade."""

from __future__ import annotations

import pytest

from ledger.domain.errors import DuplicateError, LifecycleError, RuleBreach, ValidationError
from tests.builders import CLERK, to_approved, to_revoked
from tests.unit.support import CODE, assert_refused, flag_rules, send


@pytest.fixture
def approved(sqlite_ledger):
    """A park approved on 2026-03-10."""
    to_approved(sqlite_ledger)
    return sqlite_ledger


def grade(ledger, cycle="2024-2026", value="excellent", **extra):
    return send(ledger, "grade_evaluation", CLERK, cycle=cycle, grade=value, **extra)


def test_self_evaluation_of_the_approval_year_is_recorded(approved):
    """Art. 16: the prefecture self-evaluates every year and reports it."""
    send(approved, "report_self_evaluation", CLERK, year=2026, effective_on="2026-11-01")

    assert approved.park(CODE)["self_evaluations"] == [2026]


@pytest.mark.parametrize("year, effective_on, says", [
    (2025, "2026-11-01", "between the approval year 2026"),
    (2027, "2026-11-01", "and 2026"),
])
def test_self_evaluation_of_a_year_outside_approval_to_today_is_refused(approved, year,
                                                                       effective_on, says):
    """Art. 16: a year before the park existed, or one not yet begun."""
    error = assert_refused(approved, ValidationError,
                           lambda: send(approved, "report_self_evaluation", CLERK, year=year,
                                        effective_on=effective_on), field="year")

    assert says in error.message


@pytest.mark.parametrize("year", [2020, 2201])
def test_self_evaluation_year_out_of_range_is_malformed(approved, year):
    assert_refused(approved, ValidationError,
                   lambda: send(approved, "report_self_evaluation", CLERK, year=year),
                   field="year")


def test_self_evaluation_of_a_year_already_reported_is_refused(approved):
    """Art. 16: one self-evaluation report per year."""
    send(approved, "report_self_evaluation", CLERK)

    assert_refused(approved, DuplicateError,
                   lambda: send(approved, "report_self_evaluation", CLERK, summary="重报"),
                   field="year")


def test_triennial_grade_of_a_three_year_cycle_is_recorded(approved):
    """Art. 16: the province evaluates every three years."""
    grade(approved, value="qualified")

    park = approved.park(CODE)
    assert park["grades"] == {"2024-2026": "qualified"}
    assert park["latest_grade"] == "qualified"


@pytest.mark.parametrize("cycle, says", [
    ("2025-2026", "three calendar years"), ("2023-2026", "three calendar years"),
    ("2026-2024", "three calendar years"), ("2025-2027", "not ended"),
    ("2021-2023", "before the park was approved"), ("2024/2026", "two years"),
])
def test_grade_of_a_cycle_that_is_not_a_past_three_year_cycle_is_refused(approved, cycle, says):
    """Art. 16: 评估考核每三年进行一次."""
    error = assert_refused(approved, ValidationError, lambda: grade(approved, cycle=cycle),
                           field="cycle")

    assert says in error.message


def test_grade_of_a_cycle_already_graded_is_refused(approved):
    grade(approved)

    assert_refused(approved, DuplicateError, lambda: grade(approved, value="qualified"),
                   field="cycle")


@pytest.mark.parametrize("command", ["issue_commendation", "recommend_national"])
def test_commendation_and_national_recommendation_after_excellent_grade_are_clean(approved,
                                                                                 command):
    """Art. 17: 优秀 → commendation and priority national recommendation."""
    grade(approved)

    result = send(approved, command, CLERK)

    assert result["flags"] == []


@pytest.mark.parametrize("command", ["issue_commendation", "recommend_national"])
@pytest.mark.parametrize("latest", [None, "qualified", "unqualified"])
def test_commendation_without_an_excellent_grade_is_refused_without_override(approved, command,
                                                                            latest):
    """Art. 17: only an excellent grade earns a commendation or a national recommendation."""
    if latest:
        grade(approved, value=latest)

    error = assert_refused(approved, RuleBreach, lambda: send(approved, command, CLERK),
                           field="override_reason", article="Art. 17")

    assert error.details["breaches"][0]["rule"] == "not_excellent"


def test_commendation_follows_the_latest_cycle_not_an_earlier_one(sqlite_ledger, clock):
    """Art. 17: an excellent 2024-2026 does not carry over a qualified 2027-2029 grade."""
    to_approved(sqlite_ledger)
    grade(sqlite_ledger)
    clock.now = clock.now.replace(year=2030)
    grade(sqlite_ledger, cycle="2027-2029", value="qualified", effective_on="2030-01-15")

    assert_refused(sqlite_ledger, RuleBreach,
                   lambda: send(sqlite_ledger, "issue_commendation", CLERK,
                                effective_on="2030-02-01"),
                   field="override_reason", article="Art. 17")


def test_commendation_without_excellence_under_override_is_flagged(approved):
    result = send(approved, "issue_commendation", CLERK, override_reason="省政府指示")

    assert flag_rules(result) == ["not_excellent"]


def test_rectification_deadline_on_or_before_the_order_is_refused(approved):
    """Art. 17: rectification within a deadline that lies ahead."""
    assert_refused(approved, ValidationError,
                   lambda: send(approved, "order_rectification", CLERK, deadline="2026-11-01"),
                   field="deadline")


def test_second_rectification_while_one_is_open_is_refused(approved):
    """Art. 17: one rectification at a time; complete it before ordering another."""
    send(approved, "order_rectification", CLERK)

    assert_refused(approved, LifecycleError,
                   lambda: send(approved, "order_rectification", CLERK, notice_no="整改-2"),
                   field="notice_no")


def test_rectification_after_the_previous_was_completed_is_recorded(approved):
    send(approved, "order_rectification", CLERK)
    send(approved, "complete_rectification", CLERK, effective_on="2026-11-10")

    result = send(approved, "order_rectification", CLERK, notice_no="整改-2",
                  effective_on="2026-11-15")

    assert approved.park(CODE)["rectification"] == {
        "notice_no": "整改-2", "deadline": "2026-12-31", "version": result["version"]}


def test_completing_a_rectification_never_ordered_is_refused(approved):
    assert_refused(approved, LifecycleError,
                   lambda: send(approved, "complete_rectification", CLERK),
                   field="verified_by")


def test_completing_a_rectification_after_revocation_is_refused(sqlite_ledger):
    """Art. 17: the revocation supersedes an open rectification."""
    to_approved(sqlite_ledger)
    send(sqlite_ledger, "order_rectification", CLERK, effective_on="2026-05-01")
    send(sqlite_ledger, "revoke_plaque", CLERK, effective_on="2026-06-01")

    assert_refused(sqlite_ledger, LifecycleError,
                   lambda: send(sqlite_ledger, "complete_rectification", CLERK),
                   field="park_code", article="Art. 17")


def test_revocation_of_an_approved_park_sets_it_revoked(sqlite_ledger):
    """Art. 17: 取消授牌."""
    to_revoked(sqlite_ledger)

    park = sqlite_ledger.park(CODE)

    assert (park["status"], park["revoked_on"]) == ("revoked", "2026-06-01")


def test_revocation_grounds_must_be_known_codes(approved):
    assert_refused(approved, ValidationError,
                   lambda: send(approved, "revoke_plaque", CLERK, grounds=["bad_mood"]),
                   field="grounds.0")
    assert_refused(approved, ValidationError,
                   lambda: send(approved, "revoke_plaque", CLERK, grounds=[]),
                   field="grounds")


def test_plaque_awarded_twice_is_refused(approved):
    """Art. 6(3): one plaque per approved park."""
    send(approved, "award_plaque", CLERK)

    assert_refused(approved, DuplicateError,
                   lambda: send(approved, "award_plaque", CLERK, plaque_no="YN-HR-002"),
                   field="plaque_no")


def test_expert_not_on_the_panel_or_heard_twice_is_refused(sqlite_ledger):
    """Art. 6(2): opinions come from the panel the province organised, one each."""
    send(sqlite_ledger, "file_application", CLERK)
    send(sqlite_ledger, "open_evaluation", CLERK, panel=["张专家"], effective_on="2026-01-10")

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: send(sqlite_ledger, "record_expert_opinion", CLERK, expert="王专家"),
                   field="expert")
    send(sqlite_ledger, "record_expert_opinion", CLERK)
    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: send(sqlite_ledger, "record_expert_opinion", CLERK),
                   field="expert")


def test_expert_score_outside_0_to_100_is_refused(sqlite_ledger):
    send(sqlite_ledger, "file_application", CLERK)
    send(sqlite_ledger, "open_evaluation", CLERK, panel=["张专家"], effective_on="2026-01-10")
    bad = {"scale": 101, "operations": 80, "infrastructure": 80, "features": 80,
           "public_services": 80, "benefits": 80}

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: send(sqlite_ledger, "record_expert_opinion", CLERK, scores=bad),
                   field="scores.scale")


@pytest.mark.parametrize("command", ["award_plaque", "add_sub_park", "report_self_evaluation",
                                     "order_rectification", "revoke_plaque"])
def test_act_on_an_approved_park_dated_before_its_approval_is_refused(approved, command):
    """Art. 6(3)/7/16/17 act on an approved park: not before the approval of 2026-03-10."""
    error = assert_refused(approved, ValidationError,
                           lambda: send(approved, command, CLERK, effective_on="2026-03-09"),
                           field="effective_on")

    assert "2026-03-10" in error.message
