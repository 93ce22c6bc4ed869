"""Filing: Art. 4 eligibility (shortfalls flagged, not refused), Art. 5 relaxation, Art. 19, and
malformed input refused with the field named."""

from __future__ import annotations

import pytest

from ledger.domain.errors import (
    DuplicateError,
    ParkNotFoundError,
    RuleBreach,
    ValidationError,
)
from tests.builders import CLERK, FINANCE, SHA, event_count, filing, to_approved
from tests.unit.support import CODE, assert_refused, flag_rules, send

SHORT_OF_EVERYTHING = {
    "agencies_count": 24, "annual_revenue_yuan": "799999999.99",
    "public_services": ["employment_entrepreneurship"],
    "sub_parks": ["一分园", "二分园", "三分园", "四分园"], "management_body": "",
    "full_time_staff": 0, "supporting_services": ["meeting"], "support_policies": [],
}


def test_filing_that_meets_art_4_raises_no_finding(sqlite_ledger):
    result = sqlite_ledger.file_application(CLERK, **filing())

    assert result["flags"] == []
    assert sqlite_ledger.park(CODE)["raised_findings"] == []


def test_filing_short_of_art_4_is_recorded_with_a_shortfall_per_condition(sqlite_ledger):
    """Art. 4(2), 4(3), 4(4): a prefecture that filed is a fact; each gap is a finding."""
    result = sqlite_ledger.file_application(CLERK, **filing(**SHORT_OF_EVERYTHING))

    flags = {f["rule"]: f for f in result["flags"]}
    assert {r: f["article"] for r, f in flags.items()} == {
        "agencies_count": "Art. 4(2)", "annual_revenue": "Art. 4(2)",
        "public_services": "Art. 4(2)", "sub_parks": "Art. 4(2)",
        "management_body": "Art. 4(3)", "full_time_staff": "Art. 4(3)",
        "supporting_services": "Art. 4(3)", "support_policies": "Art. 4(4)"}
    assert {f["severity"] for f in flags.values()} == {"shortfall"}
    assert sqlite_ledger.park(CODE)["raised_findings"] == [
        f"{CODE}/v1/{rule}" for rule in flag_rules(result)]


@pytest.mark.parametrize("field, value, rule", [
    ("agencies_count", 24, "agencies_count"), ("agencies_count", 25, None),
    ("annual_revenue_yuan", "799999999.99", "annual_revenue"),
    ("annual_revenue_yuan", "800000000.00", None),
    ("sub_parks", ["一", "二", "三", "四"], "sub_parks"), ("sub_parks", ["一", "二", "三"], None),
    ("full_time_staff", 0, "full_time_staff"), ("full_time_staff", 1, None),
])
def test_art_4_2_thresholds_flag_exactly_below_the_line(sqlite_ledger, field, value, rule):
    """Art. 4(2): ≥ 25 agencies, ≥ ¥800,000,000 revenue, ≤ 3 sub-parks; Art. 4(3) staff."""
    result = sqlite_ledger.file_application(CLERK, **filing(**{field: value}))

    assert flag_rules(result) == ([rule] if rule else [])


@pytest.mark.parametrize("basis", [{"specialisation": "professional"},
                                   {"specialisation": "industry"}, {"hardship_area": True}])
def test_art_5_relaxation_with_a_reason_turns_shortfalls_into_noted_findings(sqlite_ledger,
                                                                              basis):
    """Art. 5: specialised or industry parks, and hardship areas, may be relaxed."""
    result = sqlite_ledger.file_application(CLERK, **filing(
        agencies_count=12, relaxation_reason="艰苦边远地区，机构少但服务覆盖全州", **basis))

    assert [(f["rule"], f["severity"]) for f in result["flags"]] == [("agencies_count", "noted")]
    assert sqlite_ledger.park(CODE)["raised_findings"] == [f"{CODE}/v1/agencies_count"]


def test_art_5_relaxation_without_a_reason_leaves_a_shortfall(sqlite_ledger):
    """Art. 5 relaxation is claimed with a reason; a bare basis does not relax anything."""
    result = sqlite_ledger.file_application(CLERK, **filing(agencies_count=12,
                                                            hardship_area=True))

    assert [f["severity"] for f in result["flags"]] == ["shortfall"]


def test_art_5_reason_without_a_basis_leaves_a_shortfall(sqlite_ledger):
    result = sqlite_ledger.file_application(CLERK, **filing(
        agencies_count=12, relaxation_reason="希望放宽"))

    assert [f["severity"] for f in result["flags"]] == ["shortfall"]


def test_art_19_filing_before_the_measures_took_effect_is_refused_without_override(
        sqlite_ledger):
    """Art. 19: the measures apply from their issue date, 2021-11-05."""
    error = assert_refused(sqlite_ledger, RuleBreach,
                           lambda: sqlite_ledger.file_application(
                               CLERK, **filing(effective_on="2021-11-04")),
                           field="override_reason", article="Art. 19")

    assert error.details["breaches"][0]["rule"] == "filed_before_measures"


def test_art_19_filing_before_the_measures_is_recorded_flagged_with_override(sqlite_ledger):
    """Art. 19: migrated older records go in under an override and stay a finding."""
    result = sqlite_ledger.file_application(CLERK, **filing(
        effective_on="2021-06-01", override_reason="2021年办法施行前的历史档案迁移"))

    assert result["flags"] == [{
        "article": "Art. 19", "rule": "filed_before_measures", "severity": "breach",
        "message": result["flags"][0]["message"],
        "finding_id": f"{CODE}/v1/filed_before_measures"}]
    assert sqlite_ledger.timeline(CODE)[0]["override_reason"] == "2021年办法施行前的历史档案迁移"


def test_art_19_filing_on_the_issue_date_is_in_force(sqlite_ledger):
    result = sqlite_ledger.file_application(CLERK, **filing(effective_on="2021-11-05"))

    assert result["flags"] == []


def test_blank_override_reason_does_not_justify_a_breach(sqlite_ledger):
    assert_refused(sqlite_ledger, RuleBreach,
                   lambda: sqlite_ledger.file_application(
                       CLERK, **filing(effective_on="2021-11-04", override_reason="   ")),
                   field="override_reason", article="Art. 19")


def test_second_filing_of_the_same_park_code_is_refused(sqlite_ledger):
    sqlite_ledger.file_application(CLERK, **filing())

    assert_refused(sqlite_ledger, DuplicateError,
                   lambda: sqlite_ledger.file_application(CLERK, **filing(name="另一个园区")),
                   field="park_code")


def test_command_on_an_unknown_park_is_refused(sqlite_ledger):
    assert_refused(sqlite_ledger, ParkNotFoundError,
                   lambda: send(sqlite_ledger, "supplement_materials", CLERK, code="XX-0000"),
                   field="park_code")


@pytest.mark.parametrize("overrides, field, says", [
    ({"annual_revenue_yuan": 900000000.0}, "annual_revenue_yuan", "not a number"),
    ({"annual_revenue_yuan": 900000000}, "annual_revenue_yuan", "not a number"),
    ({"annual_revenue_yuan": "9e8"}, "annual_revenue_yuan", "decimal string"),
    ({"annual_revenue_yuan": "-5.00"}, "annual_revenue_yuan", "greater than zero"),
    ({"annual_revenue_yuan": "1.005"}, "annual_revenue_yuan", "decimal string"),
    ({"effective_on": "2026-02-30"}, "effective_on", "date"),
    ({"effective_on": "05/01/2026"}, "effective_on", "date"),
    ({"effective_on": "2026-11-21"}, "effective_on", "future"),
    ({"documents": [{"title": "规划论证报告"}]}, "documents.0.sha256", "required"),
    ({"documents": [{"title": "规划论证报告", "sha256": "AB" * 32}]}, "documents.0.sha256",
     "SHA-256"),
    ({"documents": [{"title": "规划论证报告", "sha256": "ab" * 31}]}, "documents.0.sha256",
     "SHA-256"),
    ({"documents": [{"title": "报告", "sha256": SHA, "url": "x"}]}, "documents.0.url",
     "unknown field"),
    ({"favourite_colour": "red"}, "favourite_colour", "unknown field"),
    ({"prefecture": "530200"}, "prefecture", "Must be one of"),
    ({"public_services": ["tourism"]}, "public_services.0", "Must be one of"),
    ({"agencies_count": "30"}, "agencies_count", "integer"),
    ({"agencies_count": -1}, "agencies_count", "greater than or equal"),
    ({"specialisation": "sports"}, "specialisation", "Must be one of"),
    ({"park_code": "KM 2026/01"}, "park_code", "letters, digits"),
    ({"name": ""}, "name", "Length must be between 1"),
])
def test_malformed_filing_is_refused_naming_the_field(sqlite_ledger, overrides, field, says):
    """Malformed input (DESIGN.md): refused with the field and the reason, nothing written."""
    error = assert_refused(sqlite_ledger, ValidationError,
                           lambda: sqlite_ledger.file_application(CLERK, **filing(**overrides)),
                           field=field)

    assert says in error.message


def test_missing_required_field_is_refused_naming_it(sqlite_ledger):
    body = filing()
    del body["applicant"]

    error = assert_refused(sqlite_ledger, ValidationError,
                           lambda: sqlite_ledger.file_application(CLERK, **body),
                           field="applicant")

    assert "required" in error.message


@pytest.mark.parametrize("amount, says", [
    (2000000.0, "not a number"), ("-2000000.00", "greater than zero"),
    ("0.00", "greater than zero"), ("两百万", "decimal string")])
def test_malformed_subsidy_amount_is_refused_naming_amount_yuan(sqlite_ledger, amount, says):
    to_approved(sqlite_ledger)

    error = assert_refused(sqlite_ledger, ValidationError,
                           lambda: send(sqlite_ledger, "disburse_subsidy", FINANCE,
                                        amount_yuan=amount), field="amount_yuan")

    assert says in error.message


def test_effective_date_today_in_china_is_not_the_future(sqlite_ledger, clock):
    """The ledger's day is Asia/Shanghai: 2026-11-20 02:00 UTC is already 10:00 there."""
    clock.now = clock.now.replace(hour=17)  # 2026-11-21 01:00 in Kunming

    result = sqlite_ledger.file_application(CLERK, **filing(effective_on="2026-11-21"))

    assert result["effective_on"] == "2026-11-21"


def test_unknown_command_and_malformed_actor_are_refused(sqlite_ledger):
    assert_refused(sqlite_ledger, ValidationError,
                   lambda: sqlite_ledger.execute("pay_bonus", {}, CLERK), field="command")
    assert_refused(sqlite_ledger, ValidationError,
                   lambda: sqlite_ledger.execute("file_application", filing(),
                                                 {**CLERK, "role": "mayor"}),
                   field="actor.role")
    assert event_count(sqlite_ledger) == 0
