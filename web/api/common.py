"""What every API blueprint uses: the ledger of this app and the documented error statuses."""

from __future__ import annotations

from typing import cast

from flask import current_app
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from ledger.application import Ledger

# Statuses an endpoint may answer with the Error body (documented on every operation).
ERRORS = (400, 401, 403, 404, 409, 412, 413, 415, 422)
READ_ERRORS = (401, 403, 404, 422)


def ledger() -> Ledger:
    return cast(Ledger, current_app.extensions["ledger"])


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint whose parameters follow their schema's `unknown` (RAISE): a
    mistyped filter is refused instead of silently matching everything."""

    ARGUMENTS_PARSER = FlaskParser(unknown=None)
