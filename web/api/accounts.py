"""Account management for administrators (the CLI `ledger user …` does the same)."""

from __future__ import annotations

from typing import Any

from web.api.common import Blueprint
from web.api.schemas import AccountSchema, NewAccountSchema, TokenSchema
from web.auth import accounts, requires

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts",
                description="Accounts and API tokens (role admin only).")


@blp.route("", methods=["GET"])
@requires("admin")
@blp.response(200, AccountSchema(many=True))
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
def list_accounts() -> Any:
    """Every account"""
    return [a.as_dict() for a in accounts().all()]


@blp.route("", methods=["POST"])
@requires("admin")
@blp.arguments(NewAccountSchema)
@blp.response(201, AccountSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
def add_account(new: dict[str, Any]) -> Any:
    """Create an account (a password only if it logs in to the UI)"""
    return accounts().add(new["name"], new["role"], new.get("password"),
                          new.get("organisation")).as_dict()


@blp.route("/<name>/disable", methods=["POST"])
@requires("admin")
@blp.response(200, AccountSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def disable_account(name: str) -> Any:
    """Disable an account: its password and tokens stop working"""
    return accounts().disable(name).as_dict()


@blp.route("/<name>/tokens", methods=["POST"])
@requires("admin")
@blp.response(201, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def issue_token(name: str) -> Any:
    """Issue a bearer token for an account (shown once)"""
    return {"token": accounts().issue_token(name)}
