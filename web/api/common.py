"""What every API blueprint uses: the ledger of this app and the documented error statuses."""

from __future__ import annotations

from typing import cast

from flask import current_app

from ledger.application import Ledger

# Statuses an endpoint may answer with the Error body (documented on every operation).
ERRORS = (400, 401, 403, 404, 409, 412, 413, 415, 422)
READ_ERRORS = (401, 403, 404, 422)


def ledger() -> Ledger:
    return cast(Ledger, current_app.extensions["ledger"])
