"""The web application: `create_app(config)` is the one composition root."""

from __future__ import annotations

from flask import Flask

from config import Config
from ledger.accounts import Accounts
from ledger.application import Ledger
from web import api, auth, errors, security
from web.json_provider import OrjsonProvider

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: Config | None = None, *, ledger: Ledger | None = None) -> Flask:
    """A Flask app serving one Ledger (built here unless given, kept in
    app.extensions["ledger"])."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["SECRET_KEY"] = config.secret_key
    app.config["LEDGER_CONFIG"] = config
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax")
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["ledger"] = ledger if ledger is not None else Ledger(config)
    app.extensions["accounts"] = Accounts(app.extensions["ledger"].engine)
    errors.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    api.init_app(app)

    from web import views

    views.init_app(app)
    return app

