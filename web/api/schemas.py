"""Marshmallow schemas of what the API answers (the command bodies are ledger/commands.py's)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Response, jsonify
from marshmallow import RAISE, Schema, fields, validate

from ledger import timetravel
from ledger.commands import ROLES
from ledger.domain import rules


def as_documented(data: Any) -> Response:
    """A JSON response for data our own code already built in the shape of the endpoint's
    documented schema (read-model records, park summaries), sent without the schema's
    field-by-field dump: that dump was 40 % of an audit-log page's time and changes nothing
    here (tests/api/test_queries_api.py checks the bodies equal their own dump)."""
    return jsonify(data)


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
    fields_ = fields.Dict(data_key="fields", attribute="fields",
                          metadata={"description": "the event's own fields"})
    corrected_by = fields.List(fields.Integer(), metadata={
        "description": "versions of the corrections that name this event"})
    prefecture = fields.String(metadata={"description": "audit log: the park's prefecture"})


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
    unapplied = fields.Raw(metadata={"description": "time travel: corrections not applied"})


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


# ------------------------------------------------------------------ query parameters


class Moment(fields.Field):
    """A date (as effective on) or a date-time with a zone (as known at)."""

    default_error_messages = {
        "invalid": "must be a date (2026-03-01: as effective on) or a date-time with a zone "
                   "(2026-03-01T12:00:00+08:00: as known at)",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            raise self.make_error("invalid")
        return moment


def aware_datetime(**kwargs: Any) -> fields.AwareDateTime:
    return fields.AwareDateTime(format="iso", **kwargs)


class AsOfArgs(StrictSchema):
    as_of = fields.Date(metadata={"description": "the day to judge on (default: today)"})


class KnownAtArgs(StrictSchema):
    at = aware_datetime(required=True, metadata={
        "description": "a recorded time with its zone, e.g. 2026-03-01T12:00:00+08:00"})
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62), metadata={
        "description": "the timeline page starts after this version: the `next` of the "
                       "previous page (0: the first page)"})
    limit = fields.Integer(load_default=timetravel.PAGE,
                           validate=validate.Range(min=1, max=timetravel.MAX_PAGE),
                           metadata={"description": "timeline entries per page"})


class EffectiveOnArgs(StrictSchema):
    on = fields.Date(required=True)


class ReplayArgs(StrictSchema):
    order = fields.String(load_default="recorded",
                          validate=validate.OneOf(("recorded", "effective")))
    start = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**9))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DiffArgs(StrictSchema):
    before = Moment(required=True, metadata={"type": "string", "description": (
        "a date (as effective on) or a date-time with zone (as known at)")})
    after = Moment(required=True, metadata={"type": "string"})


class ParkListArgs(StrictSchema):
    prefecture = fields.String(validate=validate.OneOf(tuple(rules.PREFECTURES)))
    status = fields.String(validate=validate.Length(max=40))
    as_of = fields.Date()
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


# ------------------------------------------------------------------ read models


class ParkStatusSchema(Schema):
    """A park as the park-status read model holds it."""

    park_code = fields.String(required=True)
    name = fields.String()
    prefecture = fields.String()
    prefecture_name = fields.String()
    applicant = fields.String()
    status = fields.String()
    version = fields.Integer()
    filed_on = date_text()
    approved_on = date_text(allow_none=True)
    approval_no = fields.String(allow_none=True)
    plaque_no = fields.String(allow_none=True)
    revoked_on = date_text(allow_none=True)
    sub_parks = fields.List(fields.String())
    eligibility = fields.Raw()
    latest_grade = fields.String(allow_none=True)
    latest_cycle = fields.String(allow_none=True)
    rectification = fields.Raw(allow_none=True)
    next_due = fields.Raw(allow_none=True)
    open_findings = fields.Integer()
    as_of = date_text()
    last_effective_on = date_text()
    last_recorded_at = datetime_text()


class ParkPageSchema(Schema):
    parks = fields.List(fields.Nested(ParkStatusSchema), required=True)
    total = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    limit = fields.Integer(required=True)


class KnownAtSchema(Schema):
    park_code = fields.String(required=True)
    as_known_at = datetime_text(required=True)
    version = fields.Integer(required=True, metadata={
        "description": "the highest version recorded by then"})
    state = fields.Nested(ParkSchema, allow_none=True, required=True)
    timeline = fields.List(fields.Nested(EventSchema), required=True, metadata={
        "description": "one page of the events known then, oldest first; `corrected_by` "
                       "lists only the corrections recorded by then"})
    total = fields.Integer(required=True, metadata={
        "description": "events known then (versions 1..`version`), over every page"})
    after = fields.Integer(required=True, metadata={"description": "this page's `after`"})
    limit = fields.Integer(required=True)
    next = fields.Integer(allow_none=True, required=True, metadata={
        "description": "pass as `after` for the next page; null on the last page"})


class EffectiveOnSchema(Schema):
    park_code = fields.String(required=True)
    as_effective_on = date_text(required=True)
    versions = fields.List(fields.Integer(), required=True)
    state = fields.Nested(ParkSchema, allow_none=True, required=True)
    timeline = fields.List(fields.Nested(EventSchema), required=True)


class ChangeSchema(Schema):
    field = fields.String(required=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class ReplayStepSchema(Schema):
    step = fields.Integer(required=True)
    event = fields.Nested(EventSchema, required=True)
    state = fields.Nested(ParkSchema, required=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)


class ReplaySchema(Schema):
    park_code = fields.String(required=True)
    order = fields.String(required=True)
    total = fields.Integer(required=True)
    steps = fields.List(fields.Nested(ReplayStepSchema), required=True)


class DiffSchema(Schema):
    park_code = fields.String(required=True)
    before = fields.Dict(required=True)
    after = fields.Dict(required=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
