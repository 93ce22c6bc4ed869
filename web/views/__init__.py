"""The server-rendered UI: one blueprint per page group, Chinese first with an English switch.

Every form posts with a CSRF token (Flask-WTF). The token is checked for the UI's blueprints
only: the JSON API takes its writes with bearer tokens and has no cookie to ride.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from web import errors
from web.views import (
    accounts,
    audit,
    charts,
    dashboard,
    finance,
    findings,
    forms,
    fragments,
    home,
    i18n,
    integrity,
    login,
    parks,
)
from web.views.common import can_write, local_time, money, park_href

BLUEPRINTS = (home, login, dashboard, parks, audit, finance, findings, integrity, forms,
              accounts)
UI_BLUEPRINTS = {module.bp.name for module in BLUEPRINTS}
FIELD_KEYS = frozenset(i18n.FIELDS)
CODE_KEYS = frozenset(i18n.CODES)
HTML_ERRORS = (400, 403, 404, 405, 409, 413, 429)


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    csrf = CSRFProtect(app)

    @app.before_request
    def _ui_request() -> None:
        if request.blueprint in UI_BLUEPRINTS:
            i18n.request_language_param()
            if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
                csrf.protect()

    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    app.context_processor(_template_context)
    fragments.init_app(app)
    parks.init_app(app)  # the parks' pages it keeps
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(money, "money")
    app.add_template_filter(park_href, "park_href")
    app.add_template_filter(charts.short_hash, "short_hash")
    app.register_error_handler(CSRFError, _csrf_error)
    for status in HTML_ERRORS:
        app.register_error_handler(status, _error_page)


def _template_context() -> dict[str, Any]:
    lang = i18n.language()
    return {"_": i18n.TEXT[lang], "term": i18n.TERM[lang], "lang": lang,
            "html_lang": i18n.lang_attribute(), "other_lang": i18n.next_language(),
            "me": current_user.account if current_user.is_authenticated else None,
            "can_write": can_write(), "field_keys": FIELD_KEYS, "code_keys": CODE_KEYS}


def _csrf_error(error: CSRFError) -> Any:
    return render_template("error.html", status=400, message=i18n.text("common.csrf")), 400


def _error_page(error: HTTPException) -> Any:
    if request.path.startswith(errors.API_PREFIX):
        return errors.handle_http_exception(error)
    status = error.code or 500
    message = {403: i18n.text("common.forbidden"),
               404: i18n.text("common.page_not_found")}.get(status, error.description)
    return render_template("error.html", status=status, message=message), status
