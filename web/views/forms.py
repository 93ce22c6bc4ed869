"""Forms for clerks and finance: one per command, generated from its schema.

A refused command re-renders the form with every value kept and the API's message next to the
field it names. A breach of the regulation opens the override step: the articles are shown and
the form is sent again only with an override reason. Each rendered form carries an idempotency
key (a double click records once) and the park's version it showed (a clerk who raced another
is told, not silently overwritten).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ledger.commands import COMMANDS
from ledger.domain import rules
from ledger.domain.errors import ConcurrencyError, LedgerError, RuleBreach
from ledger.projections import park_status
from web.views import i18n
from web.views.common import WRITERS, account, blueprint, error_text, ledger, ledger_today, page
from web.views.form_fields import all_names, flatten_errors, form_fields, owner, payload

bp = blueprint("ui_forms")
PARK_CHOICES = 2000


def commands_for(role: str) -> list[str]:
    return [name for name, spec in COMMANDS.items() if role in spec.roles and
            role in WRITERS]


@bp.get("/forms")
@page(*WRITERS)
def index() -> ResponseReturnValue:
    return render_template("forms_index.html", commands=commands_for(account().role),
                           park=request.args.get("park", ""))


@bp.route("/forms/<command>", methods=["GET", "POST"])
@page(*WRITERS)
def command_form(command: str) -> ResponseReturnValue:
    if command not in commands_for(account().role):
        abort(404 if command not in COMMANDS else 403)
    items = form_fields(command)
    if request.method == "GET":
        return _render(command, items, _initial(command), {}, None, [])
    values = request.form
    errors: dict[str, list[str]] = {}
    breaches: list[dict[str, str]] = []
    if values.get("override_step") and not values.get("override_reason", "").strip():
        errors["override_reason"] = [i18n.text("forms.override_required")]
        breaches = _breaches_from(values)
        return _render(command, items, values.to_dict(flat=False), errors, None, breaches), 422
    try:
        result = ledger().execute(command, payload(command, values, request.files),
                                  account().actor)
    except RuleBreach as breach:
        return _render(command, items, values.to_dict(flat=False), {}, None,
                       breach.breaches), 422
    except LedgerError as error:
        kept = values.to_dict(flat=False)
        if isinstance(error, ConcurrencyError):
            kept["expected_version"] = [str(error.details["actual"])]
            message = i18n.text("forms.stale", v=error.details["actual"])
        else:
            message = error_text(error)
        return _render(command, items, kept, _field_errors(error, items), message,
                       []), 422
    key = "forms.replayed" if result.get("replayed") else "forms.recorded"
    flash(i18n.text(key, park=result["park_code"], v=result["version"],
                    event=i18n.term("event", result["event_type"]),
                    hash=result["hash"][:16]), "success")
    return redirect(url_for("ui_parks.park", code=result["park_code"]) +
                    f"#v{result['version']}")


def _initial(command: str) -> dict[str, list[str]]:
    """A fresh form: a new idempotency key, today's date, the park and the version it shows."""
    values = {"idempotency_key": [f"ui-{uuid.uuid4().hex}"],
              "effective_on": [ledger_today().isoformat()]}
    code = request.args.get("park", "").strip()
    if code and command != "file_application":
        values["park_code"] = [code]
        table = park_status.PARK_STATUS
        with ledger().engine.connect() as conn:
            version = conn.scalar(sa.select(table.c.version).where(table.c.park_code == code))
        if version is not None:
            values["expected_version"] = [str(version)]
    if command == "disburse_subsidy":
        values["amount_yuan"] = [f"{rules.OPENING_SUBSIDY_YUAN:.2f}"]
    return values


def _field_errors(error: LedgerError, items: list[Any]) -> dict[str, list[str]]:
    """The error's messages keyed by the form input they belong to ("" for the form as a
    whole)."""
    names = all_names(items) | {"override_reason", "expected_version"}
    found: dict[str, list[str]] = {}
    detailed = flatten_errors(error.details.get("errors")) if error.details.get("errors") \
        else {error.field or "": [error.message]}
    for path, texts in detailed.items():
        target = owner(path, names) or ""
        prefix = "" if target == path or not target else f"{path.removeprefix(target + '.')}: "
        found.setdefault(target, []).extend(prefix + i18n.field_message(t) for t in texts)
    return found


def _breaches_from(values: Any) -> list[dict[str, str]]:
    articles = values.getlist("breach_article")
    rules_ = values.getlist("breach_rule")
    messages = values.getlist("breach_message")
    return [{"article": a, "rule": r, "message": m}
            for a, r, m in zip(articles, rules_, messages, strict=False)]


def _park_choices() -> list[dict[str, Any]]:
    """Codes, names and statuses for the park picker (the read model's stored columns only)."""
    table = park_status.PARK_STATUS
    query = (sa.select(table.c.park_code, table.c.name, table.c.status)
             .order_by(table.c.park_code).limit(PARK_CHOICES))
    with ledger().engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def _render(command: str, items: list[Any], values: dict[str, list[str]],
            errors: dict[str, list[str]], message: str | None,
            breaches: list[dict[str, str]]) -> str:
    parks = _park_choices() if command != "file_application" else []
    return render_template("form.html", command=command, spec=COMMANDS[command], items=items,
                           values=values, errors=errors, message=message, breaches=breaches,
                           parks=parks, prefectures=rules.PREFECTURES)
