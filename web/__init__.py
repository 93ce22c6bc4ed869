"""The web application: `create_app(config)` is the one composition root."""

from __future__ import annotations

import gc

from flask import Flask

from config import Config
from ledger.accounts import Accounts
from ledger.application import Ledger
from web import api, auth, errors, security

MAX_BODY_BYTES = 1024 * 1024
FULL_COLLECTION_EVERY = 100  # collections of the middle generation per full one (Python: 10)


def create_app(config: Config | None = None, *, ledger: Ledger | None = None) -> Flask:
    """A Flask app serving one Ledger (built here unless given, kept in
    app.extensions["ledger"])."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = config.secret_key
    app.config["LEDGER_CONFIG"] = config
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["ledger"] = ledger if ledger is not None else Ledger(config)
    app.extensions["accounts"] = Accounts(app.extensions["ledger"].engine)
    errors.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    api.init_app(app)

    from web import views

    views.init_app(app)
    return app


def tune_gc_for_serving() -> None:
    """Python's cycle collector, set for a long-lived server process (call once the app is
    built): what start-up made is frozen, never walked again, and the oldest generation is
    collected a tenth as often. A full collection walks everything the process keeps (the
    read models' kept answers and summaries among them): on `large` a finance page paused
    ~65 ms every dozen requests for it. Young cycles are still collected as before."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
