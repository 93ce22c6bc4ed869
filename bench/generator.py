"""A synthetic history of many parks, as import lines (dicts), deterministic from a seed.

Each park lives a plausible life under the measures (云人社通〔2021〕75号): filing (some short of
Art. 4, some relaxed under Art. 5), supplements, an expert panel, publicity of at least 5
statutory working days (some objections, dismissed or upheld), approval and plaque, the
¥2,000,000 subsidy, sub-parks, yearly self-evaluations, triennial grades, commendations,
rectification, revocation and refunds paid back in parts; or withdrawal and rejection. Every event
type occurs. Irregular histories are recorded under `override_reason` (subsidy before approval, a
4th sub-park, a commendation without an excellent grade) and their findings closed by an
auditor; some entries are back-dated (effective before the entry recorded before them) and many
are corrected (`correct_entry`). Long histories are padded out with supplements, objections and
corrections so that a park has `events_per_park` events on average.

Every line carries an idempotency key and is meant to be recorded: `python -m bench generate`
and the smoke test check that nothing is refused. Dates lie between 2021-12-01 and 2026-11-20,
within the years the working-day calendar knows.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.domain.calendar import WorkingDayCalendar
from ledger.domain.rules import PREFECTURES

LATEST = date(2026, 11, 20)  # no effective date after this (the ledger refuses future dates)
EARLIEST_FILING = date(2021, 12, 1)
LAST_FILING = date(2024, 3, 29)
CLERK = {"user": "bench.clerk", "role": "clerk",
         "organisation": "云南省人力资源和社会保障厅（基准）"}
FINANCE = {"user": "bench.finance", "role": "finance", "organisation": "云南省财政厅（基准）"}
AUDITOR = {"user": "bench.auditor", "role": "auditor", "organisation": "云南省审计厅（基准）"}
PUBLIC = ["employment_entrepreneurship", "vocational_training", "social_security",
          "personnel_talent"]
SUPPORTING = ["meeting", "training", "finance", "legal", "catering"]
POLICIES = ["fiscal_tax", "rent_subsidy", "training_subsidy", "talent_reward",
            "service_purchase"]
EXPERT_DIMENSIONS = ("scale", "operations", "infrastructure", "features", "public_services",
                     "benefits")
GRADE_DIMENSIONS = ("platform", "policy", "operations", "service", "benefits")
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"


@dataclass(frozen=True)
class Size:
    """How much history: `parks` parks averaging `events_per_park` events, one of them long."""

    name: str
    parks: int
    events_per_park: int
    long_park_events: int


SIZES = {
    "tiny": Size("tiny", 6, 30, 120),
    "small": Size("small", 50, 100, 1000),
    "medium": Size("medium", 1000, 100, 1000),
    "large": Size("large", 10000, 100, 1000),
}


def document(title: str) -> dict[str, str]:
    return {"title": title, "sha256": hashlib.sha256(title.encode()).hexdigest()}


class ParkStory:
    """Writes one park's lines in recorded order, tracking what a correction may name."""

    def __init__(self, code: str, rng: random.Random, calendar: WorkingDayCalendar,
                 key_prefix: str) -> None:
        self.code, self.rng, self.calendar = code, rng, calendar
        self.key_prefix = key_prefix
        self.lines: list[dict[str, Any]] = []
        # version -> (field, recorded value, effective date) of each correctable text field
        self.correctable: dict[int, tuple[str, str, date]] = {}
        self.filed_on = EARLIEST_FILING
        self.day = EARLIEST_FILING

    @property
    def version(self) -> int:
        return len(self.lines)

    def add(self, command: str, on: date, actor: dict[str, str] = CLERK,
            correctable: tuple[str, str] | None = None, **fields: Any) -> int:
        assert self.filed_on <= on <= LATEST, (self.code, command, on)
        line = {"command": command, "actor": dict(actor), "park_code": self.code,
                "effective_on": on.isoformat(),
                "idempotency_key": f"{self.key_prefix}/{self.code}/{self.version + 1}", **fields}
        self.lines.append(line)
        if correctable is not None:
            self.correctable[self.version] = (*correctable, on)
        return self.version

    def later(self, lo: int, hi: int) -> date:
        """Move the story's clock forward by lo..hi days (never past LATEST)."""
        self.day = min(LATEST, self.day + timedelta(days=self.rng.randint(lo, hi)))
        return self.day

    def workday_on_or_after(self, day: date) -> date:
        while not self.calendar.is_workday(day):
            day += timedelta(days=1)
        return day

    def back_dated(self) -> date:
        """A date between the filing and the story's clock: an entry recorded late."""
        span = (self.day - self.filed_on).days
        return self.filed_on + timedelta(days=self.rng.randint(0, max(0, span)))

    # ------------------------------------------------------------------ padding

    def supplements(self, n: int) -> None:
        for i in range(n):
            on = self.back_dated() if self.rng.random() < 0.2 else self.later(0, 3)
            topic = self.rng.choice(["营业收入审计", "入驻机构名录", "场地证明", "政策文件"])
            note = f"补充材料第{i + 1}批：{topic}（基准）"
            self.add("supplement_materials", on, note=note, correctable=("note", note),
                     documents=[document(f"{self.code} 补充{i + 1}")])

    def corrections(self, n: int) -> None:
        """n corrections of earlier text entries (some corrected again, the original named)."""
        if not self.correctable:
            return
        versions = sorted(self.correctable)
        for _ in range(n):
            version = self.rng.choice(versions)
            field, value, entered = self.correctable[version]
            # usually dated now; sometimes back-dated to just after the entry it corrects
            on = (entered + timedelta(days=self.rng.randint(0, 5))) \
                if self.rng.random() < 0.3 else self.day
            on = min(max(on, entered), LATEST)
            self.add("correct_entry", on, corrects_version=version, field=field,
                     wrong_value=value, right_value=f"{value}（更正{self.version + 1}）",
                     reason="录入错误，予以更正（基准）")


def park_story(index: int, seed: int, calendar: WorkingDayCalendar, target: int,
               key_prefix: str, code_prefix: str = "B") -> list[dict[str, Any]]:
    """The lines of park number `index`: about `target` of them."""
    rng = random.Random(f"{seed}/{index}")
    prefecture = rng.choice(sorted(PREFECTURES))
    filed = EARLIEST_FILING + timedelta(days=rng.randint(0, (LAST_FILING - EARLIEST_FILING).days))
    code = f"{code_prefix}{prefecture[2:4]}-{filed.year}-{index:05d}"
    s = ParkStory(code, rng, calendar, key_prefix)
    s.filed_on = s.day = filed
    fate = rng.random()
    # how much padding this park gets: supplements while filed, objections, corrections
    budget = max(0, target - 30)
    n_supp = budget * 2 // 10
    n_obj = min(budget // 10, 40)
    n_corr = budget - n_supp - n_obj

    _file(s, rng, prefecture)
    s.supplements(n_supp + rng.randint(0, 3))
    if fate < 0.04:  # withdrawn before evaluation
        s.corrections(n_corr)
        s.add("withdraw_application", s.later(5, 30), reason="申报单位主动撤回（基准）")
        return s.lines
    recommended = fate >= 0.09
    _evaluate(s, rng, recommended)
    if not recommended:
        s.corrections(n_corr)
        if rng.random() < 0.5:
            s.add("reject_application", s.later(5, 20), reason="专家评审未予推荐（基准）")
        else:
            s.add("withdraw_application", s.later(5, 20), reason="未获推荐，撤回申报（基准）")
        return s.lines
    upheld = _publicise(s, rng, n_obj, early_subsidy=fate >= 0.97)
    if upheld:
        s.corrections(n_corr)
        s.add("reject_application", s.later(3, 15), reason="公示期异议成立（基准）")
        return s.lines
    approved = _approve(s, rng)
    if fate < 0.97:
        s.later(15, 60)
        voucher = f"财建-{s.day.year}-{index:05d}"
        v = s.add("disburse_subsidy", s.day, FINANCE, amount_yuan="2000000.00",
                  voucher_no=voucher, correctable=("voucher_no", voucher))
        if rng.random() < 0.1:  # a mistyped voucher number, corrected
            s.add("correct_entry", s.later(1, 10), FINANCE, corrects_version=v,
                  field="voucher_no", wrong_value=voucher, right_value=voucher + "A",
                  reason="凭证号录入错误（基准）")
    _sub_parks(s, rng)
    s.corrections(n_corr // 2)
    _later_years(s, rng, approved)
    s.corrections(n_corr - n_corr // 2)
    return s.lines


def _file(s: ParkStory, rng: random.Random, prefecture: str) -> None:
    kind = rng.random()
    city = PREFECTURES[prefecture]
    fields: dict[str, Any] = {
        "name": f"{city}人力资源服务产业园（基准{s.code}）", "prefecture": prefecture,
        "applicant": f"{city}人民政府", "agencies_count": rng.randint(25, 80),
        "annual_revenue_yuan": f"{rng.randint(800, 3000)}000000.00",
        "public_services": list(PUBLIC), "sub_parks": [f"{s.code}一分园"],
        "management_body": f"{city}产业园管理委员会", "full_time_staff": rng.randint(5, 40),
        "supporting_services": list(SUPPORTING),
        "support_policies": rng.sample(POLICIES, rng.randint(1, 5)),
        "documents": [document(f"{s.code} 申报函"), document(f"{s.code} 规划论证报告")],
    }
    if kind < 0.06:  # short of Art. 4(2): a shortfall finding
        fields.update(agencies_count=rng.randint(10, 24),
                      public_services=PUBLIC[:rng.randint(1, 3)])
    elif kind < 0.10:  # a hardship area under Art. 5: noted findings
        fields.update(agencies_count=rng.randint(8, 20), hardship_area=True,
                      annual_revenue_yuan="150000000.00",
                      relaxation_reason="属艰苦边远地区，依第五条适当放宽（基准）")
    elif kind < 0.14:  # a park filed with 3 sub-parks (a 4th will need an override)
        fields["sub_parks"] = [f"{s.code}{n}分园" for n in "一二三"]
    s.add("file_application", s.filed_on, correctable=("name", fields["name"]), **fields)


def _evaluate(s: ParkStory, rng: random.Random, recommended: bool) -> None:
    panel = [f"{rng.choice(SURNAMES)}专家{n}" for n in range(rng.randint(3, 7))]
    s.add("open_evaluation", s.later(20, 60), panel=panel)
    for expert in panel:
        score = rng.randint(80, 95) if recommended else rng.randint(40, 70)
        remarks = f"{expert}评审意见：综合得分{score}（基准）"
        s.add("record_expert_opinion", s.later(0, 4), expert=expert,
              organisation=rng.choice(["云南大学", "云南财经大学", "省人才研究会"]),
              scores={d: min(100, score + rng.randint(-5, 5)) for d in EXPERT_DIMENSIONS},
              recommendation="recommend" if recommended else "not_recommend",
              remarks=remarks, correctable=("remarks", remarks))
    s.add("conclude_evaluation", s.later(3, 14),
          outcome="recommended" if recommended else "not_recommended")


def _publicise(s: ParkStory, rng: random.Random, n_obj: int, early_subsidy: bool) -> bool:
    """Publicity of ≥ 5 working days; returns True when an objection was upheld."""
    starts = s.workday_on_or_after(s.later(5, 20))
    ends = s.calendar.add_working_days(starts, rng.choice([5, 5, 5, 6, 7]))
    s.day = starts
    s.add("start_publicity", starts, starts_on=starts.isoformat(), ends_on=ends.isoformat(),
          channel="云南省人力资源和社会保障厅网站")
    if early_subsidy:  # Art. 9: paid before approval, recorded under override, then audited
        voucher = f"财建-{starts.year}-预-{s.code}"
        v = s.add("disburse_subsidy", starts, FINANCE, amount_yuan="2000000.00",
                  voucher_no=voucher, override_reason="预算提前下达，认定前拨付（基准）")
        s.add("close_finding", starts, AUDITOR,
              finding_id=f"{s.code}/v{v}/subsidy_not_approved",
              reason="已核实，认定后补办手续（基准）")
    objections = rng.choice([0, 0, 0, 1, 2]) + (n_obj if rng.random() < 0.5 else n_obj // 2)
    upheld = objections > 0 and rng.random() < 0.05
    for n in range(objections):
        received = starts + timedelta(days=rng.randint(0, (ends - starts).days))
        number = f"异-{s.code}-{n + 1}"
        s.add("raise_objection", received, objection_no=number, received_on=received.isoformat(),
              objector={"name": f"{rng.choice(SURNAMES)}某", "contact": "0871-0000000"},
              grounds="对申报数据有异议（基准）")
        outcome = "upheld" if upheld and n == 0 else "dismissed"
        s.add("resolve_objection", min(LATEST, received + timedelta(days=rng.randint(0, 2))),
              objection_no=number, outcome=outcome, finding="经核查（基准）")
    s.day = ends
    s.add("close_publicity", ends)
    return upheld


def _approve(s: ParkStory, rng: random.Random) -> date:
    approved = s.later(3, 12)
    s.add("approve_park", approved, approval_no=f"云人社函〔{approved.year}〕{s.code}号",
          documents=[document(f"{s.code} 认定批复")])
    s.add("award_plaque", s.later(0, 10), plaque_no=f"YN-HRP-{s.code}")
    return approved


def _sub_parks(s: ParkStory, rng: random.Random) -> None:
    existing = len(s.lines[0]["sub_parks"])
    for n in range(rng.choice([0, 0, 1, 1, 2])):
        extra: dict[str, Any] = {}
        if existing + n + 1 > 3:
            extra["override_reason"] = "省政府专题会议同意增设分园（基准）"
        v = s.add("add_sub_park", s.later(30, 200), name=f"{s.code}新增分园{n + 1}",
                  request_letter_no=f"州政函〔{s.day.year}〕{n + 1}号", **extra)
        if extra and rng.random() < 0.5:
            s.add("close_finding", s.later(5, 30), AUDITOR,
                  finding_id=f"{s.code}/v{v}/too_many_sub_parks", reason="已报备（基准）")


def _later_years(s: ParkStory, rng: random.Random, approved: date) -> None:
    """Self-evaluations each year, a grade for the first three years, and what it brings."""
    first = approved.year
    for year in range(first, 2026):
        on = date(year + 1, 3, rng.randint(1, 31))
        s.day = max(s.day, on)
        summary = f"{year}年度自评报告（基准）"
        s.add("report_self_evaluation", on if rng.random() > 0.15 else s.later(20, 60),
              year=year, summary=summary, correctable=("summary", summary))
        if year == first + 2 and not _grade(s, rng, f"{first}-{year}",
                                            date(year + 1, 5, rng.randint(1, 28))):
            return


def _grade(s: ParkStory, rng: random.Random, cycle: str, on: date) -> bool:
    """Grade a cycle and follow it up; False when the plaque was revoked."""
    s.day = max(s.day, on)
    roll = rng.random()
    grade = "excellent" if roll < 0.25 else "qualified" if roll < 0.8 else "unqualified"
    base = {"excellent": 92, "qualified": 80, "unqualified": 52}[grade]
    s.add("grade_evaluation", s.day, cycle=cycle, grade=grade,
          scores={d: base + rng.randint(-3, 3) for d in GRADE_DIMENSIONS})
    if grade == "excellent":
        s.add("issue_commendation", s.later(10, 40),
              notice_no=f"云人社通〔{s.day.year}〕表{s.code}")
        s.add("recommend_national", s.later(10, 40),
              letter_no=f"云人社函〔{s.day.year}〕推{s.code}")
    elif grade == "qualified" and rng.random() < 0.03:  # commended without excellence: flagged
        v = s.add("issue_commendation", s.later(10, 40),
                  notice_no=f"云人社通〔{s.day.year}〕表{s.code}",
                  override_reason="地方推荐，特例表扬（基准）")
        s.add("close_finding", s.later(5, 20), AUDITOR, finding_id=f"{s.code}/v{v}/not_excellent",
              reason="已说明（基准）")
    elif grade == "unqualified":
        ordered = s.later(10, 30)
        s.add("order_rectification", ordered, notice_no=f"云人社通〔{ordered.year}〕整{s.code}",
              grounds="运营不达标（基准）",
              deadline=(ordered + timedelta(days=90)).isoformat())
        if rng.random() < 0.6 or s.day + timedelta(days=140) > LATEST:
            s.add("complete_rectification", s.later(30, 80), verified_by="省厅流动管理处（基准）")
            return True
        _revoke_and_refund(s, rng)
        return False
    return True


def _revoke_and_refund(s: ParkStory, rng: random.Random) -> None:
    s.add("revoke_plaque", s.later(95, 110), decision_no=f"云人社〔{s.day.year}〕撤{s.code}",
          grounds=rng.sample(["poor_operation", "no_clear_benefit", "violation",
                              "adverse_impact"], rng.randint(1, 2)))
    disbursed = any(line["command"] == "disburse_subsidy" for line in s.lines)
    if not disbursed or s.day >= LATEST:
        return
    demanded = s.later(5, 20)
    s.add("demand_refund", demanded, FINANCE, amount_yuan="2000000.00",
          deadline=(demanded + timedelta(days=120)).isoformat(),
          notice_no=f"云财追〔{demanded.year}〕{s.code}")
    left = 2_000_000
    for part in range(rng.randint(1, 4)):
        if s.day >= LATEST or left <= 0:
            break
        paid_up = part == 3 or rng.random() < 0.3
        amount = left if paid_up else rng.randint(1, left // 10_000) * 10_000
        left -= amount
        s.add("receive_refund", s.later(5, 30), FINANCE, amount_yuan=f"{amount}.00",
              voucher_no=f"财缴-{s.day.year}-{s.code}-{part + 1}")


def generate(size: Size | str, seed: int = 1, key_prefix: str = "bench",
             code_prefix: str = "B", first_index: int = 0,
             calendar: WorkingDayCalendar | None = None) -> Iterator[dict[str, Any]]:
    """Every line of a size's history, park after park (park `first_index` is the long one)."""
    size = SIZES[size] if isinstance(size, str) else size
    calendar = calendar or WorkingDayCalendar()
    for index in range(first_index, first_index + size.parks):
        rng = random.Random(f"{seed}/{index}/target")
        target = (size.long_park_events if index == first_index else
                  rng.randint(size.events_per_park // 2, size.events_per_park * 3 // 2))
        yield from park_story(index, seed, calendar, target, key_prefix, code_prefix)


def long_park_code(size: Size | str, seed: int = 1, code_prefix: str = "B",
                   first_index: int = 0) -> str:
    """The code of the size's long park (the first one generated)."""
    first = next(generate(size, seed, code_prefix=code_prefix, first_index=first_index))
    return str(first["park_code"])


def split(line: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
    """An import line as `Ledger.execute`'s arguments: (command, payload, actor)."""
    payload = dict(line)
    return payload.pop("command"), payload, payload.pop("actor")
