"""What every page uses: the ledger, the logged-in account, the role check, and display helpers."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ledger.accounts import Account
from ledger.application import Ledger
from ledger.domain.errors import LedgerError
from ledger.privacy import mask_record, sees_protected
from ledger.projections import report
from ledger.projections.runner import today

F = TypeVar("F", bound=Callable[..., Any])
WRITERS = ("clerk", "finance")


def blueprint(name: str) -> Blueprint:
    """A UI blueprint whose unexpected refusals (an unknown park in a link, say) are pages."""
    bp = Blueprint(name, __name__)
    bp.register_error_handler(LedgerError, refusal_page)
    return bp


def error_text(error: LedgerError) -> str:
    """A refusal as one line: its kind in the page's language, then the ledger's own words."""
    from web.views import i18n

    kind = i18n.UI.get(f"error.{error.code}")
    label = i18n.text(f"error.{error.code}") if kind else i18n.text("error.ledger_error")
    return f"{label}: {i18n.field_message(error.message)}"


def refusal_page(error: LedgerError) -> Any:
    from web.errors import status_of

    status = status_of(error)
    return render_template("error.html", status=status, message=error_text(error)), status


def ledger() -> Ledger:
    return cast(Ledger, current_app.extensions["ledger"])


def account() -> Account:
    """The logged-in account (pages are only reached through `page`, which checks it)."""
    return cast(Account, current_user.account)


def page(*roles: str) -> Callable[[F], F]:
    """A page for logged-in people; with roles named, only those roles (403 for the others)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("ui_login.login", next=request.full_path.rstrip("?")))
            if roles and account().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def can_write() -> bool:
    return current_user.is_authenticated and account().role in WRITERS


def masked(record: dict[str, Any]) -> dict[str, Any]:
    """An event record as this account may see it (objectors only for reviewers)."""
    return mask_record(record, account().role)


def sees_objectors() -> bool:
    return sees_protected(account().role)


def ledger_today() -> date:
    return today(ledger())


def zone() -> ZoneInfo:
    return ledger().timezone


def local_time(value: str | datetime | None) -> str:
    """A recorded time in the ledger's time zone, to the second, with its offset."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(zone())
    return local.strftime("%Y-%m-%d %H:%M:%S ") + local.strftime("%z")[:3] + ":" + \
        local.strftime("%z")[3:]


def park_href(code: str) -> str:
    """`url_for('ui_parks.park', code=code)`, written without building the URL from the routes
    each time: a finance page links some 700 parks (url_for was 40 % of its rendering)."""
    return f"{request.script_root}/parks/{quote(code, safe='')}"


def money(value: str | Decimal | None) -> str:
    """Yuan with thousands separators and two decimals: 2,000,000.00."""
    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError):
        return str(value)


def int_arg(name: str, default: int, low: int = 1, high: int = 10_000) -> int:
    """A whole-number query parameter, kept within bounds (a bad one falls back to default)."""
    raw = request.args.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return max(low, min(high, value))


def date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def local_datetime_arg(name: str) -> datetime | None:
    """A `datetime-local` input (no offset) read in the ledger's time zone."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone())


def report_download(name: str, fmt: str, day: date, filename: str) -> Response:
    """A report as `ledger report NAME` writes it, as a download (CSV with a BOM for Excel)."""
    out = io.StringIO()
    if fmt == "csv":
        out.write("\ufeff")
    report.write_report(ledger(), name, fmt, out, as_of=day)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(out.getvalue(), mimetype=f"{mimetype}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}-{day}.{fmt}"'})
