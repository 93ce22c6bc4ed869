"""The hash chain's canonical JSON is written by orjson in one pass: it must be byte for byte
what `json.dumps(plain(x))` writes, or every stored hash would change. The two differ only on
floats and UUID objects, which no hashed document holds (tests/integration/test_hash_documents.py
checks every kind of event).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.hashing import canonical_json, plain

REFERENCE = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.dates(), st.datetimes(timezones=st.just(UTC)), st.datetimes(),
    st.integers(min_value=-2 ** 80, max_value=2 ** 80))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)


@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_canonical_json_writes_what_plain_then_json_writes(state):
    assert canonical_json(state) == json.dumps(plain(state), **REFERENCE).encode("utf-8")


def test_canonical_json_of_an_event_state_with_every_kind_of_value():
    state = {"effective_on": date(2026, 3, 1), "recorded_at": datetime(2026, 3, 1, 2, tzinfo=UTC),
             "amount_yuan": Decimal("2000000.00"), "actor": {"user": "王", "role": "finance"},
             "documents": ({"title": "批复", "sha256": "a" * 64},), "override_reason": None,
             "flags": [], "hardship_area": True, "agencies_count": 25}

    text = canonical_json(state).decode("utf-8")

    assert text == json.dumps(plain(state), **REFERENCE)
    assert '"amount_yuan":"2000000.00"' in text
    assert '"recorded_at":"2026-03-01T02:00:00+00:00"' in text and "批复" in text


def test_every_character_is_written_as_the_standard_library_writes_it():
    """Escapes (`"`, `\\`, control characters as `\\n` or `\\u001f`), and every other code
    point as itself, in keys and in values; surrogates cannot be written as UTF-8 at all."""
    every = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(every), 4096):
        text = "".join(every[start:start + 4096])
        document = {text: text, "k": [text[:7], {text[-3:]: text[:1]}]}
        assert canonical_json(document) == json.dumps(document, **REFERENCE).encode("utf-8")
    with pytest.raises(UnicodeEncodeError):
        canonical_json({"note": "\ud800"})


def test_what_orjson_refuses_is_written_by_the_standard_library_in_the_same_layout():
    document = {"agencies_count": 2 ** 70, "scores": {3: 1, 2: [-2 ** 65]}}

    assert canonical_json(document) == json.dumps(document, **REFERENCE).encode("utf-8")
    assert canonical_json(document) == b'{"agencies_count":1180591620717411303424,' \
                                        b'"scores":{"2":[-36893488147419103232],"3":1}}'


def test_times_with_any_offset_and_precision_are_written_as_isoformat_writes_them():
    offsets = [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=3, minutes=30))]
    times = [datetime(2026, 3, 1, 2, 3, 4, micro, tzinfo=tz)
             for tz in offsets for micro in (0, 1, 500000, 999999)]
    document = {"times": [*times, datetime(2026, 3, 1), date(1, 1, 1), date(9999, 12, 31)]}

    assert canonical_json(document) == json.dumps(plain(document), **REFERENCE).encode("utf-8")
