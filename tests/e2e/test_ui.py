"""The web UI in a real browser (Debian's chromium) against the real server on loopback, on SQLite
and PostgreSQL: logins per role, a park's whole life recorded through the forms, the breach and
override step, the audit log's filters and exports, the as-of picker and the replay."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from ledger.projections import audit_log, findings
from tests.builders import CLERK, event_count, to_publicity
from tests.integration.test_integrity_checker import drop_append_only_triggers, tamper
from web.views import parks as parks_views

ROLE_BADGES = {"demo.clerk": "经办人", "demo.finance": "财政", "demo.auditor": "审计",
               "demo.reviewer": "纪检监察", "demo.admin": "管理员"}
WRITERS = {"demo.clerk", "demo.finance"}
SHA = "ab" * 32


def record(page: Any, site: Any, command: str, park: str | None, fields: dict[str, Any]
           ) -> None:
    """Open a command's form, fill it in and submit; the page ends on the park, recorded."""
    page.goto(site.url(f"/forms/{command}" + (f"?park={park}" if park else "")))
    fill(page, fields)
    page.click("[data-test=submit]")
    page.wait_for_url("**/parks/**")
    assert "已记录" in page.locator(".flash-success").inner_text()


def fill(page: Any, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        target = page.locator(f"[name='{name}']")
        if isinstance(value, list):
            for item in value:
                page.check(f"[name='{name}'][value='{item}']")
        elif isinstance(value, bool):
            page.check(f"[name='{name}']") if value else page.uncheck(f"[name='{name}']")
        elif target.first.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)


def test_each_role_logs_in_with_its_badge_and_sees_only_what_its_role_allows(demo_site,
                                                                             as_user):
    for name, badge in ROLE_BADGES.items():
        page = as_user(name)

        shown_badge = page.locator("[data-test=role-badge]").inner_text()
        record_link = page.locator("nav.main-nav >> text=录入").count()
        form_status = page.goto(demo_site.url("/forms/approve_park")).status
        page.goto(demo_site.url("/findings?state=open"))
        close_forms = page.locator("form.close-form").count()
        page.goto(demo_site.url("/parks/DL-2022-01"))
        objector_visible = "钱示例" in page.content()

        assert badge in shown_badge
        assert record_link == (1 if name in WRITERS else 0)
        assert form_status == (200 if name == "demo.clerk" else 403)
        assert (close_forms > 0) == (name == "demo.auditor")
        assert objector_visible == (name == "demo.reviewer")
        if name != "demo.reviewer":
            assert page.locator("[data-test=masked]").count() == 1


def test_a_page_needs_a_login_and_a_wrong_password_is_refused(demo_site, browser):
    context = browser.new_context()
    page = context.new_page()

    page.goto(demo_site.url("/parks/KM-2022-01"))
    on_login = "/login" in page.url
    page.fill("input[name=name]", "demo.auditor")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")

    assert on_login
    assert page.locator("[data-test=login-error]").is_visible()
    context.close()


def test_clerk_and_finance_record_a_park_whole_life_through_the_forms(site, as_user):
    clerk, finance = as_user("demo.clerk"), as_user("demo.finance")
    code = "YX-2026-01"

    record(clerk, site, "file_application", None, {
        "park_code": code, "name": "示例玉溪人力资源服务产业园", "prefecture": "530400",
        "applicant": "玉溪市人民政府（示例）", "agencies_count": "30",
        "annual_revenue_yuan": "900000000.00",
        "public_services": ["employment_entrepreneurship", "vocational_training",
                            "social_security", "personnel_talent"],
        "sub_parks": "玉溪一分园", "management_body": "园区管委会（示例）",
        "full_time_staff": "12", "supporting_services": ["meeting", "training", "legal"],
        "support_policies": ["fiscal_tax", "rent_subsidy"], "effective_on": "2026-01-05",
        "documents": f"{SHA}  规划论证报告.pdf"})
    record(clerk, site, "open_evaluation", code, {"panel": "张示例\n李示例",
                                                  "effective_on": "2026-01-10"})
    record(clerk, site, "record_expert_opinion", code, {
        "expert": "张示例", "organisation": "云南大学（示例）", "scores.scale": "85",
        "scores.operations": "80", "scores.infrastructure": "82", "scores.features": "78",
        "scores.public_services": "90", "scores.benefits": "84",
        "recommendation": "recommend", "effective_on": "2026-01-20"})
    record(clerk, site, "conclude_evaluation", code, {"outcome": "recommended",
                                                      "effective_on": "2026-02-01"})
    record(clerk, site, "start_publicity", code, {
        "starts_on": "2026-03-02", "ends_on": "2026-03-06", "channel": "省人社厅网站",
        "effective_on": "2026-03-02"})
    record(clerk, site, "close_publicity", code, {"effective_on": "2026-03-06"})
    record(clerk, site, "approve_park", code, {"approval_no": "云人社函〔2026〕示例1号",
                                               "effective_on": "2026-03-10"})
    record(clerk, site, "award_plaque", code, {"plaque_no": "YN-HRP-示例-9",
                                               "effective_on": "2026-03-12"})
    record(finance, site, "disburse_subsidy", code, {"voucher_no": "财拨-2026-示例-1",
                                                     "effective_on": "2026-04-01"})
    record(clerk, site, "order_rectification", code, {
        "notice_no": "云人社〔2026〕示例5号", "grounds": "运营不善（示例）",
        "deadline": "2026-06-30", "effective_on": "2026-05-06"})
    record(clerk, site, "revoke_plaque", code, {"decision_no": "云人社〔2026〕示例9号",
                                                "grounds": ["poor_operation"],
                                                "effective_on": "2026-07-15"})
    record(finance, site, "demand_refund", code, {
        "amount_yuan": "2000000.00", "deadline": "2026-09-30",
        "notice_no": "云财追〔2026〕示例1号", "effective_on": "2026-07-20"})
    record(finance, site, "receive_refund", code, {"amount_yuan": "500000.00",
                                                   "voucher_no": "财缴-2026-示例-1",
                                                   "effective_on": "2026-08-10"})

    page = clerk
    page.goto(site.url(f"/parks/{code}"))
    assert "已撤牌" in page.locator("[data-test=state-status]").inner_text()
    assert page.locator("[data-test=events] tbody tr").count() == 13
    assert page.locator("[data-test=lifecycle] circle").count() == 13
    assert page.locator("[data-test=balance-chart]").is_visible()
    assert "1,500,000.00" in page.locator("[data-test=park-balances]").inner_text()
    assert "规划论证报告.pdf" in page.locator("#v1").inner_text()
    state = site.ledger.park(code)
    assert state["status"] == "revoked" and state["version"] == 13
    assert site.ledger.timeline(code)[8]["actor"]["user"] == "demo.finance"


def test_breach_is_refused_until_an_override_reason_is_given_then_recorded_and_flagged(
        demo_site, as_user):
    """Art. 9: the opening subsidy is paid once; a second payment needs a stated reason."""
    page = as_user("demo.finance")
    before = event_count(demo_site.ledger)

    page.goto(demo_site.url("/forms/disburse_subsidy?park=KM-2022-01"))
    fill(page, {"voucher_no": "财拨-2026-示例-099", "effective_on": "2026-11-02"})
    page.click("[data-test=submit]")
    step_shown = page.locator("[data-test=override-step]").inner_text()
    page.click("[data-test=override-submit]")
    missing_reason = page.locator("[data-error-for=override_reason]").inner_text()
    refused_count = event_count(demo_site.ledger)
    page.fill("[data-test=override-reason]", "省政府专题会议决定追加拨付（示例）")
    page.click("[data-test=override-submit]")
    page.wait_for_url("**/parks/KM-2022-01**")

    assert "第九条" in step_shown and "重复拨付补助" in step_shown
    assert "必须填写越规理由" in missing_reason
    assert refused_count == before
    recorded = demo_site.ledger.timeline("KM-2022-01")[-1]
    assert recorded["event_type"] == "SubsidyDisbursed"
    assert recorded["override_reason"] == "省政府专题会议决定追加拨付（示例）"
    assert recorded["flags"][0]["rule"] == "subsidy_repeated"
    assert page.locator(f"#v{recorded['version']}.flagged").count() == 1
    open_ids = {f["finding_id"] for f in findings.findings(demo_site.ledger, state="open")}
    assert f"KM-2022-01/v{recorded['version']}/subsidy_repeated" in open_ids


def test_invalid_input_shows_the_api_message_next_to_its_field_and_records_nothing(
        demo_site, as_user):
    page = as_user("demo.clerk", lang="en")
    before = event_count(demo_site.ledger)

    page.goto(demo_site.url("/forms/grade_evaluation?park=KM-2022-01"))
    fill(page, {"cycle": "2025", "grade": "excellent", "scores.platform": "ninety",
                "scores.policy": "90", "scores.operations": "90", "scores.service": "90",
                "scores.benefits": "90", "effective_on": "2026-11-01"})
    page.click("[data-test=submit]")

    assert page.locator("[data-test=form-error]").is_visible()
    assert "Not a valid integer." in page.locator(
        "[data-error-for='scores.platform']").inner_text()
    assert "must be two years" in page.locator("[data-error-for=cycle]").inner_text()
    assert page.locator("[name=cycle]").input_value() == "2025"  # what was typed is kept
    assert event_count(demo_site.ledger) == before


def test_audit_log_filters_and_exports_exactly_what_is_filtered(demo_site, as_user):
    page = as_user("demo.auditor")
    page.goto(demo_site.url("/audit"))
    page.fill("[name=park_code]", "PE-2022-01")
    page.locator("[data-test=event-types] summary").click()
    for kind in ("SubsidyDisbursed", "RefundDemanded", "RefundReceived"):
        page.check(f"[name=event_type][value={kind}]")
    page.click("[data-test=audit-filter]")

    shown = page.locator("[data-test=audit-table] tbody tr").count()
    with page.expect_download() as csv_download:
        page.click("[data-test=export-csv]")
    with page.expect_download() as json_download:
        page.click("[data-test=export-json]")
    rows = list(csv.DictReader(io.StringIO(
        Path(csv_download.value.path()).read_text(encoding="utf-8-sig"))))
    exported = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))

    expected = audit_log.entries(demo_site.ledger, audit_log.AuditFilter(
        park_code="PE-2022-01",
        event_types=("SubsidyDisbursed", "RefundDemanded", "RefundReceived")))
    assert shown == len(expected) == 3
    assert "共 3 条" in page.locator("[data-test=audit-count]").inner_text()
    assert [int(r["position"]) for r in rows] == [e["position"] for e in expected]
    assert [e["hash"] for e in exported] == [e["hash"] for e in expected]
    assert {r["event_type"] for r in rows} == {"SubsidyDisbursed", "RefundDemanded",
                                               "RefundReceived"}


def test_audit_log_pages_through_a_long_log(demo_site, as_user):
    page = as_user("demo.auditor")

    page.goto(demo_site.url("/audit?per_page=25&order=oldest"))
    first_page = page.locator("[data-test=audit-table] tbody tr td:first-child").all_inner_texts()
    page.click("[data-test=audit-next]")
    second_page = page.locator("[data-test=audit-table] tbody tr td:first-child").all_inner_texts()

    positions = [int(p) for p in first_page + second_page]
    assert len(first_page) == len(second_page) == 25
    assert positions == sorted(positions) and len(set(positions)) == 50
    assert "第 26–50 条，共 91 条" in page.locator("[data-test=audit-count]").inner_text()


def test_as_of_picker_shows_the_park_as_known_then_and_as_in_force_on_a_day(site, as_user):
    to_publicity(site.ledger, "KM-2026-01")  # recorded at 10:00 Beijing time
    site.clock.advance(hours=2)
    site.ledger.close_publicity(CLERK, park_code="KM-2026-01", effective_on="2026-03-06")
    site.ledger.approve_park(CLERK, park_code="KM-2026-01", effective_on="2026-03-10",
                             approval_no="云人社函〔2026〕1号")
    page = as_user("demo.reviewer")

    page.goto(site.url("/parks/KM-2026-01"))
    now_status = page.locator("[data-test=state-status]").inner_text()
    page.fill("[data-test=known-at]", "2026-11-20T11:00:00")
    page.click("[data-test=show-known]")
    known_banner = page.locator("[data-test=as-of-banner]").inner_text()
    known_status = page.locator("[data-test=state-status]").inner_text()
    page.fill("[data-test=effective-on]", "2026-02-15")
    page.click("[data-test=show-effective]")
    effective_status = page.locator("[data-test=state-status]").inner_text()
    effective_rows = page.locator("[data-test=events] tbody tr").count()

    assert "已认定" in now_status
    assert "版本 5" in known_banner and "公示中" in known_status
    assert "已评估" in effective_status and effective_rows == 4


def test_as_known_at_view_pages_back_and_forth_through_the_timeline_known_then(
        site, as_user, monkeypatch):
    monkeypatch.setattr(parks_views, "EVENTS_PAGE", 2)  # the server runs in this process
    to_publicity(site.ledger, "KM-2026-01")  # versions 1-5, recorded at 10:00 Beijing time
    site.clock.advance(hours=2)
    site.ledger.close_publicity(CLERK, park_code="KM-2026-01", effective_on="2026-03-06")
    page = as_user("demo.auditor", lang="en")

    def shown() -> list[str]:
        return page.locator("[data-test=events] tbody tr td:first-child").all_inner_texts()

    page.goto(site.url("/parks/KM-2026-01"))
    page.fill("[data-test=known-at]", "2026-11-20T11:00:00")
    page.click("[data-test=show-known]")
    pages = [shown()]
    for _ in range(2):
        page.click("[data-test=events-next]")
        pages.append(shown())
    last = (page.locator("[data-test=events-count]").inner_text(),
            page.locator("[data-test=events-next]").count())
    page.click("[data-test=events-previous]")
    back = shown()
    page.click("[data-test=events-first]")
    first = (shown(), page.locator("[data-test=as-of-banner]").inner_text())

    assert pages == [["1", "2"], ["3", "4"], ["5"]]  # version 6 was recorded later
    assert last == ("5–5 of 5", 0)
    assert back == ["3", "4"]
    assert first[0] == ["1", "2"] and "version 5" in first[1]


def test_replay_steps_forward_and_back_showing_state_and_what_changed(site, as_user):
    to_publicity(site.ledger, "KM-2026-01")
    page = as_user("demo.reviewer", lang="en")

    page.goto(site.url("/parks/KM-2026-01"))
    page.click("[data-test=replay-link]")
    first = page.locator("[data-test=replay-position]").inner_text()
    for _ in range(4):
        page.click("[data-test=replay-next]")
    fifth = page.locator("[data-test=replay-status]").inner_text()
    changes = page.locator("[data-test=replay-changes]").inner_text()
    page.keyboard.press("ArrowLeft")
    page.wait_for_url("**step=4**")
    fourth = page.locator("[data-test=replay-status]").inner_text()

    assert first == "Step 1 of 5"
    assert "in publicity" in fifth
    assert "status" in changes and "evaluated" in changes and "in publicity" in changes
    assert "evaluated" in fourth
    assert page.locator("[data-test=replay-next]").count() == 1


def test_auditor_closes_a_finding_with_a_reason(demo_site, as_user):
    page = as_user("demo.auditor")
    finding_id = "HH-2023-01/v8/subsidy_not_approved"
    row = f"tr[data-finding='{finding_id}']"

    page.goto(demo_site.url("/findings?state=open"))
    page.locator(f"{row} details.close summary").click()
    page.fill(f"{row} textarea[name=reason]", "已核实：补助经省政府批准提前拨付（示例）")
    page.click(f"{row} button[type=submit]")

    assert "已关闭问题" in page.locator(".flash-success").inner_text()
    closed = {f["finding_id"]: f for f in findings.findings(demo_site.ledger)}[finding_id]
    assert closed["state"] == "closed"
    assert closed["closed_by"]["user"] == "demo.auditor"
    assert page.locator(row).count() == 0  # the open list no longer holds it


def test_integrity_verify_button_reports_the_digest_ok(demo_site, as_user):
    page = as_user("demo.auditor", lang="en")

    page.goto(demo_site.url("/integrity"))
    page.click("[data-test=verify]")

    assert "Verified" in page.locator("[data-test=verify-result]").inner_text()
    assert page.locator("[data-test=digest-events]").inner_text() == "91"


def test_language_switch_turns_every_label_english_and_back(demo_site, as_user):
    page = as_user("demo.auditor")

    page.goto(demo_site.url("/dashboard"))
    chinese = page.locator("h1").inner_text()
    page.click("[data-test=lang-switch]")
    english = page.locator("h1").inner_text()
    page.click("[data-test=lang-switch]")

    assert chinese.startswith("总览") and english.startswith("Dashboard")
    assert page.locator("h1").inner_text().startswith("总览")
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_integrity_verify_button_names_the_first_row_changed_by_hand(demo_site, as_user):
    """A subsidy amount rewritten in the stored row, past the dropped triggers."""
    drop_append_only_triggers(demo_site.ledger)
    tamper(demo_site.ledger, "PE-2022-01", 11, b'"2000000.00"', b'"200.00"')
    page = as_user("demo.auditor")

    page.goto(demo_site.url("/integrity"))
    page.click("[data-test=verify]")

    result = page.locator("[data-test=verify-result]").inner_text()
    assert "核验失败" in result
    assert "PE-2022-01" in result and "hash mismatch" in result


def test_parks_list_filters_by_prefecture_status_grade_open_findings_and_search(demo_site,
                                                                                as_user):
    page = as_user("demo.auditor")

    def codes() -> list[str]:
        return page.locator("[data-test=parks-table] tbody td:first-child").all_inner_texts()

    page.goto(demo_site.url("/parks"))
    everything = codes()
    page.select_option("[name=status]", "approved")
    page.select_option("[name=has_open]", "yes")
    page.click("[data-test=park-filters] button[type=submit]")
    approved_with_findings = codes()
    page.select_option("[name=grade]", "unqualified")
    page.click("[data-test=park-filters] button[type=submit]")
    unqualified = codes()
    page.goto(demo_site.url("/parks"))
    page.select_option("[name=prefecture]", "532900")
    page.click("[data-test=park-filters] button[type=submit]")
    dali = codes()
    page.goto(demo_site.url("/parks"))
    page.fill("[name=q]", "曲靖")
    page.click("[data-test=park-filters] button[type=submit]")
    searched = codes()

    assert len(everything) == 6
    assert approved_with_findings == ["DQ-2023-01", "HH-2023-01"]
    assert unqualified == ["HH-2023-01"]
    assert dali == ["DL-2022-01"]
    assert searched == ["QJ-2024-01"]


def test_print_view_hides_the_page_chrome_and_prints_to_pdf(demo_site, as_user):
    page = as_user("demo.auditor")

    page.goto(demo_site.url("/parks/PE-2022-01"))
    page.click("[data-test=print-link]")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", landscape=True)

    assert not page.locator("header.top").is_visible()
    assert not page.locator("#print-button").is_visible()
    assert page.locator("[data-test=print-events] tbody tr").count() == 18
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2  # a timeline of 18 events
