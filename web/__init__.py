"""The web application: `create_app(config)` is the one composition root."""

from __future__ import annotations

from flask import Flask

from config import Config
from ledger.application import Ledger


def create_app(config: Config | None = None) -> Flask:
    """A Flask app serving one Ledger (built here, kept in app.extensions["ledger"])."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = config.secret_key
    app.config["LEDGER_CONFIG"] = config
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["ledger"] = Ledger(config)

    from web.views import home

    app.register_blueprint(home.bp)
    return app
