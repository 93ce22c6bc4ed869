"""A syntactically valid body for every command, and API calls that walk a park's life."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.builders import filing, grade_scores, scores

CODE = "KM-2026-01"


def body(command: str, park_code: str = CODE, **overrides: Any) -> dict[str, Any]:
    """A body of `command` that passes its schema (whether the ledger accepts it depends on
    the park's state)."""
    fields: dict[str, Any] = {
        "file_application": filing(park_code),
        "supplement_materials": {"note": "补充材料"},
        "withdraw_application": {},
        "open_evaluation": {"panel": ["张专家"]},
        "record_expert_opinion": {"expert": "张专家", "organisation": "云南大学",
                                  "scores": scores(), "recommendation": "recommend"},
        "conclude_evaluation": {"outcome": "recommended"},
        "start_publicity": {"starts_on": "2026-03-02", "ends_on": "2026-03-06",
                            "channel": "云南省人社厅网站"},
        "raise_objection": {"objection_no": "YY-1", "received_on": "2026-03-03",
                            "objector": {"name": "示例异议人", "contact": "138-0000-0000"},
                            "grounds": "示例异议理由"},
        "resolve_objection": {"objection_no": "YY-1", "outcome": "dismissed",
                              "finding": "经核查不成立"},
        "close_publicity": {},
        "approve_park": {"approval_no": "云人社函〔2026〕1号"},
        "award_plaque": {"plaque_no": "牌-2026-01"},
        "reject_application": {},
        "add_sub_park": {"name": "示例分园二", "request_letter_no": "函-2026-7"},
        "disburse_subsidy": {"amount_yuan": "2000000.00", "voucher_no": "财-2026-001"},
        "report_self_evaluation": {"year": 2026, "summary": "年度自评"},
        "grade_evaluation": {"cycle": "2026-2028", "grade": "qualified",
                             "scores": grade_scores()},
        "issue_commendation": {"notice_no": "表-2026-1"},
        "recommend_national": {"letter_no": "荐-2026-1"},
        "order_rectification": {"notice_no": "整-2026-1", "grounds": "运营不佳",
                                "deadline": "2026-12-31"},
        "complete_rectification": {"verified_by": "示例核查组"},
        "revoke_plaque": {"decision_no": "云人社〔2026〕9号", "grounds": ["violation"]},
        "demand_refund": {"amount_yuan": "2000000.00", "deadline": "2026-12-31",
                          "notice_no": "退-2026-1"},
        "receive_refund": {"amount_yuan": "500000.00", "voucher_no": "财-2026-009"},
        "correct_entry": {"corrects_version": 1, "field": "applicant",
                          "wrong_value": "昆明市人民政府", "right_value": "昆明市政府"},
        "close_finding": {"finding_id": f"{park_code}/v1/none"},
    }[command]
    if command != "file_application":
        fields = {"park_code": park_code, "effective_on": _effective(command), **fields}
    return {**fields, **overrides}


def _effective(command: str) -> str:
    return {"open_evaluation": "2026-01-10", "record_expert_opinion": "2026-01-20",
            "conclude_evaluation": "2026-02-01", "start_publicity": "2026-03-02",
            "raise_objection": "2026-03-03", "resolve_objection": "2026-03-04",
            "close_publicity": "2026-03-06", "approve_park": "2026-03-10"}.get(command,
                                                                            "2026-04-01")


def send(client: FlaskClient, headers: dict[str, str], command: str,
         payload: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/commands/{command}", json=payload, headers=headers)


def to_approved(client: FlaskClient, auth: Any, code: str = CODE) -> None:
    """File, evaluate, publicise for 5 working days and approve, through the API."""
    for command in ("file_application", "open_evaluation", "record_expert_opinion",
                    "conclude_evaluation", "start_publicity", "close_publicity",
                    "approve_park"):
        response = send(client, auth("clerk"), command, body(command, code))
        assert response.status_code == 201, response.get_json()


