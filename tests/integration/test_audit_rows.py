"""The audit log stores each event's record as the record functions make it, the protected
objector apart.

The audit log writes a record's JSON text in one pass (`event_record_json`), not through
`event_record` and SQLAlchemy's JSON type: for every kind of event both must say the same, and
the text filter, which searches the stored record, must never match the protected objector.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from bench.generator import generate
from ledger.application import event_record, event_record_json
from ledger.importer import import_commands
from ledger.projections.audit_log import AUDIT_LOG, AuditFilter, search, stored_record


def test_stored_records_are_the_event_records_for_every_event_type(ledger):
    report = import_commands(ledger, generate("tiny", seed=3))
    assert report.ok
    with ledger.engine.connect() as conn:
        stored = {(r.park_code, r.version): r for r in conn.execute(sa.select(AUDIT_LOG))}
    kinds = set()

    for position, event in ledger.park_events():
        row = stored[(event.park_code, event.originator_version)]
        record = event_record(event, position)
        kinds.add(record["event_type"])
        visible = {k: v for k, v in record["fields"].items() if k != "objector"}

        # orjson writes it: the same text as the standard library's encoder would, byte for byte
        assert event_record_json(event, position) == _compact(record)
        assert row.record == {**record, "fields": visible}
        assert stored_record(row.record, row.protected) == record
        assert row.protected == ({"objector": record["fields"]["objector"]}
                                 if "objector" in record["fields"] else None)
    assert {"ObjectionRaised", "SubsidyDisbursed", "EntryCorrected"} <= kinds


def test_a_value_orjson_does_not_write_is_written_in_the_same_layout(ledger):
    """An integer past 64 bits (an agencies count nobody bounded, say) makes orjson give up:
    the record is still written, by the standard library, in the same layout."""
    report = import_commands(ledger, generate("tiny", seed=3))
    assert report.ok
    position, filed = next((p, e) for p, e in ledger.park_events()
                           if type(e).__name__ == "ApplicationFiled")
    filed.__dict__["agencies_count"] = 2 ** 70

    text = event_record_json(filed, position)

    assert text == _compact(event_record(filed, position))
    assert json.loads(text)["fields"]["agencies_count"] == 2 ** 70


def _compact(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_the_text_filter_finds_any_part_of_a_record_in_any_case_but_not_the_objector(ledger):
    report = import_commands(ledger, generate("tiny", seed=3))
    assert report.ok
    objection = next(e for _, e in ledger.park_events() if type(e).__name__ == "ObjectionRaised")
    name = objection.objector["name"]

    def found(text: str) -> set[tuple[str, int]]:
        entries = search(ledger, AuditFilter(text=text), limit=1000)["entries"]
        return {(e["park_code"], e["version"]) for e in entries}

    assert (objection.park_code, objection.originator_version) in found(objection.grounds)
    assert found(objection.park_code.lower()) == found(objection.park_code)
    assert found(name) == set()
    assert found("100%") == found("100\\%") == set()  # LIKE's wildcards are matched as text


def test_a_rebuild_writes_in_bulk_exactly_the_rows_the_commands_wrote(ledger):
    """A rebuild inserts thousands of rows at once (PostgreSQL: one COPY per table and batch);
    each command inserted its own in its transaction. The rows must be the same."""
    report = import_commands(ledger, generate("tiny", seed=5))
    assert report.ok and report.recorded > 200  # more rows than COPY_FROM per table
    incremental = ledger.projections.dump()

    ledger.projections.rebuild()

    assert ledger.projections.dump() == incremental


def test_a_rebuild_stores_the_very_text_the_commands_stored(ledger, monkeypatch):
    """Byte for byte, every column as the database holds it (a JSON column's text, a time's
    digits): PostgreSQL's rebuild sends its rows in COPY's binary format, the commands theirs
    as INSERT parameters. Two shards and one process alike."""
    import ledger.projections.rows as rows_module  # noqa: PLC0415

    copies: list[tuple[str, bool]] = []
    types_of = rows_module.copy_types

    def counted(table, columns):
        types = types_of(table, columns)
        copies.append((table.name, types is not None))
        return types

    monkeypatch.setattr(rows_module, "copy_types", counted)
    report = import_commands(ledger, generate("tiny", seed=5))
    assert report.ok
    written = _stored_text(ledger)

    for workers in (1, 2):
        ledger.projections.rebuild(workers=workers)
        assert _stored_text(ledger) == written
    if ledger.database.kind == "postgresql":  # in one process the binary COPY is seen here
        assert ("rm_audit_log", True) in copies
        assert all(binary for _, binary in copies)  # every read model's types have one


def _stored_text(ledger):
    with ledger.engine.connect() as conn:
        return {table.name: sorted(tuple(conn.execute(sa.select(
            *(sa.cast(column, sa.Text) for column in table.columns))).all()), key=repr)
            for projection in ledger.projections.select() for table in projection.tables}
