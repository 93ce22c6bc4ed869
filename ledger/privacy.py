"""Protected identities: objectors (异议人) are visible only to the `reviewer` role (DESIGN.md,
Integrity). Every outward view of an event (API, export, UI) passes through `mask_record`."""

from __future__ import annotations

from typing import Any

MASK = "***"
SEES_PROTECTED = frozenset({"reviewer"})
PROTECTED_FIELDS = frozenset({"objector"})  # event fields that identify a protected person


def sees_protected(role: str | None) -> bool:
    return role in SEES_PROTECTED


def mask_record(record: dict[str, Any], role: str | None) -> dict[str, Any]:
    """An event record (as `event_record` makes it) with objector identities masked unless the
    role may see them. Also masks a correction that names the objector field."""
    if sees_protected(role):
        return record
    fields = record.get("fields")
    if not isinstance(fields, dict):
        return record
    # a new record and fields dict where something is masked; the rest is shared, unchanged
    if record.get("event_type") == "ObjectionRaised" and "objector" in fields:
        return {**record, "fields": {**fields, "objector": _masked(fields["objector"])}}
    if record.get("event_type") == "EntryCorrected" and _names_objector(fields.get("field")):
        return {**record, "fields": {**fields, **{key: MASK for key in ("wrong_value",
                                                  "right_value") if key in fields}}}
    return record


def mask_records(records: list[dict[str, Any]], role: str | None) -> list[dict[str, Any]]:
    return [mask_record(r, role) for r in records]


def _masked(objector: Any) -> Any:
    if isinstance(objector, dict):
        return {key: MASK for key in objector}
    return MASK


def _names_objector(field: Any) -> bool:
    return isinstance(field, str) and field.split(".")[0] == "objector"
