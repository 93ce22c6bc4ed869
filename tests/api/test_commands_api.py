"""Commands through the JSON API: the actor is the account, headers map to the ledger's
idempotency and optimistic concurrency, breaches answer with their article."""

from __future__ import annotations

from tests.api.conftest import USERS
from tests.api.payloads import CODE, body, send, to_approved
from tests.builders import event_count


def test_filing_records_the_event_with_hash_version_and_etag(client, auth, ledger):
    response = send(client, auth("clerk"), "file_application", body("file_application"))

    assert response.status_code == 201
    recorded = response.get_json()
    assert recorded["event_type"] == "ApplicationFiled"
    assert recorded["version"] == 1
    assert recorded["hash"] == ledger.get_park(CODE).head_hash
    assert response.headers["ETag"] == '"1"'


def test_actor_of_a_write_is_the_authenticated_account(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))

    (event,) = ledger.timeline(CODE)
    assert event["actor"] == {"user": USERS["clerk"], "role": "clerk",
                              "organisation": "云南省人力资源和社会保障厅"}


def test_actor_in_the_body_is_refused_as_unknown_field(client, auth, ledger):
    payload = body("file_application", actor={"user": "x", "role": "clerk",
                                              "organisation": "y"})

    response = send(client, auth("clerk"), "file_application", payload)

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unknown_field"
    assert response.get_json()["error"]["field"] == "actor"
    assert event_count(ledger) == 0


def test_whole_approval_path_through_the_api(client, auth, ledger):
    to_approved(client, auth)

    response = client.get(f"/api/v1/parks/{CODE}", headers=auth("auditor"))
    assert response.get_json()["status"] == "approved"
    assert response.headers["ETag"] == '"7"'


def test_subsidy_before_approval_is_refused_with_article_9_and_how_to_override(
        client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))
    before = event_count(ledger)

    response = send(client, auth("finance"), "disburse_subsidy", body("disburse_subsidy"))

    error = response.get_json()["error"]
    assert response.status_code == 422
    assert error["code"] == "rule_breach"
    assert error["article"] == "Art. 9"
    assert error["field"] == "override_reason"
    assert error["details"]["override"] == "override_reason"
    assert event_count(ledger) == before


def test_subsidy_before_approval_with_override_is_recorded_flagged_art_9(client, auth):
    send(client, auth("clerk"), "file_application", body("file_application"))

    response = send(client, auth("finance"), "disburse_subsidy",
                    body("disburse_subsidy", override_reason="省政府专题会议决定提前拨付"))

    assert response.status_code == 201
    flags = response.get_json()["flags"]
    assert flags and flags[0]["article"] == "Art. 9"
    assert flags[0]["severity"] == "breach"


def test_idempotency_key_header_replays_the_first_result_without_writing(client, auth, ledger):
    headers = {**auth("clerk"), "Idempotency-Key": "filing-1"}
    first = send(client, headers, "file_application", body("file_application"))
    count = event_count(ledger)

    again = send(client, headers, "file_application", body("file_application"))

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["replayed"] is True
    assert again.get_json()["hash"] == first.get_json()["hash"]
    assert event_count(ledger) == count


def test_idempotency_key_replayed_with_another_body_is_refused(client, auth, ledger):
    headers = {**auth("clerk"), "Idempotency-Key": "filing-1"}
    send(client, headers, "file_application", body("file_application"))
    count = event_count(ledger)

    response = send(client, headers, "file_application",
                    body("file_application", name="另一个名字"))

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_conflict"
    assert response.get_json()["error"]["field"] == "idempotency_key"
    assert event_count(ledger) == count


def test_if_match_with_current_version_records(client, auth):
    send(client, auth("clerk"), "file_application", body("file_application"))

    response = send(client, {**auth("clerk"), "If-Match": '"1"'}, "supplement_materials",
                    body("supplement_materials"))

    assert response.status_code == 201
    assert response.headers["ETag"] == '"2"'


def test_if_match_with_stale_version_is_412_and_writes_nothing(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))
    send(client, auth("clerk"), "supplement_materials", body("supplement_materials"))
    count = event_count(ledger)

    response = send(client, {**auth("clerk"), "If-Match": '"1"'}, "supplement_materials",
                    body("supplement_materials"))

    assert response.status_code == 412
    error = response.get_json()["error"]
    assert error["code"] == "stale_version"
    assert error["details"] == {"expected": 1, "actual": 2}
    assert event_count(ledger) == count


def test_stale_expected_version_in_body_is_409(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))
    send(client, auth("clerk"), "supplement_materials", body("supplement_materials"))

    response = send(client, auth("clerk"), "supplement_materials",
                    body("supplement_materials", expected_version=1))

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_version"


def test_header_and_body_that_disagree_are_refused(client, auth, ledger):
    response = send(client, {**auth("clerk"), "Idempotency-Key": "a"}, "file_application",
                    body("file_application", idempotency_key="b"))

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "idempotency_key"
    assert event_count(ledger) == 0


def test_finance_cannot_file_and_nothing_is_written(client, auth, ledger):
    response = send(client, auth("finance"), "file_application", body("file_application"))

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert event_count(ledger) == 0


def test_auditor_closes_a_finding(client, auth, ledger):
    send(client, auth("clerk"), "file_application", body("file_application"))
    override = body("disburse_subsidy", override_reason="试点")
    finding = send(client, auth("finance"), "disburse_subsidy",
                   override).get_json()["flags"][0]["finding_id"]

    response = send(client, auth("auditor"), "close_finding",
                    body("close_finding", finding_id=finding))

    assert response.status_code == 201
    assert finding in ledger.park(CODE)["closed_findings"]
