"""Marshmallow schemas of what the API answers (the command bodies are ledger/commands.py's)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from ledger.commands import ROLES


def date_text(**kwargs: Any) -> fields.String:
    return fields.String(metadata={"format": "date"}, **kwargs)


def datetime_text(**kwargs: Any) -> fields.String:
    return fields.String(metadata={"format": "date-time"}, **kwargs)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable error code"})
    message = fields.String(required=True)
    field = fields.String(required=True, allow_none=True,
                          metadata={"description": "the field, parameter or header at fault"})
    article = fields.String(metadata={"description": "the article of the regulation breached"})
    details = fields.Dict(metadata={"description": "more, e.g. every breach and how to "
                                                   "override it, or every field error"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class ActorSchema(Schema):
    user = fields.String()
    role = fields.String()
    organisation = fields.String()


class DocumentSchema(Schema):
    title = fields.String()
    sha256 = fields.String()


class FlagSchema(Schema):
    article = fields.String()
    rule = fields.String()
    message = fields.String()
    severity = fields.String(metadata={"enum": ["breach", "shortfall", "noted"]})
    finding_id = fields.String()


class RecordedEventSchema(Schema):
    """What a command recorded: the event's place in its park's chain."""

    park_code = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "the park's new version"})
    event_type = fields.String(required=True)
    hash = fields.String(required=True)
    prev_hash = fields.String(required=True)
    recorded_at = datetime_text(required=True)
    effective_on = date_text(required=True)
    flags = fields.List(fields.Nested(FlagSchema), required=True)
    position = fields.Integer(metadata={"description": "position in the global log"})
    replayed = fields.Boolean(metadata={"description": "true when the Idempotency-Key was "
                                                      "seen before: nothing new was written"})


class EventSchema(Schema):
    """One event of the log, with its own fields under `fields`."""

    position = fields.Integer()
    park_code = fields.String(required=True)
    version = fields.Integer(required=True)
    event_type = fields.String(required=True)
    effective_on = date_text(required=True)
    recorded_at = datetime_text(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    reason = fields.String()
    documents = fields.List(fields.Nested(DocumentSchema))
    override_reason = fields.String(allow_none=True)
    idempotency_key = fields.String(allow_none=True)
    flags = fields.List(fields.Nested(FlagSchema))
    prev_hash = fields.String()
    hash = fields.String()
    fields_ = fields.Dict(data_key="fields", attribute="fields")


class SubsidyTotalsSchema(Schema):
    disbursed = fields.String()
    refund_demanded = fields.String()
    refunded = fields.String()


class ParkSchema(Schema):
    """A park's state, rebuilt from its events."""

    park_code = fields.String(required=True)
    name = fields.String()
    prefecture = fields.String()
    applicant = fields.String()
    status = fields.String()
    version = fields.Integer()
    filed_on = date_text(allow_none=True)
    sub_parks = fields.List(fields.String())
    evaluation_outcome = fields.String(allow_none=True)
    publicity = fields.Dict(allow_none=True)
    objections = fields.Dict(metadata={"description": "objection number → open/upheld/dismissed"})
    approved_on = date_text(allow_none=True)
    approval_no = fields.String(allow_none=True)
    plaque_no = fields.String(allow_none=True)
    revoked_on = date_text(allow_none=True)
    grades = fields.Raw()
    latest_grade = fields.String(allow_none=True)
    self_evaluations = fields.Raw()
    rectification = fields.Raw(allow_none=True)
    subsidy = fields.Nested(SubsidyTotalsSchema)
    raised_findings = fields.List(fields.String())
    closed_findings = fields.List(fields.String())
    corrected_versions = fields.Raw()
    head_hash = fields.String()


class ParkCodeArgs(StrictSchema):
    park_code = fields.String(required=True)


class LoginSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=500),
                             load_only=True)


class AccountSchema(Schema):
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": list(ROLES)})
    organisation = fields.String(required=True)
    disabled = fields.Boolean(required=True)


class NewAccountSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=64))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    organisation = fields.String(validate=validate.Length(min=1, max=200))
    password = fields.String(validate=validate.Length(min=8, max=500), load_only=True)


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "shown once; send it as "
                                                                  "Authorization: Bearer …"})


class DigestSchema(Schema):
    events = fields.Integer(required=True)
    head = fields.String(required=True)
    last_position = fields.Integer(required=True)


class VerificationSchema(Schema):
    ok = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    parks = fields.Integer(required=True)
    digest = fields.Nested(DigestSchema, required=True)
    first_failure = fields.Dict(allow_none=True)
