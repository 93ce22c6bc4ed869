"""The ledger service: one method per command, queries that return primitives."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding
from eventsourcing.utils import get_topic
from marshmallow import ValidationError as SchemaError

from config import Config
from ledger.commands import COMMANDS, Money, load_actor, load_command
from ledger.domain.calendar import WorkingDayCalendar
from ledger.domain.errors import (
    ConcurrencyError,
    DuplicateError,
    IdempotencyConflict,
    LedgerError,
    ParkNotFoundError,
    PermissionDenied,
    ValidationError,
)
from ledger.domain.hashing import canonical_json, plain
from ledger.domain.park import Context, Park, park_id
from ledger.domain.receipt import IdempotencyReceipt, receipt_id
from ledger.storage import APP_NAME, Database, protect_event_tables

PARK_TOPIC_PREFIX = get_topic(Park) + "."
NOT_FUTURE_FIELDS = ("effective_on", "received_on")
MAX_RETRIES = 5
# Event fields a correction may not name: the ledger's own bookkeeping, not facts.
UNCORRECTABLE = {"originator_id", "originator_version", "timestamp", "originator_topic",
                 "park_code", "recorded_at", "actor", "flags", "prev_hash", "hash",
                 "idempotency_key", "documents"}


class DateAsISO(Transcoding):
    """`date` is not among eventsourcing's built-in transcodings."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Ledger(Application[UUID]):
    """Park Ledger: records commands as events on Park aggregates and answers questions."""

    name = APP_NAME
    snapshotting_intervals = {Park: 100}  # noqa: RUF012 - the library's class attribute

    def __init__(self, config: Config, clock: Clock = system_clock) -> None:
        self.config = config
        self.database = Database.from_url(config.database_url)
        self.database.ensure_schema()
        super().__init__(env=self.database.eventsourcing_env())
        self.engine = self.database.create_engine()
        protect_event_tables(self.database, self.engine)
        self.calendar = WorkingDayCalendar.from_file(config.calendar_file)
        self.clock = clock
        self.timezone = ZoneInfo(config.timezone)
        self.after_commit: list[Callable[[], None]] = []
        # Imported here: the read models import this module's queries.
        from ledger.projections.runner import Projections
        self.projections = Projections(self)
        self.after_commit.append(self.projections.catch_up)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def close(self) -> None:
        super().close()
        self.engine.dispose()

    # ----------------------------------------------------------------- commands

    def execute(self, command: str, payload: dict[str, Any],
                actor: dict[str, str]) -> dict[str, Any]:
        """Validate, decide and record one command; return the recorded event's summary."""
        data = load_command(command, payload)
        actor = load_actor(actor)
        spec = COMMANDS[command]
        if actor["role"] not in spec.roles:
            raise PermissionDenied(actor["role"], command)
        now = self.clock()
        self._refuse_future_dates(data, now)
        key = data.pop("idempotency_key")
        body_hash = _body_hash(command, actor, data)
        if key is not None:
            replay = self._replayed(key, body_hash)
            if replay is not None:
                return replay
        ctx = Context(effective_on=data.pop("effective_on"), recorded_at=now, actor=actor,
                      reason=data.pop("reason"), documents=tuple(data.pop("documents")),
                      override_reason=data.pop("override_reason"), idempotency_key=key)
        expected = data.pop("expected_version")
        for _attempt in range(MAX_RETRIES):
            park = self._decide(command, ctx, expected, data)
            result = _result(park)
            objs: list[Any] = [park]
            if key is not None:
                objs.append(IdempotencyReceipt.issue(key, body_hash, result))
            try:
                recordings = self.save(*objs)
            except RecordConflictError:
                replay = self._explain_conflict(command, data, expected, key, body_hash)
                if replay is not None:
                    return replay
                continue  # another writer took the park's next version: decide again
            result["position"] = recordings[0].notification.id
            self._run_after_commit()
            return result
        raise LedgerError("too many concurrent writers on this park; try again",
                          field="park_code")

    def _decide(self, command: str, ctx: Context, expected: int | None,
                data: dict[str, Any]) -> Park:
        fields = dict(data)
        if command == "file_application":
            if park_id(fields["park_code"]) in self.repository:
                raise DuplicateError(f"park {fields['park_code']} is already filed",
                                     field="park_code")
            return Park.file_application(ctx, **fields)
        park = self.get_park(fields.pop("park_code"))
        if expected is not None and expected != park.version:
            raise ConcurrencyError(park.park_code, expected, park.version)
        if command == "correct_entry":
            self._check_correction(park, fields)
        if COMMANDS[command].uses_calendar:
            fields["calendar"] = self.calendar
        getattr(park, command)(ctx, **fields)
        return park

    def _explain_conflict(self, command: str, data: dict[str, Any], expected: int | None,
                          key: str | None, body_hash: str) -> dict[str, Any] | None:
        if key is not None:  # the same key may have been recorded by another writer meanwhile
            replay = self._replayed(key, body_hash)
            if replay is not None:
                return replay
        if command == "file_application":
            raise DuplicateError(f"park {data['park_code']} is already filed", field="park_code")
        if expected is not None:
            park = self.get_park(data["park_code"])
            raise ConcurrencyError(park.park_code, expected, park.version)
        return None

    def _replayed(self, key: str, body_hash: str) -> dict[str, Any] | None:
        try:
            receipt = self.repository.get(receipt_id(key))
        except AggregateNotFoundError:
            return None
        if receipt.body_hash != body_hash:
            raise IdempotencyConflict(key)
        return {**receipt.result, "replayed": True}

    def _refuse_future_dates(self, data: dict[str, Any], now: datetime) -> None:
        today = now.astimezone(self.timezone).date()
        for name in NOT_FUTURE_FIELDS:
            value = data.get(name)
            if isinstance(value, date) and value > today:
                raise ValidationError(name, f"{value} is in the future (today is {today})")

    def _check_correction(self, park: Park, fields: dict[str, Any]) -> None:
        version, name = fields["corrects_version"], fields["field"]
        if not 1 <= version <= park.version:
            raise ValidationError("corrects_version",
                                  f"must name a version between 1 and {park.version}")
        (event,) = self.events.get(park.id, gt=version - 1, lte=version)
        names = {f.name for f in dataclass_fields(event)} - UNCORRECTABLE
        if name not in names:
            raise ValidationError("field", f"{type(event).__name__} has no correctable field "
                                  f"{name!r}; it has {sorted(names)}")
        recorded = _as_text(getattr(event, name))
        if fields["wrong_value"] != recorded:
            raise ValidationError("wrong_value", f"version {version} recorded {name} as "
                                  f"{recorded!r}, not {fields['wrong_value']!r}")
        _parse_like(getattr(event, name), fields["right_value"])

    def _run_after_commit(self) -> None:
        for callback in self.after_commit:
            callback()

    # one method per command of the contract

    def file_application(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("file_application", f, actor)

    def supplement_materials(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("supplement_materials", f, actor)

    def withdraw_application(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("withdraw_application", f, actor)

    def open_evaluation(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("open_evaluation", f, actor)

    def record_expert_opinion(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("record_expert_opinion", f, actor)

    def conclude_evaluation(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("conclude_evaluation", f, actor)

    def start_publicity(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("start_publicity", f, actor)

    def raise_objection(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("raise_objection", f, actor)

    def resolve_objection(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("resolve_objection", f, actor)

    def close_publicity(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("close_publicity", f, actor)

    def approve_park(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("approve_park", f, actor)

    def award_plaque(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("award_plaque", f, actor)

    def reject_application(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("reject_application", f, actor)

    def add_sub_park(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("add_sub_park", f, actor)

    def disburse_subsidy(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("disburse_subsidy", f, actor)

    def report_self_evaluation(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("report_self_evaluation", f, actor)

    def grade_evaluation(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("grade_evaluation", f, actor)

    def issue_commendation(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("issue_commendation", f, actor)

    def recommend_national(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("recommend_national", f, actor)

    def order_rectification(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("order_rectification", f, actor)

    def complete_rectification(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("complete_rectification", f, actor)

    def revoke_plaque(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("revoke_plaque", f, actor)

    def demand_refund(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("demand_refund", f, actor)

    def receive_refund(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("receive_refund", f, actor)

    def correct_entry(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("correct_entry", f, actor)

    def close_finding(self, actor: dict[str, str], **f: Any) -> dict[str, Any]:
        return self.execute("close_finding", f, actor)

    # ----------------------------------------------------------------- queries

    def get_park(self, park_code: str) -> Park:
        try:
            park: Park = self.repository.get(park_id(park_code))
        except AggregateNotFoundError:
            raise ParkNotFoundError(park_code) from None
        return park

    def park(self, park_code: str) -> dict[str, Any]:
        """A park's current state, as plain data."""
        return park_summary(self.get_park(park_code))

    def timeline(self, park_code: str) -> list[dict[str, Any]]:
        """Every event of a park, oldest first, as plain data."""
        self.get_park(park_code)
        return [event_record(e) for e in self.events.get(park_id(park_code))]

    def park_events(self, after: int = 0, page: int = 1000) -> Iterator[tuple[int, Park.Event]]:
        """Every park event in global order, with its position, from after `after`."""
        while True:
            notifications = self.recorder.select_notifications(
                start=after, limit=page, inclusive_of_start=False)
            if not notifications:
                return
            for n in notifications:
                if n.topic.startswith(PARK_TOPIC_PREFIX):
                    yield n.id, self.mapper.to_domain_event(n)
            after = notifications[-1].id


def event_record(event: Park.Event, position: int | None = None) -> dict[str, Any]:
    """One event as the export and the API show it: JSON types only."""
    state = plain({k: v for k, v in vars(event).items()
                   if k not in ("originator_id", "originator_version", "timestamp",
                                "originator_topic")})
    common = {k: state.pop(k) for k in ("park_code", "effective_on", "recorded_at", "actor",
                                        "reason", "documents", "override_reason",
                                        "idempotency_key", "flags", "prev_hash", "hash")}
    record = {"position": position, "park_code": common["park_code"],
              "version": event.originator_version, "event_type": type(event).__name__,
              **{k: v for k, v in common.items() if k != "park_code"}, "fields": state}
    if position is None:
        del record["position"]
    return record


def park_summary(park: Park) -> dict[str, Any]:
    """The aggregate's state as plain data; the web never sees the aggregate itself."""
    return plain({
        "park_code": park.park_code, "name": park.name, "prefecture": park.prefecture,
        "applicant": park.applicant, "status": park.status, "version": park.version,
        "filed_on": park.filed_on, "sub_parks": park.sub_parks,
        "evaluation_outcome": park.evaluation_outcome, "publicity": park.publicity,
        "objections": park.objections, "approved_on": park.approved_on,
        "approval_no": park.approval_no, "plaque_no": park.plaque_no,
        "revoked_on": park.revoked_on, "grades": park.grades,
        "latest_grade": park.latest_grade, "self_evaluations": park.self_evaluations,
        "rectification": park.rectification,
        "subsidy": {"disbursed": f"{park.total('disbursed'):.2f}",
                    "refund_demanded": f"{park.total('demanded'):.2f}",
                    "refunded": f"{park.total('received'):.2f}"},
        "raised_findings": park.raised_findings, "closed_findings": park.closed_findings,
        "corrected_versions": park.corrected_versions, "head_hash": park.head_hash,
    })


def _result(park: Park) -> dict[str, Any]:
    event = park.pending_events[-1]
    assert isinstance(event, Park.Event)
    return {"park_code": park.park_code, "version": event.originator_version,
            "event_type": type(event).__name__, "hash": event.hash, "prev_hash": event.prev_hash,
            "recorded_at": event.recorded_at.isoformat(),
            "effective_on": event.effective_on.isoformat(), "flags": list(event.flags)}


def _body_hash(command: str, actor: dict[str, str], data: dict[str, Any]) -> str:
    body = plain({"command": command, "actor": actor, **data})
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _as_text(value: Any) -> str:
    value = plain(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _parse_like(original: Any, text: str) -> None:
    """Refuse a right_value that cannot stand where the original value stood."""
    try:
        if isinstance(original, bool):
            if text not in ("true", "false"):
                raise ValueError("true or false")
        elif isinstance(original, Decimal):
            Money().deserialize(text)
        elif isinstance(original, date):
            date.fromisoformat(text)
        elif isinstance(original, int):
            int(text)
        elif isinstance(original, (list, dict)) and not isinstance(json.loads(text),
                                                                  type(original)):
            raise ValueError(f"a JSON {type(original).__name__}")
    except (ValueError, SchemaError) as error:
        raise ValidationError("right_value", f"cannot stand for the recorded value: {error}")\
            from None
