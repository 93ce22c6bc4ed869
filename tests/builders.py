"""Command payloads for tests: a valid default for each step of a park's life."""

from __future__ import annotations

from typing import Any

from ledger.application import Ledger

CLERK = {"user": "li.clerk", "role": "clerk", "organisation": "云南省人力资源和社会保障厅"}
FINANCE = {"user": "wang.finance", "role": "finance", "organisation": "云南省财政厅"}
AUDITOR = {"user": "zhao.audit", "role": "auditor", "organisation": "云南省审计厅"}
ALL_PUBLIC_SERVICES = ["employment_entrepreneurship", "vocational_training", "social_security",
                       "personnel_talent"]
SHA = "ab" * 32


def filing(park_code: str = "KM-2026-01", **overrides: Any) -> dict[str, Any]:
    """A filing that meets every Art. 4 condition."""
    return {
        "park_code": park_code, "name": "示例人力资源服务产业园", "prefecture": "530100",
        "applicant": "昆明市人民政府", "agencies_count": 30,
        "annual_revenue_yuan": "900000000.00", "public_services": list(ALL_PUBLIC_SERVICES),
        "sub_parks": ["示例分园一"], "management_body": "示例产业园管委会", "full_time_staff": 12,
        "supporting_services": ["meeting", "training", "finance", "legal", "catering"],
        "support_policies": ["fiscal_tax", "rent_subsidy"], "effective_on": "2026-01-05",
        "documents": [{"title": "规划论证报告", "sha256": SHA}], **overrides,
    }


def scores(value: int = 85) -> dict[str, int]:
    return {d: value for d in ("scale", "operations", "infrastructure", "features",
                               "public_services", "benefits")}


def grade_scores(value: int = 85) -> dict[str, int]:
    return {d: value for d in ("platform", "policy", "operations", "service", "benefits")}


def to_publicity(ledger: Ledger, code: str = "KM-2026-01", starts_on: str = "2026-03-02",
                 ends_on: str = "2026-03-06") -> None:
    """File, evaluate (recommended) and start a publicity of 5 working days."""
    ledger.file_application(CLERK, **filing(code))
    ledger.open_evaluation(CLERK, park_code=code, effective_on="2026-01-10", panel=["张专家"])
    ledger.record_expert_opinion(CLERK, park_code=code, effective_on="2026-01-20",
                                 expert="张专家", organisation="云南大学", scores=scores(),
                                 recommendation="recommend")
    ledger.conclude_evaluation(CLERK, park_code=code, effective_on="2026-02-01",
                               outcome="recommended")
    ledger.start_publicity(CLERK, park_code=code, effective_on=starts_on, starts_on=starts_on,
                           ends_on=ends_on, channel="云南省人社厅网站")


def to_approved(ledger: Ledger, code: str = "KM-2026-01") -> None:
    """A park approved after a clean 5-working-day publicity (2026-03-02 to 03-06)."""
    to_publicity(ledger, code)
    ledger.close_publicity(CLERK, park_code=code, effective_on="2026-03-06")
    ledger.approve_park(CLERK, park_code=code, effective_on="2026-03-10",
                        approval_no="云人社函〔2026〕1号")


def to_revoked(ledger: Ledger, code: str = "KM-2026-01") -> None:
    """An approved park that received its subsidy and then lost its plaque."""
    to_approved(ledger, code)
    ledger.disburse_subsidy(FINANCE, park_code=code, effective_on="2026-04-01",
                            amount_yuan="2000000.00", voucher_no="财-2026-001")
    ledger.revoke_plaque(CLERK, park_code=code, effective_on="2026-06-01",
                         decision_no="云人社〔2026〕9号", grounds=["violation"])


def event_count(ledger: Ledger) -> int:
    """How many events (of every aggregate) the store holds: refusals must not change it."""
    return ledger.recorder.max_notification_id() or 0
