"""Every visible label of the UI exists in Chinese and English, and the form turns posted fields
into the command's payload the schema expects."""

from __future__ import annotations

import re
from pathlib import Path

from werkzeug.datastructures import MultiDict

from ledger.commands import COMMANDS, ROLES, load_command
from ledger.domain import rules
from web.views import i18n
from web.views.form_fields import all_names, flatten_errors, form_fields, owner, payload

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "web" / "templates"
SOURCES = [ROOT / "ledger" / "domain" / "park.py", ROOT / "ledger" / "domain" / "rules.py",
           ROOT / "ledger" / "projections" / "facts.py"]


def test_every_label_has_chinese_and_english_text():
    for table in i18n.TABLES.values():
        for key, (chinese, english) in table.items():
            assert chinese.strip() and english.strip(), key
            assert re.search(r"[\u4e00-\u9fff]", chinese), f"{key}: no Chinese in {chinese!r}"


def test_every_ui_key_a_template_uses_is_defined():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"_\('([a-z_]+\.[a-z_]+)'", template.read_text("utf-8")))

    assert used, "the templates use no labels?"
    assert sorted(used - set(i18n.UI)) == []


def test_every_domain_term_has_a_label():
    fields = set()
    for spec in COMMANDS.values():
        for item in form_fields(spec.name):
            fields |= all_names([item])
    codes = {c for spec in COMMANDS.values() for item in form_fields(spec.name)
             for c in item.choices if item.name != "prefecture"}
    source = "\n".join(path.read_text("utf-8") for path in SOURCES)
    flagged = re.findall(r'(?:Flag|short|_duty)\(\s*"([a-z_]+|Art\. [0-9()]+)",\s*"([^"]+)"',
                         source)
    articles = {a for a, r in flagged if a.startswith("Art.")} | {
        r for a, r in flagged if r.startswith("Art.")}
    rule_names = {r for a, r in flagged if a.startswith("Art.")} | {
        a for a, r in flagged if not a.startswith("Art.")}

    assert sorted(fields - set(i18n.FIELDS)) == []
    assert sorted(codes - set(i18n.CODES)) == []
    assert sorted({spec.event for spec in COMMANDS.values()} - set(i18n.EVENTS)) == []
    assert sorted(set(COMMANDS) - set(i18n.COMMANDS)) == []
    assert sorted(set(rules.PREFECTURES) - set(i18n.PREFECTURES)) == []
    assert len(rule_names) > 20 and sorted(rule_names - set(i18n.RULES)) == []
    assert sorted(articles - set(i18n.ARTICLES)) == []
    assert sorted({f"role.{r}" for r in ROLES} - set(i18n.UI)) == []


def test_every_field_of_a_park_state_has_a_label_for_the_replay():
    source = (ROOT / "ledger" / "application.py").read_text("utf-8")
    body = source[source.index("def park_summary"):source.index("def _result")]
    keys = set(re.findall(r'"([a-z_]+)": park\.', body)) | {"subsidy"}

    assert len(keys) > 15
    assert sorted(k for k in keys if f"col.{k}" not in i18n.UI) == []


def test_a_posted_form_becomes_the_payload_the_schema_loads():
    form = MultiDict([
        ("park_code", "YX-2026-01"), ("name", "示例园"), ("prefecture", "530400"),
        ("applicant", "玉溪市人民政府"), ("agencies_count", "30"),
        ("annual_revenue_yuan", "900000000.00"), ("public_services", "social_security"),
        ("public_services", "personnel_talent"), ("sub_parks", "一分园\n\n二分园 \n"),
        ("full_time_staff", "12"), ("specialisation", "none"), ("hardship_area", "true"),
        ("effective_on", "2026-01-05"), ("documents", f"{'ab' * 32}  规划论证报告.pdf\n"),
        ("idempotency_key", "ui-1"), ("expected_version", ""), ("management_body", "")])

    body = payload("file_application", form, MultiDict())
    loaded = load_command("file_application", body)

    assert body["agencies_count"] == 30 and body["hardship_area"] is True
    assert body["sub_parks"] == ["一分园", "二分园"]
    assert body["documents"] == [{"sha256": "ab" * 32, "title": "规划论证报告.pdf"}]
    assert "management_body" not in body and "expected_version" not in body
    assert loaded["public_services"] == ["social_security", "personnel_talent"]


def test_a_value_that_does_not_parse_is_passed_on_for_the_schema_to_name():
    form = MultiDict([("park_code", "KM-2022-01"), ("scores.platform", "ninety"),
                      ("effective_on", "2026-13-01")])

    body = payload("grade_evaluation", form, MultiDict())

    assert body["scores"] == {"platform": "ninety"}
    assert body["effective_on"] == "2026-13-01"


def test_schema_errors_land_on_the_input_they_belong_to():
    items = form_fields("file_application")
    names = all_names(items)

    flat = flatten_errors({"documents": {0: {"sha256": ["bad"]}}, "agencies_count": ["x"]})

    assert flat == {"documents.0.sha256": ["bad"], "agencies_count": ["x"]}
    assert owner("documents.0.sha256", names) == "documents"
    assert owner("scores.platform", all_names(form_fields("grade_evaluation"))) == \
        "scores.platform"
    assert owner("actor.role", names) is None
