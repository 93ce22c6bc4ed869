"""The JSON API under /api/v1, its OpenAPI 3 document at /api/openapi.json and a Swagger UI page
at /api/docs whose assets we serve ourselves (the swagger-ui-bundle package): no CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, render_template, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException

from ledger.commands import MONEY, Money
from web import errors
from web.api import accounts, audit, commands, integrity, money, parks, session
from web.api.schemas import ErrorSchema

HERE = Path(__file__).parent
BLUEPRINTS = (session, commands, parks, audit, money, integrity, accounts)
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


class LedgerApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with the ledger's error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        return errors.handle_http_exception(error)


def schema_name(schema: Any) -> str | None:
    """Component names: commands as FileApplicationCommand; anonymous nested ones inline."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    if name.endswith("_schema"):
        return "".join(p.title() for p in name[: -len("_schema")].split("_")) + "Command"
    if name == "GeneratedSchema":
        return None
    base = name.removesuffix("Schema")
    return f"Command{base}" if cls.__module__ == "ledger.commands" else base


def _money_pattern(self: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
    if isinstance(field, Money):
        return {"pattern": MONEY.pattern, "example": "2000000.00",
                "description": "yuan as a decimal string, never a number"}
    return {}


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Park Ledger API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "Event-sourced audit ledger of Yunnan's provincial HR "
                                    "service industrial parks (云人社通〔2021〕75号). Send "
                                    "`Authorization: Bearer <token>` (`ledger user token NAME`)."},
            "security": [{"bearerAuth": []}, {"session": []}],
        })
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    api = LedgerApi(app, spec_kwargs={"marshmallow_plugin": plugin})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session",
                    "description": "after POST /api/v1/session; read-only on the API"})
    api.register_field(Money, "string", None)
    plugin.converter.add_attribute_function(_money_pattern)
    for module in BLUEPRINTS:
        api.register_blueprint(module.blp)
    app.register_blueprint(_docs_blueprint())
    app.extensions["ledger_api"] = api


def _docs_blueprint() -> Blueprint:
    docs = Blueprint("api_page", __name__, url_prefix="/api/docs",
                     template_folder="templates", static_folder="static")

    @docs.route("/")
    def page() -> Response:
        response = Response(render_template("api_docs.html"))
        response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

    @docs.route("/swagger-ui/<path:filename>")
    def swagger_asset(filename: str) -> Response:
        return send_from_directory(swagger_ui_path, filename, max_age=3600)

    return docs
