"""Rendered rows kept by what they are made of: a page of a hundred rows is rendered once, then
served from the kept text for as long as its rows hold the same data.

    {% for e in entries %}{% call kept_row('audit', e) %}<tr>…</tr>{% endcall %}{% endfor %}

`kept_row(name, *data)` renders the body of its `call` block the first time it meets `data`
(by content: a digest of `data` pickled, so types count: a date is not its ISO string) in the
request's language under the app's URL root, and keeps the text; the same row met again, on
any page, by anyone, is the kept text. So the body may depend on `data`, the labels of the
language and the app's URLs, and on nothing else: whatever else it shows (the reader's role,
say) goes into `data`. Data that differ only in ways the digest sees and the page does not (a
dict's order) cost a second rendering, never a wrong one.

A value that differs from request to request (a form's CSRF token) is left as a hole: the body
writes `{{ hole('csrf') }}`, and `{% filter fill_holes(csrf=csrf_token()) %}` around the rows
fills every hole of that name with the escaped value.

On `large` (PostgreSQL, in process) a page of 50 audit-log entries spent ~10 ms in Jinja, a
park's page of 100 timeline entries ~20 ms, 100 findings with their close forms ~6 ms: the
time of the whole request several times over, for text that changes only when its row does.
"""

from __future__ import annotations

import hashlib
import pickle
import secrets
from collections.abc import Callable
from typing import Any

from eventsourcing.application import LRUCache
from flask import Flask
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

ROWS_KEPT = 10_000  # rows each server process keeps (each 0.3–1.5 KB of HTML: some tens of MB)
SLOT = "ui_rows"
_HOLE = f"hole-{secrets.token_hex(8)}-"  # never in a row's data: made anew by each process


def init_app(app: Flask) -> None:
    rows: LRUCache[tuple[str, str, str, bytes], Markup] = LRUCache(maxsize=ROWS_KEPT)

    @pass_context
    def kept_row(context: Context, name: str, *data: Any, caller: Callable[[], str]) -> Markup:
        """The body of a `call` block, rendered once per `data`, language and URL root."""
        key = (name, context["lang"], context["request"].script_root, digest(data))
        try:
            return rows.get(key)
        except KeyError:
            pass
        text = Markup(caller())
        rows.put(key, text)
        return text

    app.extensions[SLOT] = rows
    app.add_template_global(kept_row, "kept_row")
    app.add_template_global(hole, "hole")
    app.add_template_filter(fill_holes, "fill_holes")


def digest(data: Any) -> bytes:
    """A digest of `data` by content and type: `Decimal('1')` and `'1'`, a `Markup` and the
    same `str`, a date and its ISO string all differ, as their renderings may."""
    return hashlib.blake2b(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL),
                           digest_size=16).digest()


def hole(name: str) -> Markup:
    """A place in a kept row for a value of the request, filled by `fill_holes`."""
    return Markup(f"{_HOLE}{name}.")


def fill_holes(text: str, **values: Any) -> Markup:
    """`text` with each hole filled by its value, escaped."""
    text = str(text)
    for name, value in values.items():
        text = text.replace(f"{_HOLE}{name}.", str(escape(value)))
    return Markup(text)
