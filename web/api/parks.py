"""Parks: the list (park-status read model), a park's state and timeline, and its past as it was
known at a recorded time or in force on a date, step by step, and compared."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ledger import timetravel
from ledger.privacy import mask_record, mask_records
from ledger.projections import park_status
from web.api.common import READ_ERRORS, Blueprint, ledger
from web.api.schemas import (
    AsOfArgs,
    DiffArgs,
    DiffSchema,
    EffectiveOnArgs,
    EffectiveOnSchema,
    EventSchema,
    KnownAtArgs,
    KnownAtSchema,
    ParkListArgs,
    ParkPageSchema,
    ParkSchema,
    ParkStatusSchema,
    ReplayArgs,
    ReplaySchema,
    as_documented,
)
from web.auth import authenticate, current_account

blp = Blueprint("parks", __name__, url_prefix="/api/v1/parks",
                description="Parks: state, timeline, and the past as it was known or in force.")
blp.before_request(authenticate)
ETAG = {"ETag": {"description": "the park's version, for If-Match", "schema": {"type": "string"}}}


def errors(*statuses: int) -> Any:
    def decorate(view: Any) -> Any:
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view
    return decorate


@blp.route("", methods=["GET"])
@blp.arguments(ParkListArgs, location="query")
@blp.response(200, ParkPageSchema)
@errors(401, 422)
def list_parks(args: dict[str, Any]) -> Any:
    """Every park with its status, next due item and open findings; filters and pages"""
    current_account()
    offset, limit = args["offset"], args["limit"]
    found, total = park_status.parks_page(
        ledger(), args.get("as_of"), prefecture=args.get("prefecture"),
        status=args.get("status"), offset=offset, limit=limit)
    return {"parks": found, "total": total, "offset": offset, "limit": limit}


@blp.route("/<park_code>", methods=["GET"])
@blp.response(200, ParkSchema, headers=ETAG)
@errors(*READ_ERRORS)
def park_state(park_code: str) -> Any:
    """A park's current state, rebuilt from its events"""
    current_account()
    park = ledger().park(park_code)
    return as_documented(park), 200, {"ETag": f'"{park["version"]}"'}


@blp.route("/<park_code>/status", methods=["GET"])
@blp.arguments(AsOfArgs, location="query")
@blp.response(200, ParkStatusSchema)
@errors(*READ_ERRORS)
def status(args: dict[str, Any], park_code: str) -> Any:
    """A park's status on a day: next due item, open findings (park-status read model)"""
    current_account()
    return park_status.status(ledger(), park_code, args.get("as_of"))


@blp.route("/<park_code>/timeline", methods=["GET"])
@blp.response(200, EventSchema(many=True))
@errors(*READ_ERRORS)
def timeline(park_code: str) -> Any:
    """Every event of a park, oldest first (objector identities masked but for reviewers)"""
    account = current_account()
    return mask_records(ledger().timeline(park_code), account.role)


@blp.route("/<park_code>/as-known-at", methods=["GET"])
@blp.arguments(KnownAtArgs, location="query")
@blp.response(200, KnownAtSchema)
@errors(*READ_ERRORS)
def known_at(args: dict[str, Any], park_code: str) -> Any:
    """The park's state and a page of its timeline using only events recorded at or before `at`"""
    account = current_account()
    found = timetravel.as_known_at(ledger(), park_code, args["at"], after=args["after"],
                                   limit=args["limit"])
    return {**found, "timeline": mask_records(found["timeline"], account.role)}


@blp.route("/<park_code>/as-effective-on", methods=["GET"])
@blp.arguments(EffectiveOnArgs, location="query")
@blp.response(200, EffectiveOnSchema)
@errors(*READ_ERRORS)
def effective_on(args: dict[str, Any], park_code: str) -> Any:
    """The park's state using only events effective on or before `on`"""
    account = current_account()
    found = timetravel.as_effective_on(ledger(), park_code, args["on"])
    return {**found, "timeline": mask_records(found["timeline"], account.role)}


@blp.route("/<park_code>/replay", methods=["GET"])
@blp.arguments(ReplayArgs, location="query")
@blp.response(200, ReplaySchema)
@errors(*READ_ERRORS)
def replay(args: dict[str, Any], park_code: str) -> Any:
    """Step through the park's history: each event, the state after it, what it changed"""
    account = current_account()
    found = timetravel.replay(ledger(), park_code, args["order"], args["start"], args["limit"])
    steps = [{**step, "event": mask_record(step["event"], account.role)}
             for step in found["steps"]]
    return {**found, "steps": steps}


@blp.route("/<park_code>/diff", methods=["GET"])
@blp.arguments(DiffArgs, location="query")
@blp.response(200, DiffSchema)
@errors(*READ_ERRORS)
def diff(args: dict[str, Any], park_code: str) -> Any:
    """What differs in the park's state between two moments (dates or zoned date-times)"""
    current_account()
    return timetravel.compare(ledger(), park_code, args["before"], args["after"])
