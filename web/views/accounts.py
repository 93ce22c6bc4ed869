"""Accounts, for administrators: the list, a new account, disabling one (as `ledger user`)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger.commands import ROLES
from ledger.domain.errors import LedgerError
from web.auth import accounts
from web.views import i18n
from web.views.common import blueprint, page

bp = blueprint("ui_accounts")


@bp.get("/accounts")
@page("admin")
def accounts_page() -> ResponseReturnValue:
    return render_template("accounts.html", accounts=accounts().all(), roles=ROLES,
                           form={}, error=None)


@bp.post("/accounts")
@page("admin")
def add() -> ResponseReturnValue:
    form = request.form
    password = form.get("password", "")
    try:
        account = accounts().add(form.get("name", "").strip(), form.get("role", ""),
                                 password or None, form.get("organisation", "").strip() or None)
    except LedgerError as error:
        return render_template("accounts.html", accounts=accounts().all(), roles=ROLES,
                               form=form, error=error), 422
    flash(i18n.text("accounts.added", name=account.name), "success")
    return redirect(url_for(".accounts_page"))


@bp.post("/accounts/<name>/disable")
@page("admin")
def disable(name: str) -> ResponseReturnValue:
    accounts().disable(name)
    flash(i18n.text("accounts.disabled_done", name=name), "success")
    return redirect(url_for(".accounts_page"))
