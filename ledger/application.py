"""The ledger service: one method per command, queries that return primitives."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    RecordConflictError,
    Recording,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.utils import get_topic, strtobool
from marshmallow import ValidationError as SchemaError
from marshmallow import fields

from config import Config
from ledger import recorders
from ledger.commands import COMMANDS, CommandSpec, load_actor, load_command
from ledger.domain.calendar import WorkingDayCalendar
from ledger.domain.errors import (
    ConcurrencyError,
    ContentionError,
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
from ledger.jsontext import JSONTranscoder as OrjsonTranscoder
from ledger.parkcache import ParkCache
from ledger.snapshot_store import CurrentSnapshotStore, ReplacingRepository, project_events
from ledger.storage import APP_NAME, Database, protect_event_tables, reads_only

# Every kind of park event, as the log names it. A park event class renamed one day (with
# register_topic for its old name) must keep its old topic in this list.
PARK_TOPICS = [get_topic(value) for value in vars(Park).values()
               if isinstance(value, type) and issubclass(value, Park.Event)]
# Dates of what already happened. Planned dates may lie ahead: a publicity is announced before
# its window (starts_on, ends_on), and deadlines are in the future by nature.
NOT_FUTURE_FIELDS = ("effective_on", "received_on")
STARTUP_LOCK_SPACE = 7318002  # advisory lock (space, schema) held while a ledger starts
MAX_RETRIES = 10
RETRY_BACKOFF_SECONDS = 0.005  # doubled per attempt, jittered, so no writer starves
# Event fields a correction may not name: the ledger's own bookkeeping, the identifiers other
# events refer to (an objection number, a closed finding, a correction's own target), and the
# objector's identity, which only reviewers may see: a correction would carry it in plain
# wrong_value/right_value text past the masking.
UNCORRECTABLE = frozenset({
    "originator_id", "originator_version", "timestamp", "originator_topic", "park_code",
    "recorded_at", "actor", "flags", "prev_hash", "hash", "idempotency_key", "objection_no",
    "finding_id", "corrects_version", "field", "wrong_value", "right_value", "objector"})
JSON_TEXT_FIELDS = (fields.List, fields.Nested, fields.Dict, fields.Boolean, fields.Integer)
# stored park events each process keeps in memory, the latest it saved or read: what a
# correction is checked against (a stored event never changes, so a kept one is never stale)
EVENTS_KEPT = 10_000
# `save` keyword: the snapshots `execute_many` encoded as its batch went past their versions
SNAPSHOTS_TAKEN = "snapshots_taken"


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
        self.engine = self.database.create_engine()
        self.reader = reads_only(self.engine)  # for the queries that only read
        self.read_model_engine = self.database.create_engine(rebuildable=True)
        with _startup_lock(self.database, self.engine):
            super().__init__(env={**self.database.eventsourcing_env(),
                                  **recorders.settings(self.database.kind)})
            protect_event_tables(self.database, self.engine)
        self.calendar = WorkingDayCalendar.from_file(config.calendar_file)
        self.clock = clock
        self.timezone = ZoneInfo(config.timezone)
        self.parks_in_memory = ParkCache(config.park_cache_size)
        self.events_in_memory: LRUCache[tuple[UUID, int], Park.Event] = \
            LRUCache(maxsize=EVENTS_KEPT)
        # answers of costly read-model queries, each keyed by everything it depends on (the
        # question, the day, how far the read models have read the log): never stale, only
        # reused while nothing they read has moved
        self.answers: LRUCache[Any, Any] = LRUCache(maxsize=256)
        # called after each save with its recordings (events with their log positions)
        self.after_commit: list[Callable[[list[Recording[UUID]]], None]] = []
        # Imported here: the read models import this module's queries.
        from ledger.projections.runner import Projections
        self.projections = Projections(self)
        self.after_commit.append(self.projections.after_command)

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON transcoding, its states read by orjson (`ledger.jsontext`)."""
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots of another state layout are passed over (ledger/domain/snapshot.py)."""
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return CurrentSnapshotStore(self.mapper, recorder)

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, with the same options, replacing stale snapshots."""
        if not isinstance(self.snapshots, CurrentSnapshotStore):
            return super().construct_repository()  # snapshotting switched off
        cache_maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return ReplacingRepository(
            self.snapshots, self._library_snapshots_at, event_store=self.events,
            cache_maxsize=int(cache_maxsize) if cache_maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")))

    def take_snapshot(self, aggregate_id: UUID, version: int | None = None,
                      projector_func: ProjectorFunction[Any, Any] = project_aggregate) -> None:
        """As the library's, keeping a snapshot already stored at that version. The library
        calls this inside `save()` after the events are recorded: a clash must not fail the
        save, or `execute` would take it for a lost race and record the command again."""
        with suppress(RecordConflictError):
            super().take_snapshot(aggregate_id, version, projector_func)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `save`, collecting the events of our aggregates without its two
        `isinstance` checks against runtime-checkable Protocols per object (slow on Python
        3.11: about 60 µs per imported line, an idempotency receipt being an aggregate too)."""
        processing_event = ProcessingEvent[UUID]()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, called as it does
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """As the library's, but from the park in hand: as it was saved when it stands at the
        snapshot's version (a command's usual case), or as a batch left it there (`execute_many`
        encodes it then, `SNAPSHOTS_TAKEN`). The library would load it from the store again,
        replaying up to a hundred events."""
        taken: dict[tuple[UUID, int], StoredEvent] = \
            processing_event.saved_kwargs.get(SNAPSHOTS_TAKEN, {})
        later = ProcessingEvent[UUID]()
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if not isinstance(aggregate, Park) or \
                    not self._library_snapshots_at(aggregate, event.originator_version):
                continue
            stored = taken.get((aggregate.id, event.originator_version))
            if stored is None and aggregate.version == event.originator_version:
                stored = self._encoded_snapshot(aggregate)
            if stored is not None:
                assert self.snapshots is not None
                with suppress(RecordConflictError):  # as in take_snapshot
                    self.snapshots.recorder.insert_events([stored])
            else:  # as the library does
                later.events.append(event)
                later.aggregates[aggregate.id] = aggregate
        super()._take_snapshots(later)

    def _encoded_snapshot(self, park: Park) -> StoredEvent:
        """A snapshot of the park as it is now, encoded at once (later events of a batch change
        the park's state in place)."""
        return self.mapper.to_stored_event(Park.Snapshot.take(park))

    def _library_snapshots_at(self, aggregate: Any, version: int) -> bool:
        interval = self.snapshotting_intervals.get(type(aggregate))
        return interval is not None and version % interval == 0

    def close(self) -> None:
        super().close()
        self.engine.dispose()
        self.read_model_engine.dispose()

    # ----------------------------------------------------------------- commands

    def execute(self, command: str, payload: dict[str, Any],
                actor: dict[str, str]) -> dict[str, Any]:
        """Validate, decide and record one command; return the recorded event's summary.

        Without `expected_version` a command that loses a race to another writer is decided
        again on the new state (its rules re-checked); with one, it fails as stale.
        """
        # A repeated idempotency key is not looked up first: the receipt saved with the event
        # makes the save of a repeat fail, and the failure is then explained as a replay (or a
        # conflict). Commands are new far more often than repeated.
        prepared = self._prepare(command, payload, actor, look_up_key=False)
        assert not isinstance(prepared, dict)
        common, data, expected, key, body_hash = prepared
        for _attempt in range(MAX_RETRIES):
            # the recorded time is read again on each attempt, so it never runs backwards
            # along a park's chain when another writer got in first
            ctx = Context(recorded_at=self.clock(), **common)
            try:
                park = self._decide(command, ctx, expected, data)
            except LedgerError:
                # the same key may have been recorded by another process since the check above
                # (the park is then filed already, or at a newer version): that is a replay
                replay = self._replayed(key, body_hash) if key is not None else None
                if replay is None:
                    raise
                return replay
            result = _result(park)
            objs: list[Any] = [park]
            if key is not None:
                objs.append(IdempotencyReceipt.issue(key, body_hash, result))
            try:
                recordings = self.save(*objs)
            except RecordConflictError:
                self.parks_in_memory.discard(park.id)  # it may have decided on an old copy
                replay = self._explain_conflict(command, data, expected, key, body_hash)
                if replay is not None:
                    return replay
                # another writer took the park's next version: wait a random moment (a tight
                # loop loses again and again to a writer that is already reading), decide again
                time.sleep(random.uniform(0, RETRY_BACKOFF_SECONDS * 2 ** _attempt))
                continue
            result["position"] = recordings[0].notification.id
            self._run_after_commit(recordings)
            return result
        raise ContentionError(data.get("park_code", ""), MAX_RETRIES)

    def _prepare(self, command: str, payload: dict[str, Any], actor: Any,
                 look_up_key: bool = True
                 ) -> tuple[dict[str, Any], dict[str, Any], int | None, str | None, str] \
            | dict[str, Any]:
        """Validate a command: the context fields common to every command, its own fields,
        the expected version, the idempotency key and the body hash; or, when the key was
        already recorded with this body (looked up unless `look_up_key` is false), that
        result (a replay)."""
        if command not in COMMANDS:
            raise ValidationError("command", f"unknown command {command!r}")
        actor = load_actor(actor)
        if actor["role"] not in COMMANDS[command].roles:  # before the body: tell nothing more
            raise PermissionDenied(actor["role"], command)
        data = load_command(command, payload)
        self._refuse_future_dates(data, self.clock())
        key = data.pop("idempotency_key")
        body_hash = _body_hash(command, actor, data)
        if key is not None and look_up_key:
            replay = self._replayed(key, body_hash)
            if replay is not None:
                return replay
        common = {"effective_on": data.pop("effective_on"), "actor": actor,
                  "reason": data.pop("reason"), "documents": tuple(data.pop("documents")),
                  "override_reason": data.pop("override_reason"), "idempotency_key": key}
        expected = data.pop("expected_version")
        return common, data, expected, key, body_hash

    def execute_many(self, commands: Iterable[tuple[str, dict[str, Any], Any]]
                     ) -> list[dict[str, Any] | LedgerError]:
        """Record several commands in one save: for each `(command, payload, actor)`, its
        result (as `execute` returns it) or the LedgerError that refused it.

        Each command is still all-or-nothing: it is decided against the state the commands
        before it in the batch left (kept in memory), and a refused one is dropped without
        touching the others. The accepted ones are saved together in one transaction and the
        after-commit callbacks run once. If another writer got in first (a version conflict),
        nothing of the batch was written and each command is executed again on its own.
        """
        commands = list(commands)
        outcomes: list[dict[str, Any] | LedgerError] = []
        parks: dict[str, Park] = {}  # park_code -> the aggregate as the batch left it
        receipts: dict[str, IdempotencyReceipt] = {}
        pending: list[tuple[int, Park]] = []  # (outcome index, park) of each accepted command
        snapshots: dict[tuple[UUID, int], StoredEvent] = {}  # taken as the batch went
        used = self._keys_used([p.get("idempotency_key") for _, p, _ in commands
                                if isinstance(p, dict)])
        for command, payload, actor in commands:
            try:
                result = self._decide_in_batch(command, payload, actor, parks, receipts, used)
            except LedgerError as error:
                outcomes.append(error)
                continue
            outcomes.append(result)
            if "replayed" not in result:
                park = parks[result["park_code"]]
                pending.append((len(outcomes) - 1, park))
                if self._library_snapshots_at(park, park.version) and self.snapshots is not None:
                    snapshots[(park.id, park.version)] = self._encoded_snapshot(park)
        if not pending:
            return outcomes
        changed = {id(p): p for _, p in pending}
        try:
            recordings = self.save(*changed.values(), *receipts.values(),
                                   **{SNAPSHOTS_TAKEN: snapshots})
        except RecordConflictError:
            for park in changed.values():
                self.parks_in_memory.discard(park.id)
            return [self._execute_or_error(*c) for c in commands]
        positions = {(r.domain_event.originator_id, r.domain_event.originator_version):
                     r.notification.id for r in recordings}
        for index, park in pending:
            recorded = outcomes[index]
            assert isinstance(recorded, dict)
            recorded["position"] = positions[(park.id, recorded["version"])]
        self._run_after_commit(recordings)
        return outcomes

    def _keys_used(self, keys: list[Any]) -> set[str]:
        """Which of these idempotency keys have a stored receipt: one query for a batch,
        instead of one per command (the receipts' ids are derived from the keys)."""
        ids = {receipt_id(k): k for k in keys if isinstance(k, str)}
        if not ids:
            return set()
        sqlite = self.database.kind == "sqlite"
        query = sa.text(f"SELECT originator_id FROM {self.database.events_table} "  # noqa: S608
                        "WHERE originator_id IN :ids AND originator_version = 1"
                        ).bindparams(sa.bindparam("ids", expanding=True))
        with self.engine.connect() as conn:
            found = conn.scalars(query, {"ids": [i.hex if sqlite else i for i in ids]}).all()
        return {ids[UUID(str(found_id))] for found_id in found}

    def _decide_in_batch(self, command: str, payload: dict[str, Any], actor: Any,
                         parks: dict[str, Park], receipts: dict[str, IdempotencyReceipt],
                         used: set[str]) -> dict[str, Any]:
        if isinstance(payload.get("idempotency_key"), str) and \
                payload["idempotency_key"] in receipts:
            key = payload["idempotency_key"]  # the same key earlier in this batch
            body = _body_hash(command, load_actor(actor), _without_key(
                load_command(command, payload)))
            if receipts[key].body_hash != body:
                raise IdempotencyConflict(key)
            return {**receipts[key].result, "replayed": True}
        # keys stored before the batch began are looked up; one stored since makes the save
        # fail, and the batch is then executed command by command
        prepared = self._prepare(command, payload, actor,
                                 look_up_key=isinstance(payload, dict)
                                 and payload.get("idempotency_key") in used)
        if isinstance(prepared, dict):
            return prepared
        common, data, expected, key, body_hash = prepared
        code = data["park_code"]
        park = parks.get(code)
        before = len(park.pending_events) if park is not None else 0
        try:
            park = self._decide(command, Context(recorded_at=self.clock(), **common), expected,
                                data, park)
        except LedgerError:
            # as in execute: the key may have been recorded by another process meanwhile
            replay = self._replayed(key, body_hash) if key is not None else None
            if replay is None:
                raise
            return replay
        finally:  # a refused decision records nothing, even on a park kept for the batch
            assert park is None or len(park.pending_events) in (before, before + 1)
        parks[code] = park
        result = _result(park)
        if key is not None:
            receipts[key] = IdempotencyReceipt.issue(key, body_hash, result)
        return result

    def _execute_or_error(self, command: str, payload: dict[str, Any],
                          actor: Any) -> dict[str, Any] | LedgerError:
        try:
            return self.execute(command, payload, actor)
        except LedgerError as error:
            return error

    def _decide(self, command: str, ctx: Context, expected: int | None,
                data: dict[str, Any], park: Park | None = None) -> Park:
        """Decide a command on the park (loaded unless given): the park with its new event."""
        fields = dict(data)
        if command == "file_application":
            if park is not None or park_id(fields["park_code"]) in self.repository:
                raise DuplicateError(f"park {fields['park_code']} is already filed",
                                     field="park_code")
            return Park.file_application(ctx, **fields)
        code = fields.pop("park_code")
        if park is not None:  # as an earlier command of the same batch left it
            return self._decide_on(park, command, ctx, expected, fields)
        # Optimistic: the copy this process keeps is trusted without asking the store for
        # newer events. A decision on a copy another process has overtaken cannot be stored
        # (the store refuses a second event at a version: the caller forgets the copy and
        # decides again), and a refusal is checked again on the current state.
        kept = self.get_park(code, latest=False)
        try:
            return self._decide_on(kept, command, ctx, expected, dict(fields))
        except LedgerError:
            current = self.get_park(code)
            if current.version == kept.version:
                raise
            return self._decide_on(current, command, ctx, expected, fields)

    def _decide_on(self, park: Park, command: str, ctx: Context, expected: int | None,
                   fields: dict[str, Any]) -> Park:
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
            receipt: IdempotencyReceipt = self.repository.get(receipt_id(key))
        except AggregateNotFoundError:
            return None
        if receipt.body_hash != body_hash:
            raise IdempotencyConflict(key)
        return {**receipt.result, "replayed": True}

    def _refuse_future_dates(self, data: dict[str, Any], now: datetime,
                             field: str | None = None) -> None:
        today = now.astimezone(self.timezone).date()
        for name in NOT_FUTURE_FIELDS:
            value = data.get(name)
            if isinstance(value, date) and value > today:
                raise ValidationError(field or name,
                                      f"{name} {value} is in the future (today is {today})")

    def _check_correction(self, park: Park, data: dict[str, Any]) -> None:
        """Check a correction against the stored event; put right_value in canonical form.

        `field` must be a fact of that event, `wrong_value` what it recorded, and `right_value`
        must pass the very check the original command's field passed.
        """
        version, name = data["corrects_version"], data["field"]
        if not 1 <= version <= park.version:
            raise ValidationError("corrects_version",
                                  f"must name a version between 1 and {park.version}")
        pending = park.pending_events  # the versions after the stored ones, in order
        first_pending = park.version - len(pending) + 1
        event = pending[version - first_pending] if version >= first_pending else \
            self._stored_event(park.id, version)
        assert isinstance(event, Park.Event)
        if isinstance(event, Park.EntryCorrected):
            return  # the park refuses to correct a correction
        schema_fields = _command_for(event).schema.fields
        names = {f.name for f in dataclass_fields(event)} & set(schema_fields) - UNCORRECTABLE
        if name not in names:
            raise ValidationError("field", f"{type(event).__name__} has no correctable field "
                                  f"{name!r}; it has {sorted(names)}")
        recorded = getattr(event, name)
        if not _matches(schema_fields[name], recorded, data["wrong_value"]):
            raise ValidationError("wrong_value", f"version {version} recorded {name} as "
                                  f"{_as_text(recorded)!r}, not {data['wrong_value']!r}")
        right = _load_text(schema_fields[name], data["right_value"])
        if name in NOT_FUTURE_FIELDS:
            self._refuse_future_dates({name: right}, self.clock(), field="right_value")
        if right == recorded:
            raise ValidationError("right_value", f"is what version {version} recorded")
        data["right_value"] = _as_text(right)

    def _stored_event(self, park: UUID, version: int) -> Park.Event:
        """One stored event of a park: kept in memory if this process saved or read it lately,
        else read from the store (and kept)."""
        key = (park, version)
        with suppress(KeyError):
            return self.events_in_memory.get(key)
        (event,) = self.events.get(park, gt=version - 1, lte=version)
        assert isinstance(event, Park.Event)
        self.events_in_memory.put(key, event)
        return event

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Store the events (the library's save) with their read-model rows, in one
        transaction; once stored, remember the saved parks."""
        projections = self.projections
        with projections.lock:
            apply = projections.in_transaction(processing_event.events)
            if apply is not None:
                processing_event.saved_kwargs[recorders.KEYWORD] = apply
            try:
                recordings = super()._record(processing_event)
            except recorders.RollBack:  # a read model failed: the events alone, then
                projections.abandoned()
                del processing_event.saved_kwargs[recorders.KEYWORD]
                recordings = super()._record(processing_event)
            except BaseException:
                projections.abandoned()
                raise
            else:
                projections.committed()
        for aggregate in processing_event.aggregates.values():
            if isinstance(aggregate, Park):
                self.parks_in_memory.put(aggregate)
        for event in processing_event.events:
            if isinstance(event, Park.Event):
                self.events_in_memory.put((event.originator_id, event.originator_version), event)
        return recordings

    def _run_after_commit(self, recordings: list[Recording[UUID]]) -> None:
        for callback in self.after_commit:
            callback(recordings)

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

    def get_park(self, park_code: str, *, latest: bool = True) -> Park:
        """The park's current state: the copy this process remembers, brought up to date with
        the events stored since (by any process; not looked for unless `latest`), or loaded
        from the store."""
        identity = park_id(park_code)
        park = self.parks_in_memory.get(identity)
        if park is not None:
            if not latest:
                return park
            newer = list(self.events.get(identity, gt=park.version))
            if newer:
                park = cast(Park, project_events(park, newer))
                self.parks_in_memory.put(park)
            return park
        try:
            park = self.repository.get(identity)
        except AggregateNotFoundError:
            raise ParkNotFoundError(park_code) from None
        self.parks_in_memory.put(park)
        return park

    def park(self, park_code: str) -> dict[str, Any]:
        """A park's current state, as plain data."""
        return park_summary(self.get_park(park_code))

    def timeline(self, park_code: str) -> list[dict[str, Any]]:
        """Every event of a park, oldest first, as plain data."""
        self.get_park(park_code)
        return [event_record(e) for e in self.events.get(park_id(park_code))
                if isinstance(e, Park.Event)]

    def park_events(self, after: int = 0, page: int = 1000) -> Iterator[tuple[int, Park.Event]]:
        """Every park event in global order, with its position, from after `after`."""
        while True:
            events = self.park_events_page(after, page)
            yield from events
            if len(events) < page:
                return
            after = events[-1][0]

    def park_events_page(self, after: int, limit: int) -> list[tuple[int, Park.Event]]:
        """The next `limit` park events of the log after position `after`, with their
        positions (the idempotency receipts in between are passed over by the database)."""
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, topics=PARK_TOPICS, inclusive_of_start=False)
        return [(n.id, cast(Park.Event, self.mapper.to_domain_event(n)))
                for n in notifications]

    def park_events_of_shard(self, after: int, upto: int, shard: int, shards: int
                             ) -> list[tuple[int, Park.Event]]:
        """The park events at positions after `after` up to `upto` of the parks of `shard` (of
        `shards`, by the last byte of the park's stream id), with their positions: what one
        process of a sharded rebuild replays (PostgreSQL only).

        A range of positions, not the next so many events: PostgreSQL cannot know how many
        rows the shard's test keeps (it guesses 0.5 %), so for "the next 5,000 after 0" it
        expects to read most of the log and plans a parallel scan of every row, sorted on
        disk (1.4 s a batch on `large`), and further on a parallel index scan compiled by its
        JIT (122 ms); over a range the estimate is the index's own and the plan the plain
        index scan (15-30 ms)."""
        db = self.database
        assert db.kind == "postgresql", "parks are sharded by PostgreSQL's uuid_send"
        query = (  # the driver's own cursor: its rows fetched at once, in C
            f"SELECT {db.position}, originator_id, originator_version, topic, state "
            f"FROM {db.events_table} WHERE {db.position} > %s AND {db.position} <= %s "
            "AND topic = ANY(%s) AND get_byte(uuid_send(originator_id), 15) %% %s = %s "
            f"ORDER BY {db.position}")
        with self.reader.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(query, (after, upto, PARK_TOPICS, shards, shard))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        to_event = self.mapper.to_domain_event
        return [(position, cast(Park.Event, to_event(StoredEvent(oid, version, topic, state))))
                for position, oid, version, topic, state in rows]


@contextmanager
def _startup_lock(db: Database, engine: sa.Engine) -> Iterator[None]:
    """One process at a time creates the tables of a PostgreSQL schema.

    eventsourcing's CREATE ... IF NOT EXISTS statements fail with "tuple concurrently updated"
    when two processes (web workers, a projection worker) start on one schema at once.
    """
    if db.kind != "postgresql":
        yield
        return
    key = {"space": STARTUP_LOCK_SPACE, "schema": db.schema}
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:space, hashtext(:schema))"), key)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:space, hashtext(:schema))"), key)
            conn.commit()


def event_record(event: Park.Event, position: int | None = None) -> dict[str, Any]:
    """One event as the export and the API show it: JSON types only."""
    record: dict[str, Any] = plain(_record_of(event, position))
    return record


def event_record_json(event: Park.Event, position: int | None = None, *,
                      without: frozenset[str] = frozenset()) -> str:
    """`event_record(event, position)` as compact JSON text (keys sorted, characters as they
    are, no spaces), leaving out the fields named in `without`: what the audit log stores.

    Written in one pass by `canonical_json` (orjson): the same text as
    `json.dumps(event_record(...))` with these options (no record holds a float or a UUID
    object: the test of every kind of event compares the texts)."""
    return canonical_json(_record_of(event, position, without)).decode()


_COMMON = ("effective_on", "recorded_at", "actor", "reason", "documents", "override_reason",
           "idempotency_key", "flags", "prev_hash", "hash")
_NOT_FIELDS = frozenset({"originator_id", "originator_version", "timestamp",
                         "originator_topic", "park_code", *_COMMON})


def _record_of(event: Park.Event, position: int | None,
               without: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The event record's shape, with the values as the event holds them (but for the fields
    named in `without`)."""
    state = vars(event)
    left_out = _NOT_FIELDS | without if without else _NOT_FIELDS
    record = {"position": position, "park_code": state["park_code"],
              "version": state["originator_version"], "event_type": type(event).__name__,
              **{k: state[k] for k in _COMMON},
              "fields": {k: v for k, v in state.items() if k not in left_out}}
    if position is None:
        del record["position"]
    return record


def park_summary(park: Park) -> dict[str, Any]:
    """The aggregate's state as plain data; the web never sees the aggregate itself."""
    summary: dict[str, Any] = plain({
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
    return summary


def _result(park: Park) -> dict[str, Any]:
    event = park.pending_events[-1]
    assert isinstance(event, Park.Event)
    return {"park_code": park.park_code, "version": event.originator_version,
            "event_type": type(event).__name__, "hash": event.hash, "prev_hash": event.prev_hash,
            "recorded_at": event.recorded_at.isoformat(),
            "effective_on": event.effective_on.isoformat(), "flags": list(event.flags)}


def _body_hash(command: str, actor: dict[str, str], data: dict[str, Any]) -> str:
    body = {"command": command, "actor": actor, **data}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _without_key(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "idempotency_key"}


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


def _command_for(event: Park.Event) -> CommandSpec:
    """The command whose schema checked this event's fields when it was recorded."""
    name = type(event).__name__
    return next(spec for spec in COMMANDS.values() if spec.event == name)


def _load_text(field: fields.Field[Any], text: str) -> Any:
    """A correction's text, read as the original command's field reads its value."""
    raw: Any = text
    if isinstance(field, JSON_TEXT_FIELDS):
        try:
            raw = json.loads(text)
        except ValueError:
            raise ValidationError("right_value", "must be written as JSON here, e.g. "
                                  "[\"a\", \"b\"], 12 or true") from None
    try:
        return field.deserialize(raw)
    except SchemaError as error:
        raise ValidationError("right_value", "; ".join(_messages(error.messages))) from None


def _matches(field: fields.Field[Any], recorded: Any, text: str) -> bool:
    """Whether `text` names the recorded value, literally or once read like the field."""
    if text == _as_text(recorded):
        return True
    try:
        return bool(_load_text(field, text) == recorded)
    except ValidationError:
        return False


def _messages(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _messages(v)]
    if isinstance(messages, list):
        return [m for v in messages for m in _messages(v)]
    return [str(messages)]
