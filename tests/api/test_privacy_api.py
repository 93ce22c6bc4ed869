"""Objector identities (异议人) are visible only to reviewers, in every response."""

from __future__ import annotations

import pytest

from ledger.commands import ROLES
from ledger.privacy import MASK, mask_record
from tests.api.payloads import CODE, body, send

OBJECTOR = {"name": "示例异议人", "contact": "138-0000-0000"}


@pytest.fixture
def objected(client, auth):
    for command in ("file_application", "open_evaluation", "record_expert_opinion",
                    "conclude_evaluation", "start_publicity", "raise_objection"):
        assert send(client, auth("clerk"), command, body(command)).status_code == 201


def objection_in_timeline(client, headers):
    events = client.get(f"/api/v1/parks/{CODE}/timeline", headers=headers).get_json()
    (event,) = [e for e in events if e["event_type"] == "ObjectionRaised"]
    return event


@pytest.mark.parametrize("role", [r for r in ROLES if r != "reviewer"])
def test_objector_is_masked_for_every_role_but_reviewer(client, auth, objected, role):
    event = objection_in_timeline(client, auth(role))

    assert event["fields"]["objector"] == {"name": MASK, "contact": MASK}
    assert "示例异议人" not in str(event)


def test_reviewer_sees_the_objector(client, auth, objected):
    event = objection_in_timeline(client, auth("reviewer"))

    assert event["fields"]["objector"] == OBJECTOR


def test_correction_of_an_objector_is_masked_too():
    record = {"event_type": "EntryCorrected", "fields": {
        "corrects_version": 6, "field": "objector", "wrong_value": '{"name":"甲"}',
        "right_value": '{"name":"乙"}'}}

    masked = mask_record(record, "auditor")

    assert masked["fields"]["wrong_value"] == masked["fields"]["right_value"] == MASK
    assert record["fields"]["right_value"] == '{"name":"乙"}'
    assert mask_record(record, "reviewer") is record
