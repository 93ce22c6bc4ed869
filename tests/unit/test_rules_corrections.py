"""EntryCorrected: a wrong entry is answered by a correction that names it; the original stays.
FindingClosed: an auditor closes a finding the park or the clock raised."""

from __future__ import annotations

import pytest

from ledger.domain.errors import DuplicateError, RuleBreach, ValidationError
from tests.builders import AUDITOR, CLERK, FINANCE, event_count, filing, to_approved, to_revoked
from tests.unit.support import CODE, assert_refused, send, to_evaluated


def correct(ledger, version, field, wrong, right, actor=CLERK, **extra):
    return send(ledger, "correct_entry", actor, corrects_version=version, field=field,
                wrong_value=wrong, right_value=right, **extra)


def test_corrected_subsidy_amount_moves_the_money_totals_and_keeps_the_original(ledger):
    """The subsidy recorded as ¥2,000,000 at v8 was really ¥1,800,000."""
    to_revoked(ledger)
    before = event_count(ledger)

    result = correct(ledger, 8, "amount_yuan", "2000000.00", "1800000.00", actor=FINANCE)

    assert event_count(ledger) == before + 1
    assert result["event_type"] == "EntryCorrected"
    park = ledger.park(CODE)
    assert park["subsidy"]["disbursed"] == "1800000.00"
    assert park["corrected_versions"] == [8]
    timeline = ledger.timeline(CODE)
    assert timeline[7]["fields"]["amount_yuan"] == "2000000.00"  # the original stays
    assert timeline[-1]["fields"] == {"corrects_version": 8, "field": "amount_yuan",
                                      "wrong_value": "2000000.00", "right_value": "1800000.00"}


def test_corrected_amount_is_what_later_refund_rules_check(sqlite_ledger):
    """Art. 17 refund ≤ disbursed uses the corrected subsidy, not the mistyped one."""
    to_revoked(sqlite_ledger)
    correct(sqlite_ledger, 8, "amount_yuan", "2000000.00", "1800000.00", actor=FINANCE)

    assert_refused(sqlite_ledger, RuleBreach,
                   lambda: send(sqlite_ledger, "demand_refund", FINANCE),
                   field="override_reason", article="Art. 17")


def test_wrong_value_matching_by_value_is_accepted_and_right_value_stored_canonical(
        sqlite_ledger):
    to_revoked(sqlite_ledger)

    correct(sqlite_ledger, 8, "amount_yuan", "2000000", "1800000", actor=FINANCE)

    assert sqlite_ledger.timeline(CODE)[-1]["fields"]["right_value"] == "1800000.00"


def test_corrected_name_and_prefecture_of_the_filing_show_in_the_park(sqlite_ledger):
    sqlite_ledger.file_application(CLERK, **filing())

    correct(sqlite_ledger, 1, "name", "示例人力资源服务产业园", "示例产业园")
    correct(sqlite_ledger, 1, "prefecture", "530100", "530300")

    park = sqlite_ledger.park(CODE)
    assert (park["name"], park["prefecture"]) == ("示例产业园", "530300")
    assert sqlite_ledger.timeline(CODE)[0]["fields"]["name"] == "示例人力资源服务产业园"


def test_corrected_grade_is_the_grade_later_rules_see(sqlite_ledger):
    """Art. 17: a grade mistyped as qualified and corrected to excellent earns a commendation."""
    to_approved(sqlite_ledger)
    graded = send(sqlite_ledger, "grade_evaluation", CLERK, grade="qualified")

    correct(sqlite_ledger, graded["version"], "grade", "qualified", "excellent")
    result = send(sqlite_ledger, "issue_commendation", CLERK)

    assert result["flags"] == []


def test_corrected_publicity_end_is_the_end_the_approval_counts(sqlite_ledger):
    """Art. 6(3): the publicity really ran to Friday 03-06, not Thursday 03-05 as entered."""
    to_evaluated(sqlite_ledger)
    send(sqlite_ledger, "start_publicity", CLERK, effective_on="2026-03-02",
         starts_on="2026-03-02", ends_on="2026-03-05", override_reason="录入时按4天录入")
    correct(sqlite_ledger, 5, "ends_on", "2026-03-05", "2026-03-06")
    send(sqlite_ledger, "close_publicity", CLERK, effective_on="2026-03-06")

    result = send(sqlite_ledger, "approve_park", CLERK, effective_on="2026-03-10")

    assert result["flags"] == []


def test_correction_naming_a_version_the_park_does_not_have_is_refused(sqlite_ledger):
    sqlite_ledger.file_application(CLERK, **filing())

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: correct(sqlite_ledger, 2, "name", "x", "y"),
                   field="corrects_version")


@pytest.mark.parametrize("field", ["approval_no", "hash", "park_code", "recorded_at", "flags",
                                   "idempotency_key", "actor", "nonsense"])
def test_correction_of_a_field_the_event_does_not_hold_as_a_fact_is_refused(sqlite_ledger,
                                                                           field):
    to_revoked(sqlite_ledger)

    error = assert_refused(sqlite_ledger, ValidationError,
                           lambda: correct(sqlite_ledger, 8, field, "x", "y", actor=FINANCE),
                           field="field")

    assert "amount_yuan" in error.message  # it says what can be corrected


def test_correction_of_the_protected_objector_identity_is_refused(sqlite_ledger):
    """Objector identities are seen only by reviewers; a correction would show them to all."""
    to_evaluated(sqlite_ledger)
    send(sqlite_ledger, "start_publicity", CLERK, effective_on="2026-03-02")
    send(sqlite_ledger, "raise_objection", CLERK)

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: correct(sqlite_ledger, 6, "objector",
                                   '{"contact":"13800000000","name":"某某"}',
                                   '{"contact":"13800000000","name":"某某某"}'),
                   field="field")


def test_correction_whose_wrong_value_is_not_what_was_recorded_is_refused(sqlite_ledger):
    to_revoked(sqlite_ledger)

    error = assert_refused(sqlite_ledger, ValidationError,
                           lambda: correct(sqlite_ledger, 8, "amount_yuan", "2100000.00",
                                           "1800000.00", actor=FINANCE),
                           field="wrong_value")

    assert "'2000000.00'" in error.message


@pytest.mark.parametrize("version, field, wrong, right", [
    (8, "amount_yuan", "2000000.00", "一百万"),
    (8, "amount_yuan", "2000000.00", "-1.00"),
    (1, "prefecture", "530100", "999999"),
    (4, "outcome", "recommended", "maybe"),
    (1, "agencies_count", "30", "thirty"),
    (1, "effective_on", "2026-01-05", "2026-13-01"),
    (1, "effective_on", "2026-01-05", "2026-11-21"),
    (1, "public_services", '["employment_entrepreneurship","vocational_training",'
     '"social_security","personnel_talent"]', '["tourism"]'),
    (1, "documents", f'[{{"sha256":"{"ab" * 32}","title":"规划论证报告"}}]',
     '[{"title": "规划论证报告"}]'),
])
def test_correction_whose_right_value_the_original_field_would_refuse_is_refused(
        sqlite_ledger, version, field, wrong, right):
    """A correction passes the very check the original command's field passed."""
    to_revoked(sqlite_ledger)

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: correct(sqlite_ledger, version, field, wrong, right,
                                   actor=FINANCE), field="right_value")


def test_correction_that_changes_nothing_is_refused(sqlite_ledger):
    to_revoked(sqlite_ledger)

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: correct(sqlite_ledger, 8, "amount_yuan", "2000000.00", "2000000",
                                   actor=FINANCE), field="right_value")


def test_correction_of_a_correction_is_refused(sqlite_ledger):
    """Correct the original entry again instead; a chain of corrections hides the fact."""
    sqlite_ledger.file_application(CLERK, **filing())
    correct(sqlite_ledger, 1, "applicant", "昆明市人民政府", "昆明市政府")

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: correct(sqlite_ledger, 2, "right_value", "昆明市政府", "昆明市"),
                   field="corrects_version")


def test_correction_onto_a_year_already_reported_is_refused(sqlite_ledger, clock):
    """Art. 16: one self-evaluation per year, corrections included."""
    to_approved(sqlite_ledger)
    clock.now = clock.now.replace(year=2027, month=6)
    send(sqlite_ledger, "report_self_evaluation", CLERK, year=2026, effective_on="2027-01-10")
    send(sqlite_ledger, "report_self_evaluation", CLERK, year=2027, effective_on="2027-06-01")

    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: correct(sqlite_ledger, 9, "year", "2027", "2026",
                                   effective_on="2027-06-02"),
                   field="right_value")


def test_corrected_self_evaluation_year_frees_the_old_year(sqlite_ledger, clock):
    to_approved(sqlite_ledger)
    clock.now = clock.now.replace(year=2027, month=6)
    send(sqlite_ledger, "report_self_evaluation", CLERK, year=2027, effective_on="2027-01-10")

    correct(sqlite_ledger, 8, "year", "2027", "2026", effective_on="2027-01-11")

    assert sqlite_ledger.park(CODE)["self_evaluations"] == [2026]


def test_correction_onto_a_sub_park_name_already_taken_is_refused(sqlite_ledger):
    to_approved(sqlite_ledger)
    send(sqlite_ledger, "add_sub_park", CLERK, name="二分园")

    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: correct(sqlite_ledger, 8, "name", "二分园", "示例分园一"),
                   field="right_value")


def test_finding_raised_by_the_park_is_closed_by_an_auditor(ledger):
    """Findings stay open until an auditor closes them (DESIGN.md)."""
    ledger.file_application(CLERK, **filing(agencies_count=10))

    send(ledger, "close_finding", AUDITOR, finding_id=f"{CODE}/v1/agencies_count")

    park = ledger.park(CODE)
    assert park["raised_findings"] == park["closed_findings"] == [f"{CODE}/v1/agencies_count"]


def test_finding_the_clock_raised_may_be_closed(sqlite_ledger):
    """Clock findings (projections) are named {park_code}/clock/...; the park cannot list them."""
    to_approved(sqlite_ledger)

    send(sqlite_ledger, "close_finding", AUDITOR, finding_id=f"{CODE}/clock/self_evaluation/2026")

    assert sqlite_ledger.park(CODE)["closed_findings"] == [f"{CODE}/clock/self_evaluation/2026"]


@pytest.mark.parametrize("finding_id", [f"{CODE}/v1/agencies_count", f"{CODE}/v9/made_up",
                                        "SJ-2026-01/v1/agencies_count", "anything"])
def test_closing_a_finding_the_park_never_raised_is_refused(sqlite_ledger, finding_id):
    sqlite_ledger.file_application(CLERK, **filing())

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: send(sqlite_ledger, "close_finding", AUDITOR, finding_id=finding_id),
                   field="finding_id")


def test_closing_a_finding_twice_is_refused(sqlite_ledger):
    sqlite_ledger.file_application(CLERK, **filing(agencies_count=10))
    send(sqlite_ledger, "close_finding", AUDITOR, finding_id=f"{CODE}/v1/agencies_count")

    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: send(sqlite_ledger, "close_finding", AUDITOR,
                                finding_id=f"{CODE}/v1/agencies_count"),
                   field="finding_id")
