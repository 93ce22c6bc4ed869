"""Log in with name and password (a session), log out, and switch the language."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from ledger.accounts import AuthenticationError
from web.auth import SessionUser, accounts, login_limit
from web.views import i18n
from web.views.common import blueprint

bp = blueprint("ui_login")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) to go back to."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("ui_dashboard.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error, status, name = None, 200, ""
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        try:
            with login_limit():
                account = accounts().login(name, request.form.get("password", ""))
        except AuthenticationError:
            error, status = i18n.text("login.failed"), 401
        except TooManyRequests:
            error, status = i18n.text("login.limited"), 429
        else:
            login_user(SessionUser(account))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, name=name), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    flash(i18n.text("logout.done"), "info")
    return redirect(url_for("ui_login.login"))


@bp.get("/lang/<code>")
def language(code: str) -> ResponseReturnValue:
    i18n.choose(code)
    return redirect(_safe_next(request.args.get("next")))
