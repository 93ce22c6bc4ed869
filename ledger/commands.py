"""The command vocabulary (DESIGN.md, "Commands and their fields"): one schema per command.

The same schemas check the JSON API's bodies, the lines of `ledger import` and the UI's forms.
They check syntax only (types, required fields, codes, unknown fields); rules live in the domain.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from marshmallow import ValidationError as SchemaError

from ledger.domain import rules
from ledger.domain.errors import ValidationError

MONEY = re.compile(r"^-?\d{1,13}(\.\d{1,2})?$")  # the sign is let through to say why
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ROLES = ("clerk", "finance", "auditor", "reviewer", "admin")


class Money(fields.Field[Decimal]):
    """Yuan as a decimal string ("2000000.00"), never a float; positive, at most 2 decimals."""

    default_error_messages = {
        "invalid": "must be a decimal string in yuan such as \"2000000.00\" (not a number)",
        "positive": "must be greater than zero",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or not MONEY.match(value):
            raise self.make_error("invalid")
        try:
            amount = Decimal(value).quantize(Decimal("0.01"))
        except InvalidOperation as error:  # pragma: no cover - the pattern admits only decimals
            raise self.make_error("invalid") from error
        if amount <= 0:
            raise self.make_error("positive")
        return amount

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{Decimal(value):.2f}"


def _text(required: bool = True, max_length: int = 2000) -> fields.String:
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=max_length))
    return fields.String(load_default="", validate=validate.Length(max=max_length))


def _code(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def _codes(choices: tuple[str, ...], required: bool = True, min_items: int = 0
           ) -> fields.List[str]:
    checks: list[Callable[[Any], Any]] = [validate.Length(min=min_items), _unique]
    if required:
        return fields.List(_code(choices), required=True, validate=checks)
    return fields.List(_code(choices), load_default=list, validate=checks)


def _unique(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise SchemaError("must not repeat an item")


def _score() -> fields.Integer:
    return fields.Integer(required=True, strict=True, validate=validate.Range(0, 100))


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class DocumentSchema(StrictSchema):
    title = _text(max_length=500)
    sha256 = fields.String(required=True, validate=validate.Regexp(
        SHA256, error="must be the SHA-256 of the file: 64 lower-case hex digits"))


class ActorSchema(StrictSchema):
    user = _text(max_length=200)
    role = _code(ROLES, required=True)
    organisation = _text(max_length=200)


class ObjectorSchema(StrictSchema):
    name = _text(max_length=200)
    contact = _text(required=False, max_length=200)


def _scores(dimensions: tuple[str, ...]) -> fields.Nested:
    schema = StrictSchema.from_dict({d: _score() for d in dimensions})
    return fields.Nested(schema, required=True)


COMMON: dict[str, fields.Field[Any]] = {
    "effective_on": fields.Date(required=True),
    "reason": _text(required=False),
    "documents": fields.List(fields.Nested(DocumentSchema), load_default=list),
    "idempotency_key": fields.String(load_default=None, validate=validate.Length(min=1, max=200)),
    "expected_version": fields.Integer(load_default=None, strict=True,
                                       validate=validate.Range(min=1)),
    "override_reason": fields.String(load_default=None, validate=validate.Length(min=1, max=2000)),
    "park_code": fields.String(required=True, validate=[
        validate.Length(min=1, max=40),
        validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                        error="letters, digits, '-' and '_' only, e.g. KM-2022-01")]),
}


@dataclass(frozen=True)
class CommandSpec:
    """One command of the contract: its event, who may send it, and its own fields."""

    name: str
    event: str
    roles: tuple[str, ...]
    fields: dict[str, fields.Field[Any]]
    uses_calendar: bool = False

    @property
    def schema(self) -> Schema:
        return _schema(self.name)


CLERK, FINANCE = ("clerk",), ("finance",)

SPECS = [
    CommandSpec("file_application", "ApplicationFiled", CLERK, {
        "name": _text(max_length=200),
        "prefecture": _code(tuple(rules.PREFECTURES), required=True),
        "applicant": _text(max_length=200),
        "agencies_count": fields.Integer(required=True, strict=True,
                                         validate=validate.Range(min=0)),
        "annual_revenue_yuan": Money(required=True),
        "public_services": _codes(rules.PUBLIC_SERVICES),
        "sub_parks": fields.List(_text(max_length=200), load_default=list, validate=_unique),
        "management_body": _text(required=False, max_length=200),
        "full_time_staff": fields.Integer(required=True, strict=True,
                                          validate=validate.Range(min=0)),
        "supporting_services": _codes(rules.SUPPORTING_SERVICES, required=False),
        "support_policies": _codes(rules.SUPPORT_POLICIES, required=False),
        "specialisation": _code(rules.SPECIALISATIONS, load_default="none"),
        "hardship_area": fields.Boolean(load_default=False),
        "relaxation_reason": _text(required=False),
    }),
    CommandSpec("supplement_materials", "MaterialsSupplemented", CLERK, {"note": _text()}),
    CommandSpec("withdraw_application", "ApplicationWithdrawn", CLERK, {}),
    CommandSpec("open_evaluation", "EvaluationOpened", CLERK, {
        "panel": fields.List(_text(max_length=200), required=True,
                             validate=validate.Length(min=1)),
    }),
    CommandSpec("record_expert_opinion", "ExpertOpinionRecorded", CLERK, {
        "expert": _text(max_length=200),
        "organisation": _text(max_length=200),
        "scores": _scores(rules.EXPERT_DIMENSIONS),
        "recommendation": _code(rules.RECOMMENDATIONS, required=True),
        "remarks": _text(required=False),
    }),
    CommandSpec("conclude_evaluation", "EvaluationConcluded", CLERK, {
        "outcome": _code(rules.EVALUATION_OUTCOMES, required=True),
    }),
    CommandSpec("start_publicity", "PublicityStarted", CLERK, {
        "starts_on": fields.Date(required=True),
        "ends_on": fields.Date(required=True),
        "channel": _text(max_length=500),
    }, uses_calendar=True),
    CommandSpec("raise_objection", "ObjectionRaised", CLERK, {
        "objection_no": _text(max_length=100),
        "received_on": fields.Date(required=True),
        "objector": fields.Nested(ObjectorSchema, required=True),
        "grounds": _text(),
    }),
    CommandSpec("resolve_objection", "ObjectionResolved", CLERK, {
        "objection_no": _text(max_length=100),
        "outcome": _code(rules.OBJECTION_OUTCOMES, required=True),
        "finding": _text(),
    }),
    CommandSpec("close_publicity", "PublicityClosed", CLERK, {}),
    CommandSpec("approve_park", "ParkApproved", CLERK, {"approval_no": _text(max_length=100)},
                uses_calendar=True),
    CommandSpec("award_plaque", "PlaqueAwarded", CLERK, {"plaque_no": _text(max_length=100)}),
    CommandSpec("reject_application", "ApplicationRejected", CLERK, {}),
    CommandSpec("add_sub_park", "SubParkAdded", CLERK, {
        "name": _text(max_length=200), "request_letter_no": _text(max_length=100),
    }),
    CommandSpec("disburse_subsidy", "SubsidyDisbursed", FINANCE, {
        "amount_yuan": Money(required=True), "voucher_no": _text(max_length=100),
    }),
    CommandSpec("report_self_evaluation", "SelfEvaluationReported", CLERK, {
        "year": fields.Integer(required=True, strict=True, validate=validate.Range(2021, 2200)),
        "summary": _text(),
    }),
    CommandSpec("grade_evaluation", "EvaluationGraded", CLERK, {
        "cycle": fields.String(required=True, validate=validate.Regexp(
            r"^\d{4}-\d{4}$", error="must be two years, e.g. 2022-2024")),
        "grade": _code(rules.GRADES, required=True),
        "scores": _scores(rules.GRADE_DIMENSIONS),
    }),
    CommandSpec("issue_commendation", "CommendationIssued", CLERK,
                {"notice_no": _text(max_length=100)}),
    CommandSpec("recommend_national", "NationalRecommendationMade", CLERK,
                {"letter_no": _text(max_length=100)}),
    CommandSpec("order_rectification", "RectificationOrdered", CLERK, {
        "notice_no": _text(max_length=100), "grounds": _text(),
        "deadline": fields.Date(required=True),
    }),
    CommandSpec("complete_rectification", "RectificationCompleted", CLERK,
                {"verified_by": _text(max_length=200)}),
    CommandSpec("revoke_plaque", "PlaqueRevoked", CLERK, {
        "decision_no": _text(max_length=100),
        "grounds": _codes(rules.REVOCATION_GROUNDS, min_items=1),
    }),
    CommandSpec("demand_refund", "RefundDemanded", FINANCE, {
        "amount_yuan": Money(required=True), "deadline": fields.Date(required=True),
        "notice_no": _text(max_length=100),
    }),
    CommandSpec("receive_refund", "RefundReceived", FINANCE, {
        "amount_yuan": Money(required=True), "voucher_no": _text(max_length=100),
    }),
    CommandSpec("correct_entry", "EntryCorrected", ("clerk", "finance"), {
        "corrects_version": fields.Integer(required=True, strict=True,
                                           validate=validate.Range(min=1)),
        "field": _text(max_length=100),
        "wrong_value": fields.String(required=True, validate=validate.Length(max=2000)),
        "right_value": fields.String(required=True, validate=validate.Length(max=2000)),
    }),
    CommandSpec("close_finding", "FindingClosed", ("auditor",),
                {"finding_id": _text(max_length=200)}),
]
COMMANDS: dict[str, CommandSpec] = {spec.name: spec for spec in SPECS}
COMMON_KEYS = ("effective_on", "reason", "documents", "idempotency_key", "expected_version",
               "override_reason", "park_code")

_schemas: dict[str, Schema] = {}


def _schema(name: str) -> Schema:
    if name not in _schemas:
        spec = COMMANDS[name]
        schema_class = StrictSchema.from_dict({**COMMON, **spec.fields}, name=f"{name}_schema")
        _schemas[name] = schema_class()
    return _schemas[name]


def load_command(name: str, payload: Any) -> dict[str, Any]:
    """The command's fields, typed; ValidationError naming the first bad field otherwise."""
    if name not in COMMANDS:
        raise ValidationError("command", f"unknown command {name!r}")
    if not isinstance(payload, dict):
        raise ValidationError("body", "must be a JSON object")
    try:
        return dict(COMMANDS[name].schema.load(payload))
    except SchemaError as error:
        messages = _normalized(error)
        field, message = _first_message(messages)
        raise ValidationError(field, message, errors=messages) from None


_ACTOR = ActorSchema()  # marshmallow schemas keep no state between loads: one serves all


def load_actor(payload: Any) -> dict[str, str]:
    """An actor {user, role, organisation}, as `ledger import` takes it per line."""
    if isinstance(payload, dict) and all(type(v) is str for v in payload.values()):
        # every line of an import names one of a few actors: each is checked once
        return dict(_checked_actor(tuple(sorted(payload.items()))))
    return dict(_load_actor(payload if isinstance(payload, dict) else {}))


@functools.lru_cache(maxsize=256)
def _checked_actor(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return _load_actor(dict(items))


def _load_actor(payload: dict[str, Any]) -> dict[str, str]:
    try:
        return dict(_ACTOR.load(payload))
    except SchemaError as error:
        field, message = _first_message(_normalized(error))
        raise ValidationError(f"actor.{field}", message) from None


def _normalized(error: SchemaError) -> Any:
    return error.normalized_messages()  # type: ignore[no-untyped-call]


def _first_message(messages: Any, prefix: str = "") -> tuple[str, str]:
    if isinstance(messages, dict):
        key = sorted(messages, key=str)[0]
        name = "" if key == "_schema" else str(key)  # list indexes are ints: 0 is a name too
        return _first_message(messages[key], ".".join(p for p in (prefix, name) if p))
    if isinstance(messages, list) and messages:
        first = messages[0]
        if isinstance(first, str):
            text = "unknown field" if first == "Unknown field." else first
            return prefix or "body", text
        return _first_message(first, prefix)
    return prefix or "body", str(messages)
