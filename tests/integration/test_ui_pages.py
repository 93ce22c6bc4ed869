"""The UI's pages through Flask's test client, on SQLite and PostgreSQL: the role matrix of every
page, logins, CSRF, objector masking in pages and exports, a stale form, safe redirects."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from flask import Flask, template_rendered, url_for
from flask.testing import FlaskClient
from marshmallow.fields import Nested

from config import Config
from ledger.accounts import DEMO_ACCOUNTS
from ledger.application import Ledger
from ledger.commands import COMMANDS
from ledger.demo import demo_commands
from ledger.importer import import_commands
from ledger.projections import findings, subsidies
from ledger.projections.runner import today
from tests.builders import CLERK, FINANCE, event_count, filing
from tests.e2e.browser import demo_accounts
from web import create_app
from web.views import finance as finance_views
from web.views import findings as findings_views
from web.views import parks as parks_views
from web.views.common import park_href

PASSWORDS = {role: (name, password) for name, role, password in DEMO_ACCOUNTS}
READ_PAGES = ["/dashboard", "/parks", "/parks?has_open=yes&grade=unqualified",
              "/parks/KM-2022-01", "/parks/DL-2022-01?effective_on=2022-06-15",
              "/parks/DL-2022-01?known_at=2026-11-20T10:00:00", "/parks/KM-2022-01/replay",
              "/parks/KM-2022-01/replay?order=effective&step=9", "/parks/PE-2022-01/print",
              "/audit", "/audit?event_type=ObjectionRaised&text=示例", "/finance",
              "/finance/export.csv", "/finance/export.json",
              "/findings", "/findings?state=closed", "/findings/export.csv",
              "/findings/export.json", "/integrity",
              "/integrity/docs/check_ledger.py"]
# page -> the roles that may open it (every other role: 403)
WRITE_PAGES = {"/forms": {"clerk", "finance"},
               "/forms/file_application": {"clerk"},
               "/forms/approve_park?park=KM-2022-01": {"clerk"},
               "/forms/disburse_subsidy?park=KM-2022-01": {"finance"},
               "/forms/correct_entry": {"clerk", "finance"},
               "/accounts": {"admin"}}
ROLES = ("clerk", "finance", "auditor", "reviewer", "admin")


@pytest.fixture
def app(config: Config, ledger: Ledger) -> Flask:
    assert import_commands(ledger, demo_commands()).refused == []
    app = create_app(config, ledger=ledger)
    demo_accounts(app.extensions["accounts"])
    return app


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    name, password = PASSWORDS[role]
    response = client.post("/login", data={"name": name, "password": password,
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def test_every_page_answers_every_role_as_the_role_matrix_says(app):
    for role in ROLES:
        client = log_in(app, role)

        reads = {path: client.get(path).status_code for path in READ_PAGES}
        writes = {path: client.get(path).status_code for path in WRITE_PAGES}

        assert reads == dict.fromkeys(READ_PAGES, 200), role
        assert writes == {path: 200 if role in roles else 403
                          for path, roles in WRITE_PAGES.items()}, role


def test_a_stranger_is_sent_to_the_login_page_from_every_page(app):
    client = app.test_client()

    answers = [client.get(path) for path in READ_PAGES + list(WRITE_PAGES)]

    assert {a.status_code for a in answers} == {302}
    assert all("/login?next=" in a.headers["Location"] for a in answers)


def test_a_post_without_the_csrf_token_is_refused_and_records_nothing(app, ledger):
    client = log_in(app, "finance")
    before = event_count(ledger)

    response = client.post("/forms/disburse_subsidy", data={
        "park_code": "KM-2022-01", "amount_yuan": "2000000.00", "voucher_no": "X-1",
        "effective_on": "2026-11-01", "override_reason": "csrf test"})

    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert event_count(ledger) == before


def test_a_wrong_password_is_refused_with_401_and_no_session(app):
    client = app.test_client()

    response = client.post("/login", data={"name": "demo.clerk", "password": "nope-nope",
                                           "csrf_token": csrf_token(client, "/login")})

    assert response.status_code == 401
    assert client.get("/dashboard").status_code == 302


def test_objector_identities_are_masked_in_pages_and_exports_except_for_the_reviewer(app):
    for role in ROLES:
        client = log_in(app, role)

        park = client.get("/parks/DL-2022-01").get_data(as_text=True)
        park += client.get("/parks/DL-2022-01?known_at=2026-11-20T10:00:00").get_data(
            as_text=True)
        replay = client.get("/parks/DL-2022-01/replay?step=8").get_data(as_text=True)
        exported = json.loads(client.get(
            "/api/v1/audit-log/export?format=json&event_type=ObjectionRaised").get_data(
            as_text=True))
        text = client.get("/api/v1/audit-log/export?format=csv&event_type=ObjectionRaised"
                          ).get_data(as_text=True)

        names = {e["fields"]["objector"]["name"] for e in exported}
        if role == "reviewer":
            assert "钱示例" in park and "钱示例" in replay and "钱示例" in text
            assert "***" not in names
        else:
            assert "钱示例" not in park + replay + text, role
            assert names == {"***"}


def test_the_as_known_at_view_pages_through_the_timeline_in_chinese_and_english(
        app, ledger, monkeypatch):
    monkeypatch.setattr(parks_views, "EVENTS_PAGE", 4)
    client = log_in(app, "auditor")
    total = ledger.park("KM-2022-01")["version"]
    url = "/parks/KM-2022-01?known_at=2026-11-20T10:00:00"

    pages, labels = [], []
    while url:
        text = client.get(url).get_data(as_text=True)
        pages.append([int(v) for v in re.findall(r'<tr id="v(\d+)"', text)])
        labels.append(_pager(text))
        url = labels[-1].get("events-next")
    client.get("/parks/KM-2022-01?lang=en")
    english = client.get("/parks/KM-2022-01?known_at=2026-11-20T10:00:00&after=4"
                         ).get_data(as_text=True)

    assert total > 8 and [v for p in pages for v in p] == list(range(1, total + 1))
    assert {len(p) for p in pages[:-1]} == {4}
    assert labels[0]["events-count"] == f"第 1–4 条，共 {total} 条"
    assert "events-first" not in labels[0] and "events-previous" not in labels[0]
    assert labels[1]["events-count"] == f"第 5–8 条，共 {total} 条"
    assert labels[1]["events-previous"].startswith(
        "/parks/KM-2022-01?known_at=2026-11-20T10:00:00#")  # back to the first page
    assert labels[2]["events-previous"].startswith(
        "/parks/KM-2022-01?known_at=2026-11-20T10:00:00&after=4#")
    assert "events-next" not in labels[-1]
    english_labels = _pager(english, text=True)
    assert english_labels["events-count"] == f"5–8 of {total}"
    assert english_labels["events-first"] == "« First page"
    assert english_labels["events-previous"] == "‹ Previous page"
    assert english_labels["events-next"] == "Next page →"


def _pager(page: str, text: bool = False) -> dict[str, str]:
    """The event list's count line and paging links: data-test -> href (or its text)."""
    count = re.search(r'data-test="events-count">([^<]*)<', page)
    found = {"events-count": html.unescape(count.group(1))} if count else {}
    for href, name, label in re.findall(
            r'<a href="([^"]*)" data-test="(events-(?:first|previous|next))">([^<]*)<', page):
        found[name] = html.unescape(label if text else href)
    return found


def _numbered_pages(client: FlaskClient, url: str, row: str) -> tuple[list[list[str]], str]:
    """Every page of a numbered list, by following its pager from `url`: the rows of each
    (by the `row` pattern's group) and the first page's text."""
    first = text = client.get(url).get_data(as_text=True)
    pages = []
    while True:
        pages.append(re.findall(row, text))
        current = int(re.search(r'data-test="page-current">(\d+)<', text).group(1))
        following = re.search(rf'<a href="([^"]*)" data-test="page-{current + 1}">', text)
        if following is None:
            return pages, first
        text = client.get(html.unescape(following.group(1))).get_data(as_text=True)


def test_findings_are_shown_a_page_at_a_time_with_their_filters_kept(app, ledger,
                                                                       monkeypatch):
    monkeypatch.setattr(findings_views, "PAGE", 3)
    client = log_in(app, "auditor")
    every = [f["finding_id"] for f in findings.findings(ledger, state="open")]

    pages, first = _numbered_pages(client, "/findings?state=open",
                                   r'<tr data-finding="([^"]+)"')

    assert len(every) > 6 and [f for p in pages for f in p] == every
    assert {len(p) for p in pages[:-1]} == {3}
    assert f"共 {len(every)} 条" in first and 'href="/findings?page=2&amp;state=open"' in first


def test_a_long_list_links_its_first_and_last_pages_and_two_either_side(app, ledger,
                                                                        monkeypatch):
    monkeypatch.setattr(findings_views, "PAGE", 1)
    client = log_in(app, "auditor")
    last = len(findings.findings(ledger))

    text = client.get("/findings?page=5").get_data(as_text=True)
    pager = re.search(r'<nav class="pager" data-test="pager">(.*?)</nav>', text, re.S).group(1)
    shown = re.findall(r'data-test="page-(\d+|current)">', pager)

    assert last > 10
    assert shown == ["1", "3", "4", "current", "6", "7", str(last)]
    assert pager.count("…") == 2


def test_the_finance_ledger_shows_every_total_and_its_parks_a_page_at_a_time(app, ledger,
                                                                           monkeypatch):
    monkeypatch.setattr(finance_views, "PAGE", 2)
    client = log_in(app, "finance")
    report = subsidies.ledger_report(ledger)

    pages, first = _numbered_pages(client, "/finance?as_of=" + report["as_of"],
                                   r'<tr><td><a href="/parks/([^"]+)">[^<]*</a></td><td>')
    province = re.search(r'data-test="province-disbursed">([^<]*)<', first).group(1)

    assert len(report["parks"]) > 4
    assert [c for p in pages for c in p] == [p["park_code"] for p in report["parks"]]
    assert {len(p) for p in pages[:-1]} == {2}
    assert province.replace(",", "") == report["province"]["disbursed"]


def test_audit_export_links_hold_exactly_the_filtered_entries(app, ledger):
    client = log_in(app, "auditor")
    query = ("park_code=HH-2023-01&effective_from=2023-05-01&effective_to=2023-12-31"
             "&recorded_from=2026-01-01T00:00")

    page = client.get(f"/audit?{query}&per_page=25").get_data(as_text=True)
    links = {kind: html.unescape(href) for href, kind in
             re.findall(r'href="([^"]+)" data-test="export-(csv|json)"', page)}
    rows = list(csv.DictReader(io.StringIO(client.get(links["csv"]).get_data(as_text=True))))
    entries = json.loads(client.get(links["json"]).get_data(as_text=True))

    assert links["csv"].startswith("/api/v1/audit-log/export?")
    assert "recorded_from=2026-01-01T00:00:00%2B08:00" in links["csv"]  # its zone added
    assert len(rows) == len(entries) > 0
    assert all("2023-05-01" <= r["effective_on"] <= "2023-12-31" for r in rows)
    assert {r["park_code"] for r in rows} == {"HH-2023-01"}
    assert f"共 {len(rows)} 条" in page
    assert [int(r["position"]) for r in rows] == [e["position"] for e in entries]


def test_a_form_sent_after_another_clerk_recorded_is_refused_as_stale(app, ledger):
    client = log_in(app, "clerk")
    page = client.get("/forms/add_sub_park?park=KM-2022-01").get_data(as_text=True)
    seen = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    ledger.add_sub_park({"user": "other.clerk", "role": "clerk", "organisation": "X"},
                        park_code="KM-2022-01", effective_on="2026-11-01",
                        name="示例昆明三分园", request_letter_no="昆政函〔2026〕示例3号")
    before = event_count(ledger)

    response = client.post("/forms/add_sub_park", data={
        "csrf_token": csrf_token(client, "/forms"), "park_code": "KM-2022-01",
        "name": "示例昆明四分园", "request_letter_no": "昆政函〔2026〕示例4号",
        "effective_on": "2026-11-01", "expected_version": seen,
        "idempotency_key": "ui-stale-test"})

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "其他人已更新此园区" in body
    assert f'name="expected_version" value="{int(seen) + 1}"' in body
    assert event_count(ledger) == before


def test_the_same_form_sent_twice_records_once(app, ledger):
    client = log_in(app, "clerk")
    form: dict[str, Any] = {
        "csrf_token": csrf_token(client, "/forms"), "park_code": "KM-2022-01",
        "name": "示例昆明三分园", "request_letter_no": "昆政函〔2026〕示例3号",
        "effective_on": "2026-11-01", "idempotency_key": "ui-twice"}

    first = client.post("/forms/add_sub_park", data=form)
    count = event_count(ledger)
    second = client.post("/forms/add_sub_park", data=form, follow_redirects=True)

    assert first.status_code == second.history[0].status_code == 302
    assert event_count(ledger) == count
    assert "未重复记录" in second.get_data(as_text=True)


def test_login_and_language_switch_never_redirect_to_another_site(app):
    client = app.test_client()
    name, password = PASSWORDS["auditor"]

    switched = client.get("/lang/en?next=//evil.example/x")
    logged_in = client.post("/login?next=https://evil.example/", data={
        "name": name, "password": password, "csrf_token": csrf_token(client, "/login")})

    assert switched.headers["Location"] == "/dashboard"
    assert logged_in.headers["Location"] == "/dashboard"


def test_pages_keep_the_strict_content_security_policy(app):
    client = log_in(app, "auditor")

    response = client.get("/parks/KM-2022-01")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in response.get_data(as_text=True)
    assert ' style="' not in response.get_data(as_text=True)


def test_admin_adds_an_account_that_logs_in_and_disables_it(app):
    admin = log_in(app, "admin")
    token = csrf_token(admin, "/accounts")

    added = admin.post("/accounts", data={"csrf_token": token, "name": "li.clerk",
                                          "role": "clerk", "password": "a-long-password"})
    newcomer = app.test_client()
    first = newcomer.post("/login", data={"name": "li.clerk", "password": "a-long-password",
                                          "csrf_token": csrf_token(newcomer, "/login")})
    disabled = admin.post("/accounts/li.clerk/disable", data={"csrf_token": token})
    after = newcomer.get("/dashboard")

    assert added.status_code == 302 and first.status_code == 302
    assert disabled.status_code == 302
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    assert app.extensions["accounts"].get("li.clerk").disabled


def test_a_short_password_is_refused_with_the_accounts_message(app):
    admin = log_in(app, "admin")

    response = admin.post("/accounts", data={"csrf_token": csrf_token(admin, "/accounts"),
                                             "name": "li.clerk", "role": "clerk",
                                             "password": "short"})

    assert response.status_code == 422
    assert "at least 8 characters" in response.get_data(as_text=True)


def test_an_unknown_park_is_a_page_saying_so_not_a_json_error(app):
    client = log_in(app, "auditor")

    pages = [client.get(path) for path in ("/parks/XX-0000-00", "/parks/XX-0000-00/replay",
                                           "/parks/XX-0000-00/print")]

    assert [p.status_code for p in pages] == [404, 404, 404]
    assert all(p.mimetype == "text/html" for p in pages)


def test_every_command_has_a_form_with_every_field_of_its_schema(app):
    clients = {role: log_in(app, role) for role in ("clerk", "finance")}

    for name, spec in COMMANDS.items():
        roles = [r for r in spec.roles if r in clients]
        if not roles:
            continue  # close_finding: auditors close findings on the findings page
        page = clients[roles[0]].get(f"/forms/{name}?park=KM-2022-01").get_data(as_text=True)
        inputs = set(re.findall(r'name="([a-z_.]+)"', page))
        expected = {f"{field}.{inner}" if isinstance(schema_field, Nested) else field
                    for field, schema_field in spec.schema.fields.items()
                    for inner in (schema_field.schema.fields if isinstance(schema_field, Nested)
                                  else [None])} - {"override_reason"}

        assert expected <= inputs, (name, expected - inputs)


def test_dashboard_figures_follow_a_new_event_and_the_turn_of_the_day(app, ledger, clock):
    """The dashboard reuses its figures while nothing moved: a new event, or a new day, must
    show at once."""
    client = log_in(app, "auditor")

    def tile(pattern: str) -> int:
        found = re.search(pattern + r'><span class="tile-n"[^>]*>(\d+)<',
                          client.get("/dashboard").get_data(as_text=True))
        assert found, pattern
        return int(found.group(1))

    def events() -> int:
        return tile('href="/audit"')

    def open_findings() -> int:
        return tile('href="/findings\\?state=open"')

    before, open_before = events(), open_findings()
    assert events() == before  # the reused figures
    ledger.file_application(CLERK, **filing("ZZ-2026-01"))
    assert events() == before + 1
    clock.advance(days=400)  # past 31 March 2027: self-evaluations for 2026 are now missing
    assert open_findings() > open_before


def test_findings_and_finance_pages_follow_a_new_event_and_the_turn_of_the_day(app, ledger,
                                                                              clock):
    """Both pages keep what they read while nothing moved: a new event, or a new day, must
    show at once."""
    auditor, finance = log_in(app, "auditor"), log_in(app, "finance")

    def count(client: FlaskClient, path: str, test: str) -> int:
        found = re.search(rf'data-test="{test}">共 (\d+) 条<',
                          client.get(path).get_data(as_text=True))
        assert found, (path, test)
        return int(found.group(1))

    def findings_shown() -> int:
        return count(auditor, "/findings", "findings-count")

    def finance_parks() -> int:
        return count(finance, "/finance", "finance-parks-count")

    findings_before, parks_before = findings_shown(), finance_parks()
    assert (findings_shown(), finance_parks()) == (findings_before, parks_before)  # kept
    ledger.file_application(CLERK, **filing("ZZ-2026-01"))
    assert finance_parks() == parks_before + 1
    ledger.disburse_subsidy(FINANCE, park_code="ZZ-2026-01", effective_on="2026-11-20",
                            amount_yuan="2000000.00", voucher_no="财-ZZ",
                            override_reason="预算提前下达")  # Art. 9: before approval
    after_filing = findings_shown()
    clock.advance(days=400)  # past 31 March 2027: self-evaluations for 2026 are now missing

    assert after_filing > findings_before
    assert findings_shown() > after_filing


def test_park_links_written_by_hand_are_the_routes_own(app):
    with app.test_request_context("/"):
        for code in ("KM-2022-01", "B23-2022-07508", "示例 1", "a%b"):
            assert park_href(code) == url_for("ui_parks.park", code=code), code


def test_the_clawback_list_is_rendered_once_while_nothing_moves_and_follows_a_refund_at_once(
        app, ledger):
    """The finance page keeps its clawback and overdue lists as rendered HTML, per day, position
    of the subsidy read model and language (web/views/finance.py): a refund received must show
    on the next request (Art. 23: what a revoked park still owes), in each language."""
    rendered: list[str] = []

    def note(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        rendered.append(template.name)

    template_rendered.connect(note, app)
    chinese, english = log_in(app, "finance"), log_in(app, "finance")
    english.get("/finance?lang=en")  # renders the English lists

    def clawback_of_pe(client: FlaskClient) -> str:
        page = client.get("/finance").get_data(as_text=True)
        table = page[page.index('data-test="clawbacks"'):]
        found = re.search(r'<tr[^>]*>\s*<td><a href="/parks/PE-2022-01">.*?</tr>',
                          table[:table.index("</table>")], re.S)
        assert found, "PE-2022-01 (revoked) is not in the clawback list"
        return found.group(0)

    before = clawback_of_pe(chinese)
    rendered.clear()
    again, in_english = clawback_of_pe(chinese), clawback_of_pe(english)
    assert again == before
    assert "应追回补助" in chinese.get("/finance").get_data(as_text=True)
    assert "Clawback list" in english.get("/finance").get_data(as_text=True)
    assert rendered.count("finance.html") == 4
    assert rendered.count("finance_lists.html") == 0  # each language's kept lists

    ledger.receive_refund(FINANCE, park_code="PE-2022-01", effective_on="2026-02-01",
                          amount_yuan="150000.00", voucher_no="财缴-2026-测-002")
    after, after_in_english = clawback_of_pe(chinese), clawback_of_pe(english)

    assert "800,000.00" in before and "950,000.00" not in before
    assert "950,000.00" in after and "1,050,000.00" in after  # refunded, still owed
    assert "950,000.00" in after_in_english and in_english != after_in_english
    assert rendered.count("finance_lists.html") == 2  # once more in each language


def test_kept_audit_rows_show_objectors_to_the_reviewer_alone_whoever_opened_the_page_first(
        config, ledger):
    """Audit-log rows are kept as rendered (web/views/fragments.py), by what each row shows:
    a masked row kept for an auditor must never be served to the reviewer, nor the reviewer's
    to anyone else (DESIGN: objectors' identities for the reviewer only)."""
    assert import_commands(ledger, demo_commands()).refused == []
    path = "/audit?event_type=ObjectionRaised"
    for order in (("auditor", "reviewer", "finance"), ("reviewer", "auditor", "clerk")):
        app = create_app(config, ledger=ledger)  # nothing kept yet
        demo_accounts(app.extensions["accounts"])
        for role in order:
            page = log_in(app, role).get(path).get_data(as_text=True)
            shown = page.count('<small class="muted">ObjectionRaised</small>')

            assert 'data-test="audit-table"' in page and "ObjectionRaised" in page, role
            assert ("钱示例" in page) == (role == "reviewer"), (order, role)
            assert ('data-test="masked"' in page) == (role != "reviewer"), (order, role)
        assert shown >= 1 and len(app.extensions["ui_rows"].cache) == 2 * shown  # as 2 see it


def test_a_kept_findings_page_carries_each_sessions_own_csrf_token_and_its_forms_close(app,
                                                                                      ledger):
    """Findings rows are kept with holes for the close form's CSRF token and way back: each
    session's page must carry its own token (Flask-WTF refuses another session's), a
    clerk's page no form, and a closed finding's row its new state at once."""
    first, second, clerk = log_in(app, "auditor"), log_in(app, "auditor"), log_in(app, "clerk")
    path = "/findings?state=open"

    def forms(client: FlaskClient) -> tuple[str, list[tuple[str, str, str]]]:
        page = client.get(path).get_data(as_text=True)
        assert "hole-" not in page
        logout = re.search(r'name="csrf_token" value="([^"]+)"', page)  # the header's form
        assert logout
        rows = re.findall(r'name="csrf_token" value="([^"]+)">\s*<input type="hidden" '
                          r'name="finding_id" value="([^"]+)">\s*<input type="hidden" '
                          r'name="park_code" value="([^"]+)">', page)
        return logout.group(1), rows

    first_token, first_rows = forms(first)
    second_token, second_rows = forms(second)
    clerk_page = clerk.get(path).get_data(as_text=True)

    assert first_rows and len(first_rows) == len(second_rows)
    assert {token for token, _, _ in first_rows} == {first_token}
    assert {token for token, _, _ in second_rows} == {second_token}
    assert 'class="close-form"' not in clerk_page and "data-finding=" in clerk_page
    assert f'name="back" value="{html.escape(path)}"' in second.get(path).get_data(
        as_text=True)
    token, finding_id, park_code = second_rows[0]
    answer = second.post("/findings/close", data={
        "csrf_token": token, "finding_id": finding_id, "park_code": park_code,
        "reason": "已核实，予以关闭", "back": path})
    assert answer.status_code == 302
    closed = second.get("/findings?state=closed").get_data(as_text=True)
    row = closed[closed.index(f'<tr data-finding="{finding_id}">'):]
    assert "已核实，予以关闭" in row[:row.index("</tr>")]
    assert f'data-finding="{finding_id}"' not in first.get(path).get_data(as_text=True)


def test_a_park_page_is_kept_while_the_park_stands_and_follows_its_own_events_and_the_day(
        app, ledger, clock, monkeypatch):
    """A park's page (as recorded now) is gathered once while the park's row, the day and the
    reader stay the same; another park's event keeps it, the park's own event or a new day
    shows at once; while the read models stand apart nothing is kept, and the state is the
    store's even when the read models are behind (Art. 23: a refund received must show)."""
    gathered: list[str] = []
    rendered: list[str] = []  # the event list's rows, rendered
    gather, render = parks_views._shown, parks_views._timeline

    def counted(code: str, *args: Any) -> dict[str, Any]:
        gathered.append(code)
        return gather(code, *args)

    def counted_rows(code: str, *args: Any) -> dict[str, Any]:
        rendered.append(code)
        return render(code, *args)

    monkeypatch.setattr(parks_views, "_shown", counted)
    monkeypatch.setattr(parks_views, "_timeline", counted_rows)
    finance = log_in(app, "finance")

    def page() -> str:  # the header's CSRF token is signed with the second: left out
        return re.sub(r'name="csrf_token" value="[^"]+"', "", finance.get(
            "/parks/PE-2022-01").get_data(as_text=True))

    first, again = page(), page()
    ledger.file_application(CLERK, **filing("ZZ-2026-02"))  # another park moves
    after_other = page()
    ledger.receive_refund(FINANCE, park_code="PE-2022-01", effective_on="2026-02-01",
                          amount_yuan="150000.00", voucher_no="财缴-2026-测-101")
    after_own = page()
    counts = [len(gathered)]
    clock.advance(days=400)  # a new day: the lifecycle runs to it, refunds fall overdue
    next_year, new_day = page(), today(ledger).isoformat()
    counts.append(len(gathered))

    assert first == again == after_other and counts[0] == 2
    assert "财缴-2026-测-101" not in first and "财缴-2026-测-101" in after_own
    assert counts[1] == 3 and new_day in next_year and new_day not in after_own

    with ledger.projections.deferred():
        ledger.receive_refund(FINANCE, park_code="PE-2022-01", effective_on="2026-02-02",
                              amount_yuan="1.00", voucher_no="财缴-2026-测-102")
        behind = page()
        ledger.projections.catch_up(["park_status"])  # one read model ahead of the others
        half, half_again = page(), page()
        gathered_half = len(gathered)
        ledger.projections.catch_up()
    caught_up = page()

    version = ledger.park("PE-2022-01")["version"]
    assert f"版本 {version}" in behind and "财缴-2026-测-102" not in behind  # store: now
    assert gathered_half == 5 and half == half_again  # behind: kept; half-way: gathered each time
    assert rendered == gathered  # a kept page keeps its rows rendered
    assert "财缴-2026-测-102" in caught_up
    auditor, reviewer = log_in(app, "auditor"), log_in(app, "reviewer")
    for client, sees in ((auditor, False), (reviewer, True), (auditor, False)):
        assert ("钱示例" in client.get("/parks/DL-2022-01").get_data(as_text=True)) == sees
