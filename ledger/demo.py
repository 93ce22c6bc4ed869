"""Fictional demo data (every name says 示例), as import lines that use every command.

Six parks in six prefectures, each telling one kind of history an auditor should be able to read:

- KM-2022-01 昆明: the model park: filed, evaluated, publicised (an objection dismissed), approved,
  plaque, ¥2,000,000 subsidy, a second sub-park, yearly self-evaluations, graded excellent
  (2022-2024), commended and recommended for national level.
- DL-2022-01 大理: an objection upheld during publicity; the application is rejected.
- HH-2023-01 红河: the subsidy paid before approval (Art. 9, recorded under override), its voucher
  number corrected (EntryCorrected), a 4th sub-park consented under override (Art. 4(2)), graded
  unqualified (2023-2025), rectification ordered and completed.
- PE-2022-01 普洱: graded unqualified, rectification ordered, plaque revoked, the subsidy demanded
  back and only ¥800,000 of it repaid.
- DQ-2023-01 迪庆: a hardship area (Art. 5) far below the Art. 4(2) thresholds: noted findings;
  publicity across the 2023 National Day holiday (its 调休 weekend counted); the auditor closes
  one finding.
- QJ-2024-01 曲靖: an Art. 4 shortfall filing (no relaxation claimed), not recommended, withdrawn.

Every line carries an idempotency key, so loading the demo again records nothing twice. All dates
lie in 2022-2026 (known to the working-day calendar) and before 2026-11-20.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ledger.domain.rules import PREFECTURES

CLERK = {"user": "demo.clerk", "role": "clerk",
         "organisation": "云南省人力资源和社会保障厅（示例）"}
FINANCE = {"user": "demo.finance", "role": "finance", "organisation": "云南省财政厅（示例）"}
AUDITOR = {"user": "demo.auditor", "role": "auditor", "organisation": "云南省审计厅（示例）"}
ALL_PUBLIC_SERVICES = ["employment_entrepreneurship", "vocational_training", "social_security",
                       "personnel_talent"]
ALL_SUPPORTING = ["meeting", "training", "finance", "legal", "catering"]
PANEL = ["张示例", "李示例", "王示例"]
EXPERT_ORGANISATIONS = ["云南大学（示例）", "云南财经大学（示例）", "省人才研究会（示例）"]
KEY_PREFIX = "demo-2026"


def document(title: str) -> dict[str, str]:
    """A fictional document reference: its title and the SHA-256 of a made-up file body."""
    return {"title": title, "sha256": hashlib.sha256(f"示例文件：{title}".encode()).hexdigest()}


class Script:
    """Collects the demo's import lines, numbering an idempotency key per park."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self._counts: dict[str, int] = {}

    def add(self, command: str, code: str, on: str, actor: dict[str, str] = CLERK,
            **fields: Any) -> None:
        n = self._counts[code] = self._counts.get(code, 0) + 1
        self.lines.append({"command": command, "actor": dict(actor), "park_code": code,
                           "effective_on": on, "idempotency_key": f"{KEY_PREFIX}/{code}/{n:02d}",
                           **fields})

    def version(self, code: str) -> int:
        """The park's version after the lines so far (each line records one event)."""
        return self._counts.get(code, 0)

    def file(self, code: str, on: str, prefecture: str, city: str, **overrides: Any) -> None:
        fields: dict[str, Any] = {
            "name": f"示例{city}人力资源服务产业园", "prefecture": prefecture,
            "applicant": f"{PREFECTURES[prefecture]}人民政府（示例）", "agencies_count": 32,
            "annual_revenue_yuan": "1250000000.00", "public_services": ALL_PUBLIC_SERVICES,
            "sub_parks": [f"示例{city}一分园"], "management_body": f"示例{city}产业园管理委员会",
            "full_time_staff": 15, "supporting_services": ALL_SUPPORTING,
            "support_policies": ["fiscal_tax", "rent_subsidy", "talent_reward"],
            "documents": [document(f"{city}申报函"), document(f"{city}规划论证报告"),
                          document(f"{city}运营情况报告")],
        }
        self.add("file_application", code, on, **{**fields, **overrides})

    def evaluate(self, code: str, opened: str, opinions: str, concluded: str,
                 outcome: str = "recommended", score: int = 86) -> None:
        self.add("open_evaluation", code, opened, panel=PANEL)
        for i, expert in enumerate(PANEL):
            self.add("record_expert_opinion", code, opinions, expert=expert,
                     organisation=EXPERT_ORGANISATIONS[i],
                     scores={d: score - i for d in ("scale", "operations", "infrastructure",
                                                    "features", "public_services", "benefits")},
                     recommendation="recommend" if outcome == "recommended" else "not_recommend",
                     remarks="示例评审意见")
        self.add("conclude_evaluation", code, concluded, outcome=outcome)

    def publicise(self, code: str, starts: str, ends: str) -> None:
        self.add("start_publicity", code, starts, starts_on=starts, ends_on=ends,
                 channel="云南省人力资源和社会保障厅网站（示例）")

    def approve(self, code: str, closed: str, approved: str, number: str) -> None:
        self.add("close_publicity", code, closed)
        self.add("approve_park", code, approved,
                 approval_no=f"云人社函〔{approved[:4]}〕示例{number}号",
                 documents=[document(f"认定批复{number}")])
        self.add("award_plaque", code, approved, plaque_no=f"YN-HRP-示例-{number}")

    def subsidy(self, code: str, on: str, voucher: str, **extra: Any) -> None:
        self.add("disburse_subsidy", code, on, FINANCE, amount_yuan="2000000.00",
                 voucher_no=voucher, **extra)

    def self_evaluations(self, code: str, years: range) -> None:
        for year in years:
            self.add("report_self_evaluation", code, f"{year + 1}-03-16", year=year,
                     summary=f"{year}年度自评（示例）")

    def grade(self, code: str, on: str, cycle: str, grade: str, score: int) -> None:
        self.add("grade_evaluation", code, on, cycle=cycle, grade=grade,
                 scores={d: score for d in ("platform", "policy", "operations", "service",
                                            "benefits")})


def demo_commands() -> list[dict[str, Any]]:
    """The demo, in the order its lines are imported."""
    s = Script()
    _kunming(s)
    _dali(s)
    _honghe(s)
    _puer(s)
    _diqing(s)
    _qujing(s)
    return s.lines


def _kunming(s: Script) -> None:
    code = "KM-2022-01"
    s.file(code, "2022-03-01", "530100", "昆明")
    s.add("supplement_materials", code, "2022-03-15", note="补充2021年度营业收入审计报告（示例）",
          documents=[document("昆明2021年度审计报告")])
    s.evaluate(code, "2022-04-06", "2022-04-20", "2022-05-05", score=92)
    s.publicise(code, "2022-05-09", "2022-05-13")
    s.add("raise_objection", code, "2022-05-10", objection_no="YY-2022-001",
          received_on="2022-05-10", objector={"name": "赵示例", "contact": "0871-0000000"},
          grounds="认为园区入驻机构数量统计有误（示例）")
    s.add("resolve_objection", code, "2022-05-12", objection_no="YY-2022-001",
          outcome="dismissed", finding="经核查，入驻机构32家属实（示例）")
    s.approve(code, "2022-05-13", "2022-05-20", "1")
    s.subsidy(code, "2022-06-15", "财建-2022-示例-001")
    s.add("add_sub_park", code, "2022-09-01", name="示例昆明二分园",
          request_letter_no="昆政函〔2022〕示例8号", documents=[document("昆明分园设立请示")])
    s.self_evaluations(code, range(2022, 2026))
    s.grade(code, "2025-06-10", "2022-2024", "excellent", 93)
    s.add("issue_commendation", code, "2025-07-01", notice_no="云人社通〔2025〕示例20号")
    s.add("recommend_national", code, "2025-08-01", letter_no="云人社函〔2025〕示例66号")


def _dali(s: Script) -> None:
    code = "DL-2022-01"
    s.file(code, "2022-04-11", "532900", "大理")
    s.evaluate(code, "2022-05-09", "2022-05-23", "2022-06-06", score=81)
    s.publicise(code, "2022-06-13", "2022-06-17")
    s.add("raise_objection", code, "2022-06-14", objection_no="YY-2022-002",
          received_on="2022-06-14", objector={"name": "钱示例", "contact": "0872-0000000"},
          grounds="申报营业收入含非人力资源服务收入（示例）")
    s.add("resolve_objection", code, "2022-06-28", objection_no="YY-2022-002", outcome="upheld",
          finding="核减后营业收入不足8亿元，异议成立（示例）")
    s.add("close_publicity", code, "2022-06-17")
    s.add("reject_application", code, "2022-07-05", reason="公示期异议经核查成立（示例）")


def _honghe(s: Script) -> None:
    code = "HH-2023-01"
    s.file(code, "2023-02-06", "532500", "红河",
           sub_parks=["示例红河一分园", "示例红河二分园", "示例红河三分园"])
    s.evaluate(code, "2023-03-06", "2023-03-20", "2023-04-10", score=84)
    s.publicise(code, "2023-05-08", "2023-05-12")
    s.subsidy(code, "2023-05-10", "财建-2023-示例-O07",
              override_reason="年初预算已下达，财政厅在认定前提前拨付（示例）")
    s.add("correct_entry", code, "2023-05-16", FINANCE, corrects_version=s.version(code),
          field="voucher_no",
          wrong_value="财建-2023-示例-O07", right_value="财建-2023-示例-007",
          reason="凭证号字母O误录为数字0（示例）")
    s.approve(code, "2023-05-12", "2023-05-19", "2")
    s.add("add_sub_park", code, "2023-11-01", name="示例红河四分园",
          request_letter_no="红政函〔2023〕示例5号",
          override_reason="省政府专题会议同意先行设立第四分园（示例）")
    s.self_evaluations(code, range(2023, 2025))
    s.grade(code, "2026-04-15", "2023-2025", "unqualified", 55)
    s.add("order_rectification", code, "2026-05-06", notice_no="云人社通〔2026〕示例9号",
          grounds="运营数据不实，公共服务功能未落实（示例）", deadline="2026-08-31")
    s.add("complete_rectification", code, "2026-08-25",
          verified_by="省厅人力资源流动管理处（示例）")


def _puer(s: Script) -> None:
    code = "PE-2022-01"
    s.file(code, "2022-06-01", "530800", "普洱")
    s.evaluate(code, "2022-07-04", "2022-07-18", "2022-08-01", score=80)
    s.publicise(code, "2022-08-15", "2022-08-19")
    s.approve(code, "2022-08-19", "2022-08-26", "3")
    s.subsidy(code, "2022-09-20", "财建-2022-示例-002")
    s.self_evaluations(code, range(2022, 2024))
    s.grade(code, "2025-05-12", "2022-2024", "unqualified", 48)
    s.add("order_rectification", code, "2025-06-02", notice_no="云人社通〔2025〕示例11号",
          grounds="入驻机构大量流失，园区运营不善（示例）", deadline="2025-09-30")
    s.add("revoke_plaque", code, "2025-11-10", decision_no="云人社〔2025〕示例3号",
          grounds=["poor_operation", "no_clear_benefit"], documents=[document("普洱撤销决定")])
    s.add("demand_refund", code, "2025-11-20", FINANCE, amount_yuan="2000000.00",
          deadline="2026-03-31", notice_no="云财追〔2025〕示例1号")
    s.add("receive_refund", code, "2026-01-15", FINANCE, amount_yuan="800000.00",
          voucher_no="财缴-2026-示例-001")


def _diqing(s: Script) -> None:
    code = "DQ-2023-01"
    s.file(code, "2023-06-05", "533400", "迪庆", agencies_count=12,
           annual_revenue_yuan="150000000.00", full_time_staff=6,
           supporting_services=["meeting", "training", "catering"], hardship_area=True,
           relaxation_reason="迪庆州属艰苦边远地区，依第五条适当放宽条件（示例）")
    s.evaluate(code, "2023-07-03", "2023-07-17", "2023-08-07", score=78)
    # Across the 2023 National Day holiday: 10-07 and 10-08 (weekend) were worked in lieu.
    s.publicise(code, "2023-09-27", "2023-10-09")
    s.approve(code, "2023-10-09", "2023-10-16", "4")
    s.subsidy(code, "2023-11-06", "财建-2023-示例-011")
    s.self_evaluations(code, range(2023, 2026))
    s.add("close_finding", code, "2024-01-15", AUDITOR, finding_id=f"{code}/v1/agencies_count",
          reason="已核实属第五条放宽情形（示例）")


def _qujing(s: Script) -> None:
    code = "QJ-2024-01"
    s.file(code, "2024-03-04", "530300", "曲靖", agencies_count=18,
           annual_revenue_yuan="520000000.00", supporting_services=["meeting", "legal"],
           public_services=["employment_entrepreneurship", "vocational_training"])
    s.evaluate(code, "2024-04-08", "2024-04-22", "2024-05-06", outcome="not_recommended",
               score=58)
    s.add("withdraw_application", code, "2024-05-20",
          reason="市政府撤回申报，待条件成熟后再报（示例）")
