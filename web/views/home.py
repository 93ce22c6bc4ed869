"""The health check, and the front door: the dashboard, or the login page."""

from __future__ import annotations

from flask import jsonify, redirect, url_for
from flask.typing import ResponseReturnValue

from web.views.common import blueprint, ledger

bp = blueprint("home")


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    events = ledger().recorder.max_notification_id() or 0
    return jsonify(status="ok", stored_events=events)


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("ui_dashboard.dashboard"))
