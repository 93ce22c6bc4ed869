"""The lifecycle of Art. 6 (filing → evaluation → publicity → approval/rejection), sanctions only
on approved parks (Art. 16, 17), nothing after a withdrawal, and who may send which command."""

from __future__ import annotations

import pytest

from ledger.commands import COMMANDS, ROLES
from ledger.domain.errors import LifecycleError, PermissionDenied
from tests.builders import CLERK, event_count, to_approved, to_publicity, to_revoked
from tests.unit.support import (
    ADMIN,
    CODE,
    REVIEWER,
    actor_for,
    assert_refused,
    payload,
    send,
    to_evaluated,
)

AFTER_APPROVAL = ["award_plaque", "add_sub_park", "report_self_evaluation", "grade_evaluation",
                  "issue_commendation", "recommend_national", "order_rectification",
                  "complete_rectification", "revoke_plaque"]
ARTICLE = {"open_evaluation": "Art. 6(2)", "record_expert_opinion": "Art. 6(2)",
           "conclude_evaluation": "Art. 6(2)", "start_publicity": "Art. 6(3)",
           "close_publicity": "Art. 6(3)", "approve_park": "Art. 6(3)",
           "award_plaque": "Art. 6(3)", "add_sub_park": "Art. 7",
           "report_self_evaluation": "Art. 16", "grade_evaluation": "Art. 16",
           "issue_commendation": "Art. 17", "recommend_national": "Art. 17",
           "order_rectification": "Art. 17", "complete_rectification": "Art. 17",
           "revoke_plaque": "Art. 17"}


def test_full_lifecycle_in_order_is_recorded(sqlite_ledger):
    """Art. 6: filing, evaluation, publicity and approval, each step in its turn."""
    to_approved(sqlite_ledger)

    park = sqlite_ledger.park(CODE)

    assert park["status"] == "approved"
    assert park["version"] == 7
    assert [e["event_type"] for e in sqlite_ledger.timeline(CODE)] == [
        "ApplicationFiled", "EvaluationOpened", "ExpertOpinionRecorded", "EvaluationConcluded",
        "PublicityStarted", "PublicityClosed", "ParkApproved"]


@pytest.mark.parametrize("command", ["record_expert_opinion", "conclude_evaluation",
                                     "start_publicity", "close_publicity", "approve_park",
                                     *AFTER_APPROVAL])
def test_step_before_its_turn_on_a_filed_park_is_refused(sqlite_ledger, command):
    """Art. 6: nothing but evaluation may follow a bare filing."""
    send(sqlite_ledger, "file_application", CLERK)

    assert_refused(sqlite_ledger, LifecycleError,
                   lambda: send(sqlite_ledger, command, actor_for(command)),
                   field="park_code", article=ARTICLE[command])


@pytest.mark.parametrize("command", ["open_evaluation", "start_publicity", "approve_park"])
def test_step_out_of_order_during_evaluation_is_refused(sqlite_ledger, command):
    """Art. 6(2)/(3): a second evaluation, publicity or approval before the evaluation ends."""
    send(sqlite_ledger, "file_application", CLERK)
    sqlite_ledger.open_evaluation(CLERK, park_code=CODE, effective_on="2026-01-10",
                                  panel=["张专家"])

    assert_refused(sqlite_ledger, LifecycleError, lambda: send(sqlite_ledger, command, CLERK),
                   field="park_code", article=ARTICLE[command])


def test_concluding_an_evaluation_without_any_expert_opinion_is_refused(sqlite_ledger):
    """Art. 6(2): the recommendation rests on the experts' review."""
    send(sqlite_ledger, "file_application", CLERK)
    sqlite_ledger.open_evaluation(CLERK, park_code=CODE, effective_on="2026-01-10",
                                  panel=["张专家"])

    assert_refused(sqlite_ledger, LifecycleError,
                   lambda: send(sqlite_ledger, "conclude_evaluation", CLERK),
                   field="outcome", article="Art. 6(2)")


@pytest.mark.parametrize("command", ["close_publicity", "approve_park"])
def test_publicity_steps_before_publicity_started_are_refused(sqlite_ledger, command):
    """Art. 6(3): approval only after a publicity that was started and closed."""
    to_evaluated(sqlite_ledger)

    assert_refused(sqlite_ledger, LifecycleError, lambda: send(sqlite_ledger, command, CLERK),
                   field="park_code", article="Art. 6(3)")


def test_approval_during_an_open_publicity_is_refused(sqlite_ledger):
    """Art. 6(3): the publicity is closed before the approval letter."""
    to_publicity(sqlite_ledger)

    assert_refused(sqlite_ledger, LifecycleError,
                   lambda: send(sqlite_ledger, "approve_park", CLERK),
                   field="park_code", article="Art. 6(3)")


@pytest.mark.parametrize("command", ["open_evaluation", "start_publicity", "approve_park",
                                     "reject_application", "withdraw_application"])
def test_application_steps_after_approval_are_refused(sqlite_ledger, command):
    """Art. 6: an approved park is no longer an application."""
    to_approved(sqlite_ledger)

    error = assert_refused(sqlite_ledger, LifecycleError,
                           lambda: send(sqlite_ledger, command, CLERK), field="park_code")

    assert error.details["status"] == "approved"


def test_approval_of_a_rejected_application_is_refused(sqlite_ledger):
    """Art. 6(3): a rejected application stays rejected."""
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "reject_application", CLERK, effective_on="2026-03-09")

    assert_refused(sqlite_ledger, LifecycleError,
                   lambda: send(sqlite_ledger, "approve_park", CLERK),
                   field="park_code", article="Art. 6(3)")


@pytest.mark.parametrize("command", AFTER_APPROVAL)
def test_sanctions_and_evaluations_on_a_park_still_in_publicity_are_refused(sqlite_ledger,
                                                                             command):
    """Art. 7, 16, 17: sub-parks, evaluations and sanctions only for approved parks."""
    to_publicity(sqlite_ledger)

    assert_refused(sqlite_ledger, LifecycleError, lambda: send(sqlite_ledger, command, CLERK),
                   field="park_code", article=ARTICLE[command])


@pytest.mark.parametrize("command", ["revoke_plaque", "order_rectification",
                                     "issue_commendation", "add_sub_park",
                                     "report_self_evaluation"])
def test_sanctions_on_a_revoked_park_are_refused(sqlite_ledger, command):
    """Art. 17: revocation only of an approved park; after it, the park has no plaque to act on."""
    to_revoked(sqlite_ledger)

    error = assert_refused(sqlite_ledger, LifecycleError,
                           lambda: send(sqlite_ledger, command, CLERK), field="park_code")

    assert error.details["status"] == "revoked"


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {
    "file_application", "correct_entry", "close_finding"}))
def test_nothing_is_recorded_after_a_withdrawal(sqlite_ledger, command):
    """Art. 6: a withdrawn application takes no further step, not even a payment or refund."""
    to_publicity(sqlite_ledger)
    send(sqlite_ledger, "withdraw_application", CLERK, effective_on="2026-03-04")

    error = assert_refused(sqlite_ledger, LifecycleError,
                           lambda: send(sqlite_ledger, command, actor_for(command)),
                           field="park_code")

    assert "withdrawn" in error.message


def test_correction_after_a_withdrawal_is_recorded(sqlite_ledger):
    """Fixing the record is not acting on the application: the withdrawal does not stop it."""
    send(sqlite_ledger, "file_application", CLERK)
    send(sqlite_ledger, "withdraw_application", CLERK, effective_on="2026-02-01")

    result = send(sqlite_ledger, "correct_entry", CLERK, corrects_version=2,
                  field="effective_on", wrong_value="2026-02-01", right_value="2026-02-02")

    assert result["event_type"] == "EntryCorrected"


def test_auditor_closes_a_finding_of_a_withdrawn_park(sqlite_ledger):
    """A finding stays until an auditor closes it, withdrawn park or not."""
    sqlite_ledger.file_application(CLERK, **payload("file_application", agencies_count=10))
    send(sqlite_ledger, "withdraw_application", CLERK, effective_on="2026-02-01")

    result = send(sqlite_ledger, "close_finding", actor_for("close_finding"),
                  finding_id=f"{CODE}/v1/agencies_count")

    assert result["event_type"] == "FindingClosed"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_is_refused_to_every_role_not_allowed(sqlite_ledger, command):
    """Roles (DESIGN.md): clerks record, finance pays, auditors close findings, others only read."""
    actors = {"clerk": CLERK, "finance": actor_for("disburse_subsidy"),
              "auditor": actor_for("close_finding"), "reviewer": REVIEWER, "admin": ADMIN}
    refused = [role for role in ROLES if role not in COMMANDS[command].roles]

    for role in refused:
        error = assert_refused(sqlite_ledger, PermissionDenied,
                               lambda role=role: send(sqlite_ledger, command, actors[role]),
                               field="actor.role")
        assert role in error.message and command in error.message
    assert refused  # every command is closed to someone (at least reviewer and admin)
    assert event_count(sqlite_ledger) == 0


def test_finance_and_clerk_may_both_correct_entries(sqlite_ledger):
    to_approved(sqlite_ledger)

    by_clerk = send(sqlite_ledger, "correct_entry", CLERK)
    by_finance = send(sqlite_ledger, "correct_entry", actor_for("disburse_subsidy"),
                      corrects_version=7, field="approval_no",
                      wrong_value="云人社函〔2026〕1号", right_value="云人社函〔2026〕2号")

    assert (by_clerk["version"], by_finance["version"]) == (8, 9)
