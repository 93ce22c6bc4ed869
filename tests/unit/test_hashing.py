"""The hash chain's canonical JSON is written in one pass of the C encoder (`plain_default`):
it must be byte for byte what `json.dumps(plain(x))` writes, or every stored hash would change.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.hashing import canonical_json, plain

REFERENCE = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.dates(), st.datetimes(timezones=st.just(UTC)), st.uuids())
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
             "id": UUID(int=7), "flags": [], "hardship_area": True, "agencies_count": 25}

    text = canonical_json(state).decode("utf-8")

    assert text == json.dumps(plain(state), **REFERENCE)
    assert '"amount_yuan":"2000000.00"' in text
    assert '"id":"00000000000000000000000000000007"' in text
    assert '"recorded_at":"2026-03-01T02:00:00+00:00"' in text and "批复" in text
