"""Rendered rows kept by what they are made of (web/views/fragments.py): rendered once per data,
language and URL root; holes filled per request, escaped. Templates only: on SQLite alone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask, render_template_string, session
from markupsafe import Markup

from config import Config
from ledger.application import Ledger
from web import create_app
from web.views.fragments import digest, fill_holes, hole

ROWS = ("{% for x in items %}{% call kept_row('t', x) %}<li>{{ count() }}:{{ x }}"
        "</li>{% endcall %}{% endfor %}")


@pytest.fixture
def counting(sqlite_ledger: Ledger) -> tuple[Flask, list[int]]:
    """An app whose templates may call `count()`: how many times a row's body was rendered."""
    app = create_app(Config(database_url="sqlite://"), ledger=sqlite_ledger)
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return len(calls)

    app.add_template_global(count, "count")
    return app, calls


def test_a_row_is_rendered_once_for_the_same_data_and_again_for_other_data(counting):
    app, calls = counting
    with app.test_request_context("/"):
        first = render_template_string(ROWS, items=["a", "b", "a"])
        again = render_template_string(ROWS, items=["b", "a"])
        changed = render_template_string(ROWS, items=["a", "c"])

    assert first == "<li>1:a</li><li>2:b</li><li>1:a</li>"
    assert again == "<li>2:b</li><li>1:a</li>"
    assert changed == "<li>1:a</li><li>3:c</li>" and len(calls) == 3


def test_a_row_is_rendered_again_in_another_language_and_under_another_url_root(counting):
    app, _ = counting
    with app.test_request_context("/"):
        chinese = render_template_string(ROWS, items=["a"])
    with app.test_request_context("/"):
        session["lang"] = "en"
        english = render_template_string(ROWS, items=["a"])
    with app.test_request_context("/", base_url="http://x/ledger"):
        mounted = render_template_string(ROWS, items=["a"])

    assert (chinese, english, mounted) == ("<li>1:a</li>", "<li>2:a</li>", "<li>3:a</li>")


def test_data_of_other_types_with_the_same_text_are_different_rows():
    same_text = ["1", Decimal("1"), 1, 1.0, True, Markup("1")]
    day = [date(2026, 1, 2), "2026-01-02"]
    rows = [{"a": 1, "b": [1, 2]}, {"a": 1, "b": (1, 2)}, {"a": "1", "b": [1, 2]}]

    assert len({digest(v) for v in same_text}) == len(same_text)
    assert len({digest(v) for v in day}) == 2
    assert len({digest(v) for v in rows}) == 3
    assert digest({"a": 1, "b": [1, 2]}) == digest({"a": 1, "b": [1, 2]})


def test_holes_are_filled_with_escaped_values_and_nothing_else_changes():
    text = Markup(f'<input value="{hole("csrf")}"><a href="{hole("back")}">{hole("csrf")}</a>')

    filled = fill_holes(text, csrf='t"1', back="/findings?a=1&b=<2>")

    assert filled == ('<input value="t&#34;1"><a href="/findings?a=1&amp;b=&lt;2&gt;">'
                      't&#34;1</a>')
    assert isinstance(filled, Markup)
    assert fill_holes(Markup("<b>plain</b>"), csrf="x") == "<b>plain</b>"
