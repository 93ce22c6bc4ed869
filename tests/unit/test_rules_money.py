"""Art. 7/4(2) sub-parks, Art. 9 the one-time ¥2,000,000 opening subsidy, Art. 17 refunds."""

from __future__ import annotations

import pytest

from ledger.domain.errors import DuplicateError, LifecycleError, RuleBreach, ValidationError
from tests.builders import CLERK, FINANCE, event_count, to_approved, to_publicity, to_revoked
from tests.unit.support import CODE, assert_refused, flag_rules, send

OVERRIDE = "经省财政厅专题会议研究同意"


def disburse(ledger, **extra):
    return send(ledger, "disburse_subsidy", FINANCE, **extra)


def test_three_sub_parks_are_allowed(sqlite_ledger):
    """Art. 4(2): at most 3 sub-parks; the filing brought one, two more are fine."""
    to_approved(sqlite_ledger)

    send(sqlite_ledger, "add_sub_park", CLERK, name="二分园")
    result = send(sqlite_ledger, "add_sub_park", CLERK, name="三分园")

    assert result["flags"] == []
    assert len(sqlite_ledger.park(CODE)["sub_parks"]) == 3


def test_fourth_sub_park_is_refused_without_override(sqlite_ledger):
    """Art. 7 / Art. 4(2): consenting to a 4th sub-park breaches the limit of 3."""
    to_approved(sqlite_ledger)
    send(sqlite_ledger, "add_sub_park", CLERK, name="二分园")
    send(sqlite_ledger, "add_sub_park", CLERK, name="三分园")

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: send(sqlite_ledger, "add_sub_park", CLERK, name="四分园"),
                           field="override_reason", article="Art. 4(2)")

    assert error.details["breaches"][0]["rule"] == "too_many_sub_parks"


def test_fourth_sub_park_with_override_is_recorded_and_flagged(sqlite_ledger):
    to_approved(sqlite_ledger)
    send(sqlite_ledger, "add_sub_park", CLERK, name="二分园")
    send(sqlite_ledger, "add_sub_park", CLERK, name="三分园")

    result = send(sqlite_ledger, "add_sub_park", CLERK, name="四分园", override_reason=OVERRIDE)

    assert flag_rules(result) == ["too_many_sub_parks"]
    assert result["flags"][0]["finding_id"] == f"{CODE}/v10/too_many_sub_parks"
    assert sqlite_ledger.park(CODE)["raised_findings"] == [f"{CODE}/v10/too_many_sub_parks"]


def test_sub_park_with_an_existing_name_is_refused(sqlite_ledger):
    to_approved(sqlite_ledger)

    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: send(sqlite_ledger, "add_sub_park", CLERK, name="示例分园一"),
                   field="name")


def test_subsidy_of_2000000_to_an_approved_park_has_no_flag(ledger):
    """Art. 9: ¥2,000,000 once, after approval."""
    to_approved(ledger)

    result = disburse(ledger)

    assert result["flags"] == []
    assert ledger.park(CODE)["subsidy"]["disbursed"] == "2000000.00"


def test_subsidy_written_without_cents_is_the_same_amount(sqlite_ledger):
    to_approved(sqlite_ledger)

    result = disburse(sqlite_ledger, amount_yuan="2000000")

    assert result["flags"] == []


@pytest.mark.parametrize("arrange, rule", [
    (lambda ledger: to_publicity(ledger), "subsidy_not_approved"),
    (lambda ledger: (to_approved(ledger), disburse(ledger)), "subsidy_repeated"),
])
def test_subsidy_breach_is_refused_without_override(sqlite_ledger, arrange, rule):
    """Art. 9: before approval, or a second time."""
    arrange(sqlite_ledger)

    error = assert_refused(sqlite_ledger, RuleBreach, lambda: disburse(sqlite_ledger),
                           field="override_reason", article="Art. 9")

    assert [b["rule"] for b in error.details["breaches"]] == [rule]


@pytest.mark.parametrize("amount", ["1999999.99", "2000000.01", "1000000.00"])
def test_subsidy_other_than_2000000_is_refused_without_override(sqlite_ledger, amount):
    """Art. 9: the opening subsidy is exactly ¥2,000,000."""
    to_approved(sqlite_ledger)

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: disburse(sqlite_ledger, amount_yuan=amount),
                           field="override_reason", article="Art. 9")

    assert [b["rule"] for b in error.details["breaches"]] == ["subsidy_amount"]


def test_subsidy_paid_before_the_approval_date_is_a_breach_even_if_recorded_after(sqlite_ledger):
    """Art. 9: approved on 2026-03-10, paid on 03-09: the payment preceded the approval."""
    to_approved(sqlite_ledger)

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: disburse(sqlite_ledger, effective_on="2026-03-09"),
                           field="override_reason", article="Art. 9")

    assert "before the approval" in error.message


def test_subsidy_breaking_two_rules_names_both(sqlite_ledger):
    to_publicity(sqlite_ledger)

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: disburse(sqlite_ledger, amount_yuan="500000.00"),
                           field="override_reason", article="Art. 9")

    assert [b["rule"] for b in error.details["breaches"]] == ["subsidy_not_approved",
                                                             "subsidy_amount"]


def test_each_subsidy_breach_under_override_is_recorded_with_its_own_finding(ledger):
    """Art. 9: before approval, wrong amount, and a repeat: each recorded, each a finding."""
    to_publicity(ledger)
    early = disburse(ledger, effective_on="2026-03-03", amount_yuan="2000000.00",
                     override_reason=OVERRIDE)
    ledger.close_publicity(CLERK, park_code=CODE, effective_on="2026-03-06")
    ledger.approve_park(CLERK, park_code=CODE, effective_on="2026-03-10", approval_no="批-1")

    repeat = disburse(ledger, override_reason=OVERRIDE, amount_yuan="2000000.00")
    wrong = disburse(ledger, override_reason=OVERRIDE, amount_yuan="300000.00")

    assert flag_rules(early) == ["subsidy_not_approved"]
    assert flag_rules(repeat) == ["subsidy_repeated"]
    assert flag_rules(wrong) == ["subsidy_repeated", "subsidy_amount"]
    park = ledger.park(CODE)
    assert park["raised_findings"] == [
        f"{CODE}/v6/subsidy_not_approved", f"{CODE}/v9/subsidy_repeated",
        f"{CODE}/v10/subsidy_repeated", f"{CODE}/v10/subsidy_amount"]
    assert park["subsidy"]["disbursed"] == "4300000.00"
    assert [e["override_reason"] for e in ledger.timeline(CODE)][-2:] == [OVERRIDE, OVERRIDE]


def test_refund_demand_up_to_the_subsidy_disbursed_has_no_flag(sqlite_ledger):
    """Art. 17: a revoked park refunds its subsidy."""
    to_revoked(sqlite_ledger)

    result = send(sqlite_ledger, "demand_refund", FINANCE)

    assert result["flags"] == []
    assert sqlite_ledger.park(CODE)["subsidy"]["refund_demanded"] == "2000000.00"


def test_refund_demanded_beyond_the_subsidy_disbursed_is_refused_without_override(
        sqlite_ledger):
    """Art. 17: a refund is of the subsidy; never more than was disbursed."""
    to_revoked(sqlite_ledger)
    send(sqlite_ledger, "demand_refund", FINANCE, amount_yuan="1500000.00")

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: send(sqlite_ledger, "demand_refund", FINANCE,
                                        amount_yuan="500000.01"),
                           field="override_reason", article="Art. 17")

    assert [b["rule"] for b in error.details["breaches"]] == ["refund_exceeds_subsidy"]


def test_refund_demanded_of_a_park_never_paid_is_refused(sqlite_ledger):
    to_approved(sqlite_ledger)
    send(sqlite_ledger, "revoke_plaque", CLERK)

    assert_refused(sqlite_ledger, RuleBreach, lambda: send(sqlite_ledger, "demand_refund", FINANCE),
                   field="override_reason", article="Art. 17")


def test_refund_demanded_of_a_park_not_revoked_is_refused_without_override(sqlite_ledger):
    """Art. 17 (as DESIGN.md reads it): the refund follows the revocation."""
    to_approved(sqlite_ledger)
    disburse(sqlite_ledger)

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: send(sqlite_ledger, "demand_refund", FINANCE),
                           field="override_reason", article="Art. 17")

    assert [b["rule"] for b in error.details["breaches"]] == ["refund_without_revocation"]


def test_refund_deadline_before_the_demand_is_refused(sqlite_ledger):
    to_revoked(sqlite_ledger)

    assert_refused(sqlite_ledger, ValidationError,
                   lambda: send(sqlite_ledger, "demand_refund", FINANCE, deadline="2026-10-31"),
                   field="deadline")


def test_partial_refunds_up_to_the_demand_are_recorded(ledger):
    """Art. 17: refunds may come back in parts."""
    to_revoked(ledger)
    send(ledger, "demand_refund", FINANCE)

    send(ledger, "receive_refund", FINANCE, amount_yuan="1200000.00")
    last = send(ledger, "receive_refund", FINANCE, amount_yuan="800000.00", voucher_no="收-2")

    assert last["flags"] == []
    assert ledger.park(CODE)["subsidy"] == {"disbursed": "2000000.00",
                                            "refund_demanded": "2000000.00",
                                            "refunded": "2000000.00"}


def test_refund_received_beyond_the_demand_is_refused_without_override(sqlite_ledger):
    """Art. 17: refunds received never exceed what was demanded."""
    to_revoked(sqlite_ledger)
    send(sqlite_ledger, "demand_refund", FINANCE, amount_yuan="1000000.00")
    send(sqlite_ledger, "receive_refund", FINANCE, amount_yuan="600000.00")

    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: send(sqlite_ledger, "receive_refund", FINANCE,
                                        amount_yuan="400000.01"),
                           field="override_reason", article="Art. 17")

    assert [b["rule"] for b in error.details["breaches"]] == ["refund_exceeds_demand"]


def test_refund_received_with_no_demand_is_refused(sqlite_ledger):
    to_revoked(sqlite_ledger)

    assert_refused(sqlite_ledger, RuleBreach,
                   lambda: send(sqlite_ledger, "receive_refund", FINANCE),
                   field="override_reason", article="Art. 17")


def test_sub_park_on_a_park_not_approved_is_refused(sqlite_ledger):
    """Art. 7: only a park already approved adds sub-parks."""
    to_publicity(sqlite_ledger)

    assert_refused(sqlite_ledger, LifecycleError,
                   lambda: send(sqlite_ledger, "add_sub_park", CLERK),
                   field="park_code", article="Art. 7")
    assert event_count(sqlite_ledger) == 5
