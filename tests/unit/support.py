"""Helpers for the rule tests: a valid payload for every command, and the refusal check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.domain.errors import LedgerError
from tests.builders import AUDITOR, CLERK, FINANCE, event_count, filing, grade_scores, scores

CODE = "KM-2026-01"
REVIEWER = {"user": "sun.review", "role": "reviewer", "organisation": "云南省纪委监委"}
ADMIN = {"user": "root", "role": "admin", "organisation": "信息中心"}

FIELDS: dict[str, dict[str, Any]] = {
    "file_application": {},
    "supplement_materials": {"note": "补充运营情况报告"},
    "withdraw_application": {},
    "open_evaluation": {"panel": ["李专家"]},
    "record_expert_opinion": {"expert": "张专家", "organisation": "云南大学", "scores": scores(),
                              "recommendation": "recommend"},
    "conclude_evaluation": {"outcome": "recommended"},
    "start_publicity": {"starts_on": "2026-03-02", "ends_on": "2026-03-06", "channel": "网站"},
    "raise_objection": {"objection_no": "YY-1", "received_on": "2026-03-03",
                        "objector": {"name": "某某", "contact": "13800000000"},
                        "grounds": "入驻机构数量不实"},
    "resolve_objection": {"objection_no": "YY-1", "outcome": "dismissed", "finding": "查无实据"},
    "close_publicity": {},
    "approve_park": {"approval_no": "云人社函〔2026〕1号"},
    "award_plaque": {"plaque_no": "YN-HR-001"},
    "reject_application": {},
    "add_sub_park": {"name": "示例新分园", "request_letter_no": "昆人社函〔2026〕3号"},
    "disburse_subsidy": {"amount_yuan": "2000000.00", "voucher_no": "财-2026-001"},
    "report_self_evaluation": {"year": 2026, "summary": "年度自评"},
    "grade_evaluation": {"cycle": "2024-2026", "grade": "excellent", "scores": grade_scores()},
    "issue_commendation": {"notice_no": "通报〔2026〕1号"},
    "recommend_national": {"letter_no": "推荐〔2026〕1号"},
    "order_rectification": {"notice_no": "整改〔2026〕1号", "grounds": "运营不善",
                            "deadline": "2026-12-31"},
    "complete_rectification": {"verified_by": "省厅核查组"},
    "revoke_plaque": {"decision_no": "云人社〔2026〕9号", "grounds": ["violation"]},
    "demand_refund": {"amount_yuan": "2000000.00", "deadline": "2026-12-31",
                      "notice_no": "退〔2026〕1号"},
    "receive_refund": {"amount_yuan": "1000000.00", "voucher_no": "收-2026-001"},
    "correct_entry": {"corrects_version": 1, "field": "name",
                      "wrong_value": "示例人力资源服务产业园", "right_value": "示例产业园"},
    "close_finding": {"finding_id": f"{CODE}/clock/self_evaluation/2026"},
}


def payload(command: str, code: str = CODE, **overrides: Any) -> dict[str, Any]:
    """A well-formed payload of `command` (whether the park's state allows it is another matter)."""
    if command == "file_application":
        return filing(code, **overrides)
    return {"park_code": code, "effective_on": "2026-11-01", **FIELDS[command], **overrides}


def send(ledger: Ledger, command: str, actor: dict[str, str], code: str = CODE,
         **overrides: Any) -> dict[str, Any]:
    return ledger.execute(command, payload(command, code, **overrides), actor)


def actor_for(command: str) -> dict[str, str]:
    if command in ("disburse_subsidy", "demand_refund", "receive_refund"):
        return FINANCE
    if command == "close_finding":
        return AUDITOR
    return CLERK


def to_evaluated(ledger: Ledger, code: str = CODE, outcome: str = "recommended") -> None:
    """Filed, evaluated by one expert and concluded; ready for publicity."""
    ledger.file_application(CLERK, **filing(code))
    ledger.open_evaluation(CLERK, park_code=code, effective_on="2026-01-10", panel=["张专家"])
    ledger.record_expert_opinion(CLERK, park_code=code, effective_on="2026-01-20",
                                 expert="张专家", organisation="云南大学", scores=scores(),
                                 recommendation="recommend")
    ledger.conclude_evaluation(CLERK, park_code=code, effective_on="2026-02-01", outcome=outcome)


def assert_refused(ledger: Ledger, error: type[LedgerError], call: Callable[[], Any], *,
                   field: str | None = None, article: str | None = None) -> LedgerError:
    """`call` fails with `error` naming `field` and/or `article`, and writes nothing."""
    assert field is not None or article is not None, "a refusal must name a field or article"
    before = event_count(ledger)

    with pytest.raises(error) as caught:
        call()

    assert event_count(ledger) == before, "a refused command wrote an event"
    if field is not None:
        assert caught.value.field == field, caught.value.to_dict()
    if article is not None:
        assert caught.value.article == article, caught.value.to_dict()
    return caught.value


def flag_rules(result: dict[str, Any]) -> list[str]:
    return [flag["rule"] for flag in result["flags"]]
