"""Subsidy ledger, park status and audit log as finance, reviewers and auditors read them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from ledger.domain.errors import ValidationError
from ledger.projections import audit_log, park_status, report, subsidies
from ledger.projections.audit_log import AuditFilter
from tests.builders import CLERK, FINANCE, filing, to_approved, to_publicity, to_revoked


def _clawback(ledger, code="KM-2026-01"):
    to_revoked(ledger, code)
    demand = ledger.demand_refund(FINANCE, park_code=code, effective_on="2026-06-10",
                                  amount_yuan="2000000.00", deadline="2026-09-30",
                                  notice_no="退-1")
    ledger.receive_refund(FINANCE, park_code=code, effective_on="2026-07-01",
                          amount_yuan="800000.00", voucher_no="收-1")
    return demand


def test_art17_clawback_list_shows_revoked_park_owed_since_and_returned(ledger):
    _clawback(ledger)

    report = subsidies.ledger_report(ledger, as_of=date(2026, 10, 1))

    (row,) = report["clawbacks"]
    assert row["revoked_on"] == "2026-06-01"
    assert (row["disbursed"], row["refund_demanded"], row["refunded"]) == (
        "2000000.00", "2000000.00", "800000.00")
    assert (row["owed"], row["outstanding"], row["overdue"]) == (
        "1200000.00", "1200000.00", "1200000.00")


def test_refund_is_not_overdue_before_its_deadline(ledger):
    _clawback(ledger)

    (park,) = subsidies.parks(ledger, as_of=date(2026, 9, 30))

    assert park["outstanding"] == "1200000.00"
    assert park["overdue"] == "0.00"


def test_subsidy_totals_per_prefecture_and_province_add_up(ledger):
    _clawback(ledger, "KM-2026-01")
    to_approved(ledger, "QJ-2026-01")
    ledger.disburse_subsidy(FINANCE, park_code="QJ-2026-01", effective_on="2026-04-02",
                            amount_yuan="2000000.00", voucher_no="财-2")
    ledger.file_application(CLERK, **filing("YX-2026-01", prefecture="530400"))

    report = subsidies.ledger_report(ledger)

    kunming = next(p for p in report["prefectures"] if p["prefecture"] == "530100")
    assert kunming["parks"] == 2 and kunming["disbursed"] == "4000000.00"
    assert report["province"]["parks"] == 3
    assert report["province"]["net_retained"] == "3200000.00"
    assert subsidies.province(ledger) == report["province"]  # as the dashboard reads it
    page = subsidies.ledger_page(ledger, offset=1, limit=1)  # as the finance page reads it
    assert page["parks"] == report["parks"][1:2] and page["parks_total"] == 3
    assert {k: page[k] for k in ("as_of", "prefectures", "province", "clawbacks")} == {
        k: report[k] for k in ("as_of", "prefectures", "province", "clawbacks")}
    assert page["overdue"] == [p for p in report["parks"] if p["overdue"] != "0.00"]
    assert [p["park_code"] for p in report["parks"]] == ["KM-2026-01", "QJ-2026-01",
                                                        "YX-2026-01"]


def test_corrected_amount_changes_the_subsidy_ledger_and_the_original_stays_marked(ledger):
    to_approved(ledger)
    paid = ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                   amount_yuan="200000.00", voucher_no="财-1",
                                   override_reason="录入时金额待核")
    fix = ledger.correct_entry(FINANCE, park_code="KM-2026-01", effective_on="2026-04-02",
                               corrects_version=paid["version"], field="amount_yuan",
                               wrong_value="200000.00", right_value="2000000.00",
                               reason="凭证金额为200万元")

    (park,) = subsidies.parks(ledger)
    (original,) = audit_log.search(ledger, AuditFilter(event_types=("SubsidyDisbursed",)))[
        "entries"]

    assert park["disbursed"] == "2000000.00"
    assert subsidies.entries(ledger, "KM-2026-01")[0]["corrected_by"] == [fix["version"]]
    assert original["fields"]["amount_yuan"] == "200000.00"
    assert original["corrected_by"] == [fix["version"]]


def test_a_page_of_corrections_shows_them_uncorrected_without_looking_them_up(ledger):
    to_approved(ledger)
    paid = ledger.disburse_subsidy(FINANCE, park_code="KM-2026-01", effective_on="2026-04-01",
                                   amount_yuan="2000000.00", voucher_no="财-1")
    fix = ledger.correct_entry(FINANCE, park_code="KM-2026-01", effective_on="2026-04-02",
                               corrects_version=paid["version"], field="voucher_no",
                               wrong_value="财-1", right_value="财-11", reason="凭证号录错")
    statements: list[str] = []

    def seen(conn, cursor, statement, *rest):
        statements.append(statement)

    sa.event.listen(ledger.engine, "before_cursor_execute", seen)
    try:
        (only,) = audit_log.search(ledger, AuditFilter(event_types=("EntryCorrected",)))[
            "entries"]
        looked_up = [s for s in statements if "corrects_version IN" in s]
        both = audit_log.search(ledger, AuditFilter(
            event_types=("EntryCorrected", "SubsidyDisbursed")))["entries"]
    finally:
        sa.event.remove(ledger.engine, "before_cursor_execute", seen)

    # the park refuses to correct a correction, so none can name one: nothing to look up
    assert (only["version"], only["corrected_by"], looked_up) == (fix["version"], [], [])
    assert [(e["version"], e["corrected_by"]) for e in both] == [
        (paid["version"], [fix["version"]]), (fix["version"], [])]


def test_corrected_prefecture_moves_the_park_in_every_read_model(ledger):
    ledger.file_application(CLERK, **filing())

    ledger.correct_entry(CLERK, park_code="KM-2026-01", effective_on="2026-01-06",
                         corrects_version=1, field="prefecture", wrong_value="530100",
                         right_value="530300")

    assert park_status.status(ledger, "KM-2026-01")["prefecture"] == "530300"
    assert subsidies.parks(ledger)[0]["prefecture"] == "530300"
    assert audit_log.search(ledger, AuditFilter(prefecture="530300"))["total"] == 2


def test_park_status_shows_rectification_grade_and_next_due(ledger):
    to_approved(ledger)
    order = ledger.order_rectification(CLERK, park_code="KM-2026-01", effective_on="2026-05-01",
                                       notice_no="整改-1", grounds="服务功能不全",
                                       deadline="2026-12-01")

    status = park_status.status(ledger, "KM-2026-01")

    assert status["status"] == "approved" and status["approved_on"] == "2026-03-10"
    assert status["rectification"]["deadline"] == "2026-12-01"
    assert status["next_due"] == {"kind": "rectification", "due_on": "2026-12-01",
                                  "detail": f"v{order['version']}", "article": "Art. 17",
                                  "overdue": False}
    assert [p["park_code"] for p in park_status.parks(ledger, status="approved")] == [
        "KM-2026-01"]


def _audit_history(ledger, clock):
    to_publicity(ledger, "KM-2026-01")
    clock.now = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    ledger.raise_objection(CLERK, park_code="KM-2026-01", effective_on="2026-03-04",
                           objection_no="异-1", received_on="2026-03-04",
                           objector={"name": "张三", "contact": "13800000000"},
                           grounds="营业收入数据不实")
    ledger.file_application(CLERK, **filing("DL-2026-01", prefecture="532900"))


def test_audit_log_filters_by_park_type_prefecture_actor_dates_and_text(ledger, clock):
    _audit_history(ledger, clock)

    def total(**where):
        return audit_log.search(ledger, AuditFilter(**where))["total"]

    assert total() == 7
    assert total(park_code="KM-2026-01") == 6
    assert total(prefecture="532900") == 1
    assert total(event_types=("ObjectionRaised", "ApplicationFiled")) == 3
    assert total(actor=CLERK["user"]) == 7 and total(actor="nobody") == 0
    assert total(effective_from=date(2026, 2, 1), effective_to=date(2026, 3, 2)) == 2
    assert total(recorded_from=datetime(2026, 11, 21, tzinfo=UTC)) == 2
    assert total(text="营业收入") == 1
    assert total(text="张三") == 0  # the objector is protected, not searchable


def test_audit_log_pages_are_stable_while_new_events_arrive(ledger, clock):
    _audit_history(ledger, clock)
    first = audit_log.search(ledger, limit=4)

    ledger.supplement_materials(CLERK, park_code="DL-2026-01", effective_on="2026-01-06",
                                note="补充材料")
    second = audit_log.search(ledger, limit=4, after=first["next"])

    positions = [e["position"] for e in first["entries"] + second["entries"]]
    assert positions == sorted(set(positions)) and len(positions) == 8
    assert second["next"] is None


def test_audit_log_masks_the_objector_except_for_reviewers(ledger, clock):
    _audit_history(ledger, clock)
    where = AuditFilter(event_types=("ObjectionRaised",))

    masked = audit_log.search(ledger, where)["entries"][0]["fields"]["objector"]
    shown = audit_log.search(ledger, where, reveal_protected=True)["entries"][0]["fields"]

    assert masked == {"name": "***", "contact": "***"}
    assert shown["objector"]["name"] == "张三"


def test_subsidy_report_as_csv_has_park_prefecture_and_province_rows(ledger):
    _clawback(ledger)
    out = io.StringIO()

    count = report.write_report(ledger, "subsidies", "csv", out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == 1
    assert [r["level"] for r in rows] == ["park", "prefecture", "province"]
    assert {r["net_retained"] for r in rows} == {"1200000.00"}


def test_findings_report_as_json_and_csv_name_article_and_what_raised_it(ledger):
    _clawback(ledger)
    as_json, as_csv = io.StringIO(), io.StringIO()

    report.write_report(ledger, "findings", "json", as_json, as_of=date(2026, 10, 1))
    report.write_report(ledger, "findings", "csv", as_csv, as_of=date(2026, 10, 1))

    (finding,) = json.loads(as_json.getvalue())
    (row,) = csv.DictReader(io.StringIO(as_csv.getvalue()))
    assert finding["rule"] == row["rule"] == "refund_overdue"
    assert row["article"] == "Art. 17" and row["raised_by_clock"] == "2026-09-30"


def test_report_refuses_an_unknown_format(ledger):
    with pytest.raises(ValidationError) as error:
        report.write_report(ledger, "findings", "xml", io.StringIO())

    assert error.value.field == "format"


def test_corrected_approval_number_and_date_show_in_park_status(ledger):
    to_approved(ledger)

    for field, wrong, right in (("approval_no", "云人社函〔2026〕1号", "云人社函〔2026〕2号"),
                                ("effective_on", "2026-03-10", "2026-03-11")):
        ledger.correct_entry(CLERK, park_code="KM-2026-01", effective_on="2026-03-12",
                             corrects_version=7, field=field, wrong_value=wrong,
                             right_value=right)

    status = park_status.status(ledger, "KM-2026-01")
    assert (status["approval_no"], status["approved_on"]) == ("云人社函〔2026〕2号", "2026-03-11")


def test_audit_log_report_as_csv_masks_the_objector_and_marks_corrections(ledger, clock):
    _audit_history(ledger, clock)
    ledger.correct_entry(CLERK, park_code="KM-2026-01", effective_on="2026-03-05",
                         corrects_version=6, field="grounds", wrong_value="营业收入数据不实",
                         right_value="营业收入数据有误")
    out = io.StringIO()

    count = report.write_report(ledger, "audit_log", "csv", out,
                                where=AuditFilter(park_code="KM-2026-01"))

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows) == 7
    objection = next(r for r in rows if r["event_type"] == "ObjectionRaised")
    assert "张三" not in out.getvalue() and json.loads(objection["fields"])["objector"]["name"] \
        == "***"
    assert objection["corrected_by"] == "7" and objection["actor_user"] == CLERK["user"]


def test_a_page_of_parks_counts_each_parks_open_findings_as_the_whole_list_does(ledger):
    """Open findings are counted for the page's parks only; the counts must not change."""
    ledger.file_application(CLERK, **filing("KM-2026-01", agencies_count=10))  # Art. 4 shortfall
    to_revoked(ledger, "QJ-2026-01")
    ledger.file_application(CLERK, **filing("YX-2026-01", prefecture="530400"))
    whole = park_status.parks(ledger, as_of=date(2027, 12, 31))  # the clock raises some too
    assert any(p["open_findings"] for p in whole) and any(not p["open_findings"] for p in whole)

    pages = [park_status.parks_page(ledger, as_of=date(2027, 12, 31), offset=i, limit=1)
             for i in range(len(whole) + 1)]

    assert [row for rows, _ in pages for row in rows] == whole
    assert {total for _, total in pages} == {len(whole)}
    assert pages[-1][0] == []


def test_parks_page_text_search_matches_code_name_or_applicant_in_any_case(ledger):
    ledger.file_application(CLERK, **filing("KM-2026-01", name="Kunming HR Park"))
    ledger.file_application(CLERK, **filing("QJ-2026-01", applicant="曲靖人社局"))
    ledger.file_application(CLERK, **filing("YX_2026_01", prefecture="530400"))

    def codes(text: str) -> list[str]:
        return [p["park_code"] for p in park_status.parks_page(ledger, text=text)[0]]

    assert codes("kunming hr") == ["KM-2026-01"]
    assert codes("km-2026") == ["KM-2026-01"]
    assert codes("曲靖") == ["QJ-2026-01"]
    assert codes("_2026_") == ["YX_2026_01"]  # LIKE wildcards are searched for literally
    assert codes("2026%") == []
    assert codes("2026") == ["KM-2026-01", "QJ-2026-01", "YX_2026_01"]


def test_audit_log_totals_add_the_new_rows_to_the_last_count_and_recount_a_log_gone_back(
        ledger):
    """A total is the last count of its filter plus the matching rows since: the rows it
    counted are not read again, and a log whose head went back is counted afresh."""
    ledger.file_application(CLERK, **filing("KM-2026-01"))
    everything = AuditFilter()
    audit_log.search(ledger, everything)
    counts: list[str] = []

    def seen(conn, cursor, statement, *rest):
        if statement.lstrip().startswith("SELECT count(*)"):
            counts.append(statement)

    def fresh() -> int:
        with ledger.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(audit_log.AUDIT_LOG))

    sa.event.listen(ledger.engine, "before_cursor_execute", seen)
    try:
        ledger.supplement_materials(CLERK, park_code="KM-2026-01", effective_on="2026-03-01",
                                    note="补充")
        added = audit_log.search(ledger, everything)["total"]
        (since,) = counts
        with ledger.engine.begin() as conn:  # as a rebuild under way leaves the table
            conn.execute(audit_log.AUDIT_LOG.delete().where(
                audit_log.AUDIT_LOG.c.version == 2))
        gone_back = audit_log.search(ledger, everything)["total"]
    finally:
        sa.event.remove(ledger.engine, "before_cursor_execute", seen)

    assert "position >" in since and added == 2
    assert "position >" not in counts[1] and gone_back == fresh() == 1


def test_audit_log_totals_follow_every_new_event_and_a_moved_park(ledger):
    """Totals are counted once per filter and head of the log: a new matching event, or a
    corrected prefecture moving a park's rows, must show in the next answer."""
    ledger.file_application(CLERK, **filing("KM-2026-01"))
    ledger.file_application(CLERK, **filing("QJ-2026-01", prefecture="530300"))
    kunming = AuditFilter(prefecture="530100")
    before = audit_log.search(ledger, kunming)["total"]
    assert audit_log.search(ledger, kunming)["total"] == before  # asked again: the same

    ledger.supplement_materials(CLERK, park_code="KM-2026-01", effective_on="2026-03-01",
                                note="补充")
    after_new = audit_log.search(ledger, kunming)["total"]
    ledger.correct_entry(CLERK, park_code="QJ-2026-01", effective_on="2026-03-02",
                         corrects_version=1, field="prefecture", wrong_value="530300",
                         right_value="530100", reason="属地填错")

    assert after_new == before + 1
    assert audit_log.search(ledger, kunming)["total"] == after_new + 2  # both QJ rows moved


def test_parks_are_worked_out_again_only_once_they_have_new_events(ledger):
    """Every park's summary (as the dashboard reads them all) is kept by park, version and
    day: after one park's event only that park's row is read again, and the answer is the
    same as one worked out from nothing."""
    ledger.file_application(CLERK, **filing("KM-2026-01"))
    ledger.file_application(CLERK, **filing("QJ-2026-01", prefecture="530300"))
    park_status.parks(ledger)
    rows_read: list[str] = []

    def seen(conn, cursor, statement, parameters, *rest):
        if "rm_park_status.facts" in statement:
            rows_read.append(str(parameters))

    sa.event.listen(ledger.engine, "before_cursor_execute", seen)
    try:
        ledger.supplement_materials(CLERK, park_code="KM-2026-01", effective_on="2026-03-01",
                                    note="补充")
        kept = park_status.parks(ledger)
    finally:
        sa.event.remove(ledger.engine, "before_cursor_execute", seen)
    park_status._SUMMARIES.clear()
    fresh = park_status.parks(ledger)

    assert kept == fresh and [p["version"] for p in kept] == [2, 1]
    assert len(rows_read) == 1 and "KM-2026-01" in rows_read[0]
    assert "QJ-2026-01" not in rows_read[0]


def test_parks_worked_out_in_one_pass_or_by_code_are_the_same(ledger, monkeypatch):
    ledger.file_application(CLERK, **filing("KM-2026-01"))
    ledger.file_application(CLERK, **filing("QJ-2026-01", prefecture="530300"))
    park_status._SUMMARIES.clear()
    by_code = park_status.parks_page(ledger, offset=1, limit=1)
    park_status._SUMMARIES.clear()
    monkeypatch.setattr(park_status, "OPEN_COUNTS_BY_CODE", 0)  # "many" from the first park

    assert park_status.parks_page(ledger, offset=1, limit=1) == by_code
    assert [p["park_code"] for p in park_status.parks(ledger)] == ["KM-2026-01", "QJ-2026-01"]
