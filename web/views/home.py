"""The health check and a plain list of parks (until the UI issue builds the real pages)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template_string
from flask.typing import ResponseReturnValue

from ledger.application import Ledger

bp = Blueprint("home", __name__)

PARKS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>园区台账 Park Ledger</title></head>
<body><h1>省级人力资源服务产业园台账 Park Ledger</h1>
<table border="1" cellpadding="4">
<tr><th>编号 code</th><th>名称 name</th><th>州市 prefecture</th><th>状态 status</th>
<th>版本 version</th></tr>
{% for p in parks %}<tr><td>{{ p.park_code }}</td><td>{{ p.name }}</td>
<td>{{ p.prefecture }}</td><td>{{ p.status }}</td><td>{{ p.version }}</td></tr>
{% else %}<tr><td colspan="5">尚无园区 no parks yet</td></tr>{% endfor %}
</table></body></html>"""


def _ledger() -> Ledger:
    ledger: Ledger = current_app.extensions["ledger"]
    return ledger


def park_summaries(ledger: Ledger) -> list[dict[str, Any]]:
    """Every park's current state, by filing order (replays the log: the projection replaces it)."""
    codes = [event.park_code for _, event in ledger.park_events()
             if event.originator_version == 1]
    return [ledger.park(code) for code in codes]


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    events = _ledger().recorder.max_notification_id() or 0
    return jsonify(status="ok", stored_events=events)


@bp.get("/")
def parks() -> ResponseReturnValue:
    return render_template_string(PARKS_PAGE, parks=park_summaries(_ledger()))
