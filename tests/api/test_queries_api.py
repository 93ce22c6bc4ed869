"""Queries through the API: parks, time travel, audit log (filters, pages, exports), subsidy
ledger, clawbacks and findings; objectors masked everywhere but for reviewers."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.api.payloads import CODE, body, send, to_approved


def get(client, auth, url, role="auditor", **query):
    response = client.get(url, headers=auth(role), query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.fixture
def objected(client, auth):
    for command in ("file_application", "open_evaluation", "record_expert_opinion",
                    "conclude_evaluation", "start_publicity", "raise_objection"):
        assert send(client, auth("clerk"), command, body(command)).status_code == 201


def test_parks_filter_and_page(client, auth):
    for code, prefecture in (("KM-A", "530100"), ("KM-B", "530100"), ("QJ-A", "530300")):
        send(client, auth("clerk"), "file_application",
             body("file_application", code, prefecture=prefecture))

    kunming = get(client, auth, "/api/v1/parks", prefecture="530100").get_json()
    page = get(client, auth, "/api/v1/parks", limit=1, offset=1).get_json()

    assert [p["park_code"] for p in kunming["parks"]] == ["KM-A", "KM-B"]
    assert kunming["total"] == 2
    assert [p["park_code"] for p in page["parks"]] == ["KM-B"]
    assert page["total"] == 3


def test_unknown_or_mistyped_filter_is_refused(client, auth):
    unknown = client.get("/api/v1/parks?prefectur=530100", headers=auth("auditor"))
    wrong = client.get("/api/v1/parks?limit=lots", headers=auth("auditor"))

    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["code"] == "unknown_field"
    assert unknown.get_json()["error"]["field"] == "prefectur"
    assert wrong.status_code == 422 and wrong.get_json()["error"]["field"] == "limit"


def test_status_of_a_park_from_the_read_model(client, auth):
    to_approved(client, auth)

    status = get(client, auth, f"/api/v1/parks/{CODE}/status").get_json()

    assert status["status"] == "approved"
    assert status["prefecture_name"] == "昆明市"


def test_as_known_at_leaves_out_what_was_recorded_later(client, auth, clock):
    send(client, auth("clerk"), "file_application", body("file_application"))
    known = clock.now.isoformat()
    clock.advance(days=2)
    send(client, auth("clerk"), "supplement_materials", body("supplement_materials"))

    then = get(client, auth, f"/api/v1/parks/{CODE}/as-known-at", at=known).get_json()
    now = get(client, auth, f"/api/v1/parks/{CODE}/as-known-at",
              at=clock.now.isoformat()).get_json()

    assert then["version"] == 1 and len(then["timeline"]) == 1
    assert now["version"] == 2


def test_as_known_at_pages_its_timeline_and_masks_the_objector(client, auth, objected, clock):
    url = f"/api/v1/parks/{CODE}/as-known-at"
    at = clock.now.isoformat()

    first = get(client, auth, url, at=at, limit=4).get_json()
    second = get(client, auth, url, at=at, limit=4, after=first["next"]).get_json()
    whole = get(client, auth, url, at=at).get_json()
    shown = get(client, auth, url, role="reviewer", at=at, after=5).get_json()

    assert [e["version"] for e in first["timeline"]] == [1, 2, 3, 4]
    assert (first["total"], first["after"], first["limit"], first["next"]) == (6, 0, 4, 4)
    assert [e["version"] for e in second["timeline"]] == [5, 6] and second["next"] is None
    assert first["timeline"] + second["timeline"] == whole["timeline"]
    assert (whole["limit"], whole["next"], whole["total"]) == (100, None, 6)
    assert second["timeline"][-1]["fields"]["objector"]["name"] == "***"
    assert shown["timeline"][0]["fields"]["objector"]["name"] == "示例异议人"


def test_as_known_at_refuses_a_bad_or_unknown_paging_parameter(client, auth):
    send(client, auth("clerk"), "file_application", body("file_application"))
    url = f"/api/v1/parks/{CODE}/as-known-at?at=2026-11-20T10:00:00%2B08:00"

    refused = {query: client.get(f"{url}&{query}", headers=auth("auditor"))
               for query in ("limit=0", "limit=1001", "limit=lots", "after=-1", "offset=5")}

    assert {q: r.status_code for q, r in refused.items()} == dict.fromkeys(refused, 422)
    assert {q: r.get_json()["error"]["field"] for q, r in refused.items()} == {
        "limit=0": "limit", "limit=1001": "limit", "limit=lots": "limit", "after=-1": "after",
        "offset=5": "offset"}
    assert refused["offset=5"].get_json()["error"]["code"] == "unknown_field"


def test_as_known_at_needs_a_zone(client, auth):
    send(client, auth("clerk"), "file_application", body("file_application"))

    response = client.get(f"/api/v1/parks/{CODE}/as-known-at?at=2026-11-20T10:00:00",
                          headers=auth("reviewer"))

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "at"


def test_as_effective_on_and_diff_between_two_days(client, auth):
    to_approved(client, auth)

    before = get(client, auth, f"/api/v1/parks/{CODE}/as-effective-on", on="2026-03-01")
    diff = get(client, auth, f"/api/v1/parks/{CODE}/diff", before="2026-03-01",
               after="2026-03-10").get_json()

    assert before.get_json()["state"]["status"] == "evaluated"
    status = [c for c in diff["changes"] if c["field"] == "status"]
    assert status == [{"field": "status", "before": "evaluated", "after": "approved"}]


def test_replay_steps_and_masks_the_objector(client, auth, objected):
    replay = get(client, auth, f"/api/v1/parks/{CODE}/replay", start=6, limit=1).get_json()
    shown = get(client, auth, f"/api/v1/parks/{CODE}/replay", role="reviewer", start=6,
                limit=1).get_json()

    (step,) = replay["steps"]
    assert step["event"]["event_type"] == "ObjectionRaised"
    assert step["event"]["fields"]["objector"]["name"] == "***"
    assert shown["steps"][0]["event"]["fields"]["objector"]["name"] == "示例异议人"


def test_audit_log_filters_and_pages(client, auth, objected):
    first = get(client, auth, "/api/v1/audit-log", limit=2).get_json()
    second = get(client, auth, "/api/v1/audit-log", limit=2, after=first["next"]).get_json()
    typed = get(client, auth, "/api/v1/audit-log",
                event_type=["ObjectionRaised", "PublicityStarted"]).get_json()
    text = get(client, auth, "/api/v1/audit-log", text="云南大学").get_json()

    assert first["total"] == 6
    assert [e["version"] for e in first["entries"] + second["entries"]] == [1, 2, 3, 4]
    assert [e["event_type"] for e in typed["entries"]] == ["PublicityStarted",
                                                           "ObjectionRaised"]
    assert [e["event_type"] for e in text["entries"]] == ["ExpertOpinionRecorded"]


def test_audit_log_masks_the_objector_and_cannot_be_searched_by_it(client, auth, objected):
    log = get(client, auth, "/api/v1/audit-log", event_type="ObjectionRaised").get_json()
    search = get(client, auth, "/api/v1/audit-log", text="示例异议人").get_json()
    reviewer = get(client, auth, "/api/v1/audit-log", role="reviewer",
                   event_type="ObjectionRaised").get_json()

    assert log["entries"][0]["fields"]["objector"] == {"name": "***", "contact": "***"}
    assert search["total"] == 0
    assert reviewer["entries"][0]["fields"]["objector"]["name"] == "示例异议人"


def test_audit_export_csv_is_streamed_and_masked(client, auth, objected):
    response = get(client, auth, "/api/v1/audit-log/export", format="csv")
    streamed = response.is_streamed

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert streamed
    assert response.mimetype == "text/csv"
    assert [int(r["version"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert "示例异议人" not in response.get_data(as_text=True)
    assert json.loads(rows[5]["fields"])["objector"]["name"] == "***"


def test_audit_export_json_for_a_reviewer_shows_the_objector(client, auth, objected):
    response = get(client, auth, "/api/v1/audit-log/export", role="reviewer", format="json",
                   event_type="ObjectionRaised")

    (entry,) = json.loads(response.get_data(as_text=True))
    assert entry["fields"]["objector"]["name"] == "示例异议人"


def test_csv_cells_cannot_start_a_spreadsheet_formula(client, auth):
    send(client, auth("clerk"), "file_application",
         body("file_application", reason="=HYPERLINK(\"http://x\")"))

    response = get(client, auth, "/api/v1/audit-log/export")

    (row,) = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert row["reason"].startswith("'=")


def test_subsidy_ledger_clawbacks_and_findings_art_9_and_17(client, auth):
    to_approved(client, auth)
    send(client, auth("finance"), "disburse_subsidy", body("disburse_subsidy"))
    send(client, auth("clerk"), "revoke_plaque", body("revoke_plaque", effective_on="2026-06-01"))
    send(client, auth("finance"), "demand_refund",
         body("demand_refund", effective_on="2026-06-10", deadline="2026-09-30"))

    ledger = get(client, auth, "/api/v1/subsidies", role="finance").get_json()
    clawbacks = get(client, auth, "/api/v1/subsidies/clawbacks", role="finance").get_json()
    entries = get(client, auth, f"/api/v1/subsidies/{CODE}/entries").get_json()
    findings = get(client, auth, "/api/v1/findings", park_code=CODE, state="open").get_json()

    assert ledger["province"]["disbursed"] == "2000000.00"
    assert clawbacks[0]["park_code"] == CODE
    assert clawbacks[0]["overdue"] == "2000000.00"
    assert [e["kind"] for e in entries] == ["disbursed", "demanded"]
    assert any(f["article"].startswith("Art. 17") for f in findings)


def test_report_exports(client, auth):
    to_approved(client, auth)

    subsidies = get(client, auth, "/api/v1/subsidies/export", format="csv")
    findings = get(client, auth, "/api/v1/findings/export", format="json")

    assert subsidies.get_data(as_text=True).startswith("level,park_code")
    assert isinstance(json.loads(findings.get_data(as_text=True)), list)


def test_unknown_park_in_time_travel_is_404(client, auth):
    response = client.get("/api/v1/parks/NOPE/replay", headers=auth("reviewer"))

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "park_not_found"


def test_audit_export_reads_the_log_page_by_page(client, auth, objected, monkeypatch):
    from web.api import audit

    monkeypatch.setattr(audit, "EXPORT_PAGE", 4)

    response = get(client, auth, "/api/v1/audit-log/export", format="json")

    entries = json.loads(response.get_data(as_text=True))
    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5, 6]


def test_park_and_audit_pages_sent_unserialised_are_exactly_their_documented_schema(
        client, auth, objected):
    """These two bodies skip the schema's dump (web.api.schemas.as_documented): dumping them
    must change nothing, for a role that sees the objector and one that does not."""
    from web.api.audit import AuditPageSchema
    from web.api.schemas import ParkSchema
    for role in ("auditor", "reviewer"):
        park = get(client, auth, f"/api/v1/parks/{CODE}", role).get_json()
        page = get(client, auth, "/api/v1/audit-log", role, limit=1000).get_json()

        assert ParkSchema().dump(park) == park
        assert AuditPageSchema().dump(page) == page
        assert len(page["entries"]) == page["total"] > 5
