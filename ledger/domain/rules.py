"""The regulation's numbers and checks (云人社通〔2021〕75号), each citing its article.

A check returns the breaches it finds as `Flag`s; it never raises. The aggregate decides whether a
breach refuses the command (no override) or is recorded flagged (override given).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

MEASURES_IN_FORCE_ON = date(2021, 11, 5)  # Art. 19: in force from the issue date
MIN_AGENCIES = 25  # Art. 4(2)
MIN_ANNUAL_REVENUE_YUAN = Decimal("800000000")  # Art. 4(2): 8亿元
MAX_SUB_PARKS = 3  # Art. 4(2), Art. 7
PUBLICITY_WORKING_DAYS = 5  # Art. 6(3)
OPENING_SUBSIDY_YUAN = Decimal("2000000.00")  # Art. 9: 200万元 one-time
EVALUATION_CYCLE_YEARS = 3  # Art. 16: every three years
SELF_EVALUATION_DUE = (3, 31)  # Art. 16 yearly self-evaluation; due by 31 March of the next year

PREFECTURES = {
    "530100": "昆明市", "530300": "曲靖市", "530400": "玉溪市", "530500": "保山市",
    "530600": "昭通市", "530700": "丽江市", "530800": "普洱市", "530900": "临沧市",
    "532300": "楚雄州", "532500": "红河州", "532600": "文山州", "532800": "西双版纳州",
    "532900": "大理州", "533100": "德宏州", "533300": "怒江州", "533400": "迪庆州",
}
PUBLIC_SERVICES = ("employment_entrepreneurship", "vocational_training", "social_security",
                   "personnel_talent")  # Art. 4(2)
SUPPORTING_SERVICES = ("meeting", "training", "finance", "legal", "catering")  # Art. 4(3)
SUPPORT_POLICIES = ("fiscal_tax", "rent_subsidy", "training_subsidy", "talent_reward",
                    "service_purchase")  # Art. 4(4)
SPECIALISATIONS = ("none", "professional", "industry")  # Art. 5
EXPERT_DIMENSIONS = ("scale", "operations", "infrastructure", "features", "public_services",
                     "benefits")  # Art. 6(2)
GRADE_DIMENSIONS = ("platform", "policy", "operations", "service", "benefits")  # Art. 16
GRADES = ("excellent", "qualified", "unqualified")  # Art. 17: 优秀/合格/不合格
RECOMMENDATIONS = ("recommend", "conditional", "not_recommend")
EVALUATION_OUTCOMES = ("recommended", "not_recommended")
OBJECTION_OUTCOMES = ("upheld", "dismissed")
REVOCATION_GROUNDS = ("poor_operation", "no_clear_benefit", "violation",
                      "adverse_impact")  # Art. 17

BREACH = "breach"  # a rule the province broke, recorded under override
SHORTFALL = "shortfall"  # an Art. 4 condition a filing does not meet
NOTED = "noted"  # a shortfall where Art. 5 relaxation is claimed with a reason


@dataclass(frozen=True)
class Flag:
    """One rule a command breaks or one condition a filing falls short of."""

    article: str
    rule: str
    message: str
    severity: str = BREACH

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def eligibility_flags(*, agencies_count: int, annual_revenue_yuan: Decimal,
                      public_services: list[str], sub_parks: list[str], management_body: str,
                      full_time_staff: int, supporting_services: list[str],
                      support_policies: list[str], relaxed: bool) -> list[Flag]:
    """Art. 4 conditions a filing does not meet; *noted* instead of shortfall under Art. 5."""
    severity = NOTED if relaxed else SHORTFALL
    flags: list[Flag] = []

    def short(article: str, rule: str, message: str) -> None:
        flags.append(Flag(article, rule, message, severity))

    if agencies_count < MIN_AGENCIES:
        short("Art. 4(2)", "agencies_count",
              f"{agencies_count} operating HR service agencies, at least {MIN_AGENCIES} required")
    if annual_revenue_yuan < MIN_ANNUAL_REVENUE_YUAN:
        short("Art. 4(2)", "annual_revenue",
              f"annual revenue ¥{annual_revenue_yuan}, "
              f"at least ¥{MIN_ANNUAL_REVENUE_YUAN} required")
    missing = [s for s in PUBLIC_SERVICES if s not in public_services]
    if missing:
        short("Art. 4(2)", "public_services", f"public-service functions missing: {missing}")
    if len(sub_parks) > MAX_SUB_PARKS:
        short("Art. 4(2)", "sub_parks",
              f"{len(sub_parks)} sub-parks, at most {MAX_SUB_PARKS} allowed")
    if not management_body.strip():
        short("Art. 4(3)", "management_body", "no management body named")
    if full_time_staff < 1:
        short("Art. 4(3)", "full_time_staff", "no full-time staff")
    missing = [s for s in SUPPORTING_SERVICES if s not in supporting_services]
    if missing:
        short("Art. 4(3)", "supporting_services", f"supporting services missing: {missing}")
    if not support_policies:
        short("Art. 4(4)", "support_policies", "no local support policy recorded")
    return flags


def relaxation_claimed(specialisation: str, hardship_area: bool, relaxation_reason: str) -> bool:
    """Art. 5: a specialised/industry park or a hardship area, with a stated reason."""
    return (specialisation != "none" or hardship_area) and bool(relaxation_reason.strip())


def filing_date_flags(effective_on: date) -> list[Flag]:
    """Art. 19: the measures apply to filings from 2021-11-05."""
    if effective_on < MEASURES_IN_FORCE_ON:
        return [Flag("Art. 19", "filed_before_measures",
                     f"filed on {effective_on}, before the measures took effect on "
                     f"{MEASURES_IN_FORCE_ON}")]
    return []


def cycle_years(cycle: str) -> tuple[int, int] | None:
    """The first and last year of an evaluation cycle written `YYYY-YYYY`, or None if malformed."""
    parts = cycle.split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts):
        return None
    return int(parts[0]), int(parts[1])
