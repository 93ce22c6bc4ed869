"""The ledger's transcoder (`ledger.jsontext.JSONTranscoder`) reads every stored state to the
values eventsourcing's own `JSONTranscoder` reads, and refuses what it refuses, the same way.

It reads every event and snapshot the ledger loads (orjson, then the objects revived as the
library's `object_hook` would revive them): a value read otherwise would be a different
history, and a hash that no longer matches.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.application import DateAsISO
from ledger.jsontext import JSONTranscoder as OrjsonTranscoder


def _registered(transcoder):
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY = _registered(JSONTranscoder())
OURS = _registered(OrjsonTranscoder())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-10 ** 40, max_value=10 ** 40),
    st.text(), st.floats(allow_nan=False, allow_infinity=False), st.dates(), st.uuids(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])),
    st.decimals(allow_nan=False, allow_infinity=False))
keys = st.one_of(st.text(max_size=8), st.sampled_from(["_type_", "_data_"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)), max_leaves=30)


def _same(data: bytes) -> None:
    """Both read `data` to the same values of the same types, or refuse it alike."""
    try:
        expected = LIBRARY.decode(data)
    except Exception as error:  # noqa: BLE001 - the same refusal is asserted
        with pytest.raises(type(error)) as refused:
            OURS.decode(data)
        assert str(refused.value) == str(error)
        return
    read = OURS.decode(data)
    assert repr(read) == repr(expected)  # NaN != NaN: compare the texts
    assert _types(read) == _types(expected)


@settings(max_examples=500)
@given(values)
def test_reads_what_the_library_reads_of_what_the_library_writes(value):
    try:
        data = LIBRARY.encode(value)
    except TranscodingNotRegisteredError:  # nothing written, nothing to read
        return
    _same(data)


@settings(max_examples=500)
@given(values)
def test_reads_what_the_library_reads_of_any_json_text(value):
    """Objects of `_type_` and `_data_` written by hand too, of any value, registered or not."""
    _same(json.dumps(value, default=str).encode())


@pytest.mark.parametrize("text", [
    '{"agencies_count":1180591620717411303424}', '[-9223372036854775809]',
    '{"a":[1,18446744073709551616]}', '{"n":NaN,"i":-Infinity}', '"\\ud800"', '{"a":1e400}',
    '{"count":9223372036854775807,"less":-9223372036854775808}', '18446744073709551616',
    '{"score":1.5}', "2.5", '{"a":1,"a":2}', '{"a":"\\u0000"}', "[]", "{}", '"text"', "null",
    '{"_type_":"date_iso","_data_":"2024-02-29"}',
    '[{"_type_":"uuid_hex","_data_":"0123456789abcdef0123456789abcdef"}]',
    '{"when":{"_type_":"datetime_iso","_data_":"2026-12-04T18:57:44.658181+00:00"}}',
    '{"money":{"_type_":"decimal_str","_data_":"2000000.00"},"_type_":"date_iso"}',
    '{"a":{"_type_":"date_iso","_data_":"2024-02-29","extra":1}}',
    '{"a":{"_type_":"date_iso"},"b":{"_data_":"x","other":2}}',
    '{"":{"_data_":"","_type_":{"_type_":"uuid_hex","_data_":"e3e70682c2094cac629f6fbed82c07cd"}}}',
    '{"a":{"_type_":{"b":1},"_data_":"x"}}',
    '{"outer":{"_type_":"x_list","_data_":[{"_type_":"date_iso","_data_":"2024-01-01"}]}}',
])
def test_what_orjson_reads_otherwise_or_refuses_is_read_as_the_library_reads_it(text):
    data = text.encode()
    if "x_list" in text:  # a transcoding whose data holds an object, revived first
        library = _registered(JSONTranscoder())
        ours = _registered(OrjsonTranscoder())
        for transcoder in (library, ours):
            transcoder.register(_AsList())
        assert ours.decode(data) == library.decode(data) == {"outer": (date(2024, 1, 1),)}
        return
    _same(data)


def test_a_big_integer_stays_an_integer():
    read = OURS.decode(b'{"agencies_count":1180591620717411303424,"n":1}')
    assert read["agencies_count"] == 1180591620717411303424
    assert type(read["agencies_count"]) is int


def test_values_are_revived_to_their_types():
    data = LIBRARY.encode({
        "effective_on": date(2024, 2, 29), "id": UUID(int=7), "amount": Decimal("2000000.00"),
        "recorded_at": datetime(2026, 12, 4, 18, 57, 44, 658181, tzinfo=UTC),
        "documents": [{"title": "申报函", "on": date(2023, 1, 1)}, [date(2023, 1, 2)]]})

    read = OURS.decode(data)

    assert read == {"effective_on": date(2024, 2, 29), "id": UUID(int=7),
                    "amount": Decimal("2000000.00"),
                    "recorded_at": datetime(2026, 12, 4, 18, 57, 44, 658181, tzinfo=UTC),
                    "documents": [{"title": "申报函", "on": date(2023, 1, 1)},
                                  [date(2023, 1, 2)]]}
    assert type(read["amount"]) is Decimal and type(read["effective_on"]) is date


@pytest.mark.parametrize("text", [
    '{"a":{"_type_":"no_such_type","_data_":"x"}}', '{"_type_":"no_such_type","_data_":1}',
    '[{"_type_":"no_such_type","_data_":{"b":2}}]'])
def test_an_unregistered_type_is_refused_with_the_library_s_error(text):
    with pytest.raises(TranscodingNotRegisteredError) as library:
        LIBRARY.decode(text.encode())
    with pytest.raises(TranscodingNotRegisteredError) as ours:
        OURS.decode(text.encode())
    assert str(ours.value) == str(library.value)


@pytest.mark.parametrize("data", [b'{"a": ', b"", b"\xff{}", b'\xef\xbb\xbf{}', b"{} x"])
def test_a_malformed_text_is_refused_as_the_library_refuses_it(data):
    with pytest.raises(ValueError) as library:  # noqa: PT011 - compared below
        LIBRARY.decode(data)
    with pytest.raises(ValueError) as ours:  # noqa: PT011
        OURS.decode(data)
    assert type(ours.value) is type(library.value)


def test_writing_is_the_library_s():
    value = {"on": date(2024, 2, 29), "amount": Decimal("1.50"), "text": "云南"}
    assert OURS.encode(value) == LIBRARY.encode(value)


class _AsList(DateAsISO):
    """A transcoding whose data is an array (of objects revived before it is)."""

    type = tuple
    name = "x_list"

    def encode(self, obj):
        return list(obj)

    def decode(self, data):
        return tuple(data)


def _types(value):
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_types(v) for v in value]
    return type(value).__name__
