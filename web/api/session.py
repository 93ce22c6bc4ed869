"""Login sessions for people, and who am I."""

from __future__ import annotations

from typing import Any

from flask_login import login_user, logout_user

from web.api.common import Blueprint
from web.api.schemas import AccountSchema, LoginSchema
from web.auth import SessionUser, accounts, current_account, login_limit

blp = Blueprint("session", __name__, url_prefix="/api/v1",
                description="Password login (a session cookie, for the UI) and the account.")


@blp.route("/session", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, AccountSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[])
def login(credentials: dict[str, str]) -> Any:
    """Log in with name and password; rate limited per client address"""
    with login_limit():
        account = accounts().login(credentials["name"], credentials["password"])
    login_user(SessionUser(account))
    return account.as_dict()


@blp.route("/session", methods=["DELETE"])
@blp.response(204)
def logout() -> Any:
    """Log out (end the session)"""
    logout_user()
    return None


@blp.route("/me", methods=["GET"])
@blp.response(200, AccountSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def me() -> Any:
    """The authenticated account: its name, role and organisation"""
    return current_account().as_dict()
