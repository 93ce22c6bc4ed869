"""A park's state and timeline, straight from its events."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask_smorest import Blueprint

from ledger.privacy import mask_records
from web.api.common import READ_ERRORS, ledger
from web.api.schemas import EventSchema, ParkSchema
from web.auth import current_account

blp = Blueprint("parks", __name__, url_prefix="/api/v1/parks",
                description="Parks: state, timeline, and the past as it was known or in force.")


def errors(*statuses: int) -> Any:
    def decorate(view: Any) -> Any:
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view
    return decorate


@blp.route("/<park_code>", methods=["GET"])
@blp.response(200, ParkSchema, headers={"ETag": {"description": "the park's version, for "
                                                                "If-Match",
                                                 "schema": {"type": "string"}}})
@errors(*READ_ERRORS)
def park_state(park_code: str) -> Any:
    """A park's current state, rebuilt from its events"""
    current_account()
    park = ledger().park(park_code)
    return park, 200, {"ETag": f'"{park["version"]}"'}


@blp.route("/<park_code>/timeline", methods=["GET"])
@blp.response(200, EventSchema(many=True))
@errors(*READ_ERRORS)
def timeline(park_code: str) -> Any:
    """Every event of a park, oldest first (objector identities masked but for reviewers)"""
    account = current_account()
    return mask_records(ledger().timeline(park_code), account.role)
