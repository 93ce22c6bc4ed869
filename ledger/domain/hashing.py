"""The hash chain's canonical form, shared by the aggregate that writes and `verify` that checks.

docs/integrity.md is the specification; this module is its reference implementation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

GENESIS = "0" * 64


_AS_IS = frozenset({str, int, bool, float, type(None)})


def plain(value: Any) -> Any:
    """A value as it reads once its stored transcoding is unwrapped: JSON types only."""
    kind = type(value)  # exact types first: this runs for every field of every event
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    text = _text_of(value)
    if text is not None:
        return text
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def plain_default(value: Any) -> Any:
    """`plain` for the values `json.dumps` does not write itself (its `default`): the same
    text as `json.dumps(plain(x))`, in one pass of the C encoder."""
    text = _text_of(value)
    if text is not None:
        return text
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _text_of(value: Any) -> str | None:
    """How a date, time, decimal or UUID is written in JSON (None for anything else)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return value.hex
    return None


def unwrap_stored(value: Any) -> Any:
    """Stored JSON with eventsourcing's `{"_type_": T, "_data_": X}` wrappers replaced by X."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return unwrap_stored(value["_data_"])
        return {k: unwrap_stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_stored(v) for v in value]
    return value


def canonical_json(document: Any) -> bytes:
    """RFC 8785-compatible canonical JSON for documents of strings, integers, lists and objects
    (with string keys); a date or decimal in it is written as `plain` writes it.

    The bytes are those of `json.dumps(plain(document), sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`, written by orjson (some fifteen times faster; dates and times it
    writes itself, as `isoformat` does). What orjson refuses (an integer past 64 bits, a key
    that is not a string) is written by the standard library. Two values would come out
    otherwise, and no hashed document holds them: a float (orjson writes `1e16`, not `1e+16`;
    money is a decimal, scores integers) and a UUID object (orjson writes its 36-character
    form, `plain` its 32 hex digits; a stored state is unwrapped to JSON types before it is
    hashed, and the commands' fields have none). tests/unit/test_hashing.py checks that every
    other value is written the same; tests/integration/test_hash_documents.py that no event of
    any type holds either, and that every stored hash is the one json.dumps gives."""
    try:
        return orjson.dumps(document, default=plain_default, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=plain_default).encode("utf-8")


def event_hash(*, originator_id: UUID, version: int, topic: str, state: Mapping[str, Any]) -> str:
    """SHA-256 of one event: its stream, version, topic and every state field except `hash`."""
    body = {k: v for k, v in state.items() if k != "hash"}
    document = {"id": str(originator_id), "version": version, "topic": topic, "state": body}
    return hashlib.sha256(canonical_json(document)).hexdigest()


def roll_digest(head: str, event_hash_hex: str) -> str:
    """The log digest after one more event: SHA-256 of the previous head and the event's hash."""
    return hashlib.sha256((head + event_hash_hex).encode("ascii")).hexdigest()
