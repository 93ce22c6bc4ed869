"""The subsidy ledger and clawback list (finance), and the findings auditors act on."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

from ledger.domain import rules
from ledger.projections import findings as findings_model
from ledger.projections import subsidies
from ledger.projections.report import write_report
from web.api.common import Blueprint, ledger
from web.api.schemas import StrictSchema, date_text
from web.auth import authenticate

blp = Blueprint("read_models", __name__, url_prefix="/api/v1",
                description="Subsidy ledger, clawbacks and findings (read models).")
blp.before_request(authenticate)


REPORT = {"description": "CSV, or JSON with format=json",
          "content": {"text/csv": {"schema": {"type": "string"}},
                      "application/json": {"schema": {}}}}


class SubsidyArgs(StrictSchema):
    as_of = fields.Date()
    prefecture = fields.String(validate=validate.OneOf(tuple(rules.PREFECTURES)))


class AsOfArgs(StrictSchema):
    as_of = fields.Date()


class FindingArgs(StrictSchema):
    as_of = fields.Date()
    park_code = fields.String(validate=validate.Length(min=1, max=40))
    prefecture = fields.String(validate=validate.OneOf(tuple(rules.PREFECTURES)))
    state = fields.String(validate=validate.OneOf(findings_model.STATES))
    severity = fields.String(validate=validate.OneOf(("breach", "shortfall", "noted")))
    source = fields.String(validate=validate.OneOf(("event", "clock")))


class ReportArgs(StrictSchema):
    as_of = fields.Date()
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "json")))


class BalancesSchema(Schema):
    park_code = fields.String()
    name = fields.String()
    prefecture = fields.String()
    prefecture_name = fields.String()
    parks = fields.Integer()
    revoked_on = date_text(allow_none=True)
    disbursed = fields.String()
    refund_demanded = fields.String()
    refunded = fields.String()
    net_retained = fields.String()
    outstanding = fields.String()
    overdue = fields.String()
    refunded_beyond_demand = fields.String()


class ClawbackSchema(Schema):
    park_code = fields.String(required=True)
    name = fields.String()
    prefecture = fields.String()
    revoked_on = date_text(allow_none=True)
    disbursed = fields.String()
    refund_demanded = fields.String()
    refunded = fields.String()
    owed = fields.String()
    outstanding = fields.String()
    overdue = fields.String()


class SubsidyLedgerSchema(Schema):
    as_of = date_text(required=True)
    parks = fields.List(fields.Nested(BalancesSchema), required=True)
    prefectures = fields.List(fields.Nested(BalancesSchema), required=True)
    province = fields.Nested(BalancesSchema, required=True)
    clawbacks = fields.List(fields.Nested(ClawbackSchema), required=True)


class SubsidyEntrySchema(Schema):
    version = fields.Integer()
    position = fields.Integer()
    kind = fields.String()
    amount_yuan = fields.String()
    effective_on = date_text()
    deadline = date_text(allow_none=True)
    reference = fields.String(allow_none=True)
    corrected_by = fields.List(fields.Integer())


class FindingSchema(Schema):
    finding_id = fields.String(required=True)
    park_code = fields.String(required=True)
    prefecture = fields.String()
    source = fields.String(metadata={"enum": ["event", "clock"]})
    article = fields.String()
    rule = fields.String()
    severity = fields.String()
    message = fields.String()
    state = fields.String(metadata={"enum": list(findings_model.STATES)})
    raised_on = date_text()
    due_on = date_text()
    raised_by = fields.Dict()
    resolved_by = fields.Dict(allow_none=True)
    closed_by = fields.Dict(allow_none=True)


@blp.route("/subsidies", methods=["GET"])
@blp.arguments(SubsidyArgs, location="query")
@blp.response(200, SubsidyLedgerSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def subsidy_ledger(args: dict[str, Any]) -> Any:
    """The subsidy ledger on a day: per park, per prefecture, the province, clawbacks"""
    return subsidies.ledger_report(ledger(), args.get("as_of"), args.get("prefecture"))


@blp.route("/subsidies/clawbacks", methods=["GET"])
@blp.arguments(AsOfArgs, location="query")
@blp.response(200, ClawbackSchema(many=True))
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def clawbacks(args: dict[str, Any]) -> Any:
    """Revoked parks and what they owe, were asked for and paid back (for finance)"""
    return subsidies.clawbacks(ledger(), args.get("as_of"))


@blp.route("/subsidies/<park_code>/entries", methods=["GET"])
@blp.response(200, SubsidyEntrySchema(many=True))
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def subsidy_entries(park_code: str) -> Any:
    """A park's money events, oldest first, with the corrections that changed them"""
    ledger().get_park(park_code)  # 404 for an unknown park
    return subsidies.entries(ledger(), park_code)


@blp.route("/subsidies/export", methods=["GET"])
@blp.arguments(ReportArgs, location="query")
@blp.doc(responses={"200": REPORT})
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def subsidy_export(args: dict[str, Any]) -> Response:
    """The subsidy ledger as CSV (a row per park, prefecture, province) or JSON"""
    return _report("subsidies", args["format"], args.get("as_of"))


@blp.route("/findings", methods=["GET"])
@blp.arguments(FindingArgs, location="query")
@blp.response(200, FindingSchema(many=True))
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def findings(args: dict[str, Any]) -> Any:
    """Every finding on a day (raised by an event or by the clock), filtered"""
    as_of = args.pop("as_of", None)
    return findings_model.findings(ledger(), as_of, **args)


@blp.route("/findings/export", methods=["GET"])
@blp.arguments(ReportArgs, location="query")
@blp.doc(responses={"200": REPORT})
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def findings_export(args: dict[str, Any]) -> Response:
    """Every finding as CSV or JSON"""
    return _report("findings", args["format"], args.get("as_of"))


def _report(name: str, fmt: str, as_of: date | None) -> Response:
    out = io.StringIO()
    write_report(ledger(), name, fmt, out, as_of)
    response = Response(out.getvalue(), mimetype="text/csv" if fmt == "csv"
                        else "application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
