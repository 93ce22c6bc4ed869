"""The audit log stores each event's record and search text as the record functions make them.

The audit log writes a record's JSON text in one pass (`event_record_json`), not through
`event_record` and SQLAlchemy's JSON type: for every kind of event both must say the same, and
the text filter must search the record without the protected objector.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from bench.generator import generate
from ledger.application import event_record, event_record_json
from ledger.importer import import_commands
from ledger.projections.audit_log import AUDIT_LOG


def test_stored_records_and_search_text_match_the_event_records_for_every_event_type(ledger):
    report = import_commands(ledger, generate("tiny", seed=3))
    assert report.ok
    with ledger.engine.connect() as conn:
        stored = {(r.park_code, r.version): r for r in conn.execute(sa.select(AUDIT_LOG))}
    kinds = set()

    for position, event in ledger.park_events():
        row = stored[(event.park_code, event.originator_version)]
        record = event_record(event, position)
        kinds.add(record["event_type"])
        visible = {**record, "fields": {k: v for k, v in record["fields"].items()
                                        if k != "objector"}}

        assert json.loads(event_record_json(event, position)) == record
        assert row.record == record
        assert row.search_text == json.dumps(visible, ensure_ascii=False,
                                             sort_keys=True).lower()
        if "objector" in record["fields"]:
            assert record["fields"]["objector"]["name"].lower() not in row.search_text
    assert {"ObjectionRaised", "SubsidyDisbursed", "EntryCorrected"} <= kinds
