"""`ledger.jsontext.loads` (orjson) reads every JSON text to the values `json.loads` reads.

It reads the audit log's JSON columns and `verify` reads every stored state with it: an
integer past 64 bits read as a float would break the hash of that event.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.jsontext import loads

values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
              st.floats(allow_nan=False, allow_infinity=False),
              st.integers(min_value=-10 ** 40, max_value=10 ** 40)),
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=30)


@given(values, st.booleans(), st.booleans())
def test_reads_what_the_standard_library_reads(value, as_bytes, spaced):
    text = json.dumps(value, ensure_ascii=as_bytes,
                      separators=(", ", ": ") if spaced else (",", ":"))
    document = text.encode() if as_bytes else text

    read = loads(document)

    assert read == json.loads(document)
    assert _types(read) == _types(json.loads(document))


@pytest.mark.parametrize("text", [
    '{"agencies_count":1180591620717411303424}', '[-9223372036854775809]',
    '{"a": [1, 18446744073709551616]}', '{"n":NaN,"i":-Infinity}', '"\\ud800"',
    '{"count":9223372036854775807,"less":-9223372036854775808}', '18446744073709551616',
    ' -18446744073709551616 '])
def test_what_orjson_reads_otherwise_or_refuses_is_read_by_the_standard_library(text):
    for document in (text, text.encode(), memoryview(text.encode())):
        read = loads(document)
        assert repr(read) == repr(json.loads(text))  # NaN != NaN: compare the texts
        assert _types(read) == _types(json.loads(text))


def test_a_malformed_text_is_refused_as_the_standard_library_refuses_it():
    with pytest.raises(json.JSONDecodeError):
        loads('{"a": ')


def _types(value):
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


def test_a_text_holding_a_lone_surrogate_itself_is_read_as_the_standard_library_reads_it():
    assert loads('{"note": "\ud800"}') == json.loads('{"note": "\ud800"}')


@pytest.mark.parametrize("text", ["null", "true", '"文本"', "0", "-12", "1.5", " [1] ", ""])
def test_a_document_of_any_kind_is_read_as_the_standard_library_reads_it(text):
    try:
        expected = json.loads(text)
    except json.JSONDecodeError:
        with pytest.raises(json.JSONDecodeError):
            loads(text)
    else:
        assert loads(text) == expected and type(loads(text)) is type(expected)
