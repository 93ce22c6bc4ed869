"""The audit log read model: one row per event, indexed for the filters auditors use.

A corrected entry stays as it was recorded, and so does its row: the corrections that name it
are found when it is read (`corrected_by`, by each correction's own `corrects_version`), so
rows are only ever appended (but for a corrected prefecture, which moves the park's rows).
The objector of an objection is protected: it is kept apart from the record (`protected`), so
the text filter, which searches the record, never matches it; answers mask it unless the caller
may see it (the reviewer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ledger.application import event_record_json
from ledger.domain.hashing import plain
from ledger.domain.park import Park
from ledger.privacy import PROTECTED_FIELDS
from ledger.projections.rows import Raw, Rows
from ledger.projections.runner import (
    METADATA,
    Handler,
    Projection,
    chunks,
    park_event_names,
    utc,
)

if TYPE_CHECKING:
    from ledger.application import Ledger

MASK = "***"
CORRECTION = Park.EntryCorrected.__name__
MAX_PAGE = 1000
NO_PROTECTED = Raw("null")  # JSON null, as the column's type writes None (once, not per row)

AUDIT_LOG = sa.Table(
    "rm_audit_log", METADATA,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("park_code", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(60), nullable=False),
    sa.Column("prefecture", sa.String(6), nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),  # naive UTC
    sa.Column("actor_user", sa.String(200), nullable=False),
    sa.Column("actor_role", sa.String(20), nullable=False),
    sa.Column("actor_organisation", sa.String(200), nullable=False),
    sa.Column("flag_count", sa.Integer, nullable=False),
    sa.Column("corrects_version", sa.Integer),
    # the event record (`event_record`) as JSON text, but for its protected fields, which are
    # kept in `protected` ({"objector": ...}, or null)
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("protected", sa.JSON),
    sa.UniqueConstraint("park_code", "version", name="rm_audit_log_park_version"),
    sa.Index("rm_audit_log_park_recorded", "park_code", "recorded_at"),
    sa.Index("rm_audit_log_park_effective", "park_code", "effective_on"),
    sa.Index("rm_audit_log_prefecture", "prefecture", "position"),
    sa.Index("rm_audit_log_event_type", "event_type", "position"),
    sa.Index("rm_audit_log_actor", "actor_user", "position"),
    sa.Index("rm_audit_log_effective", "effective_on"),
    sa.Index("rm_audit_log_recorded", "recorded_at"),
    sa.Index("rm_audit_log_corrects", "park_code", "corrects_version"),
    # the auditors' most common filter: its page and its count from the index alone
    sa.Index("rm_audit_log_prefecture_type", "prefecture", "event_type", "position"),
)


class AuditLog(Projection):
    """Every event, once, as the audit log shows it."""

    name = "audit_log"
    tables = (AUDIT_LOG,)

    def handlers(self) -> dict[str, Handler]:
        return {kind: self._any for kind in park_event_names()}

    def forget(self) -> None:
        self._prefectures: dict[str, str] = {}  # park -> the prefecture its rows show

    def forget_parks(self, park_codes: set[str]) -> None:
        for code in park_codes:
            self._prefectures.pop(code, None)

    def begin(self, rows: Rows) -> None:
        if "_prefectures" not in self.__dict__ or len(self._prefectures) > self.KEEP_AT_MOST:
            self.forget()
        self._rows: list[dict[str, Any]] = []  # the new rows

    def prepare(self, rows: Rows, events: list[tuple[int, Park.Event]]) -> None:
        codes = {event.park_code for _, event in events} - set(self._prefectures)
        for row in rows.select(AUDIT_LOG, "park_code", codes, ("park_code", "prefecture"),
                               version=1):
            self._prefectures[row["park_code"]] = row["prefecture"]

    def flush(self, rows: Rows) -> None:
        rows.insert(AUDIT_LOG, self._rows)
        self._rows = []

    def _any(self, rows: Rows, position: int, event: Park.Event) -> None:
        state = vars(event)
        protected = {k: plain(state[k]) for k in PROTECTED_FIELDS if k in state} or NO_PROTECTED
        record = event_record_json(event, position, without=PROTECTED_FIELDS)
        self._rows.append(dict(
            position=position, park_code=event.park_code, version=event.originator_version,
            event_type=type(event).__name__, prefecture=self._prefecture(rows, event),
            effective_on=event.effective_on, recorded_at=utc(event.recorded_at),
            actor_user=event.actor["user"], actor_role=event.actor["role"],
            actor_organisation=event.actor["organisation"], flag_count=len(event.flags),
            corrects_version=getattr(event, "corrects_version", None),
            record=Raw(record), protected=protected))
        if isinstance(event, Park.EntryCorrected) and event.corrects_version == 1 and \
                event.field == "prefecture":
            self._move_park(rows, event.park_code, event.right_value)

    def _prefecture(self, rows: Rows, event: Any) -> str:
        code = event.park_code
        if type(event).__name__ == "ApplicationFiled":
            self._prefectures[code] = event.prefecture
        elif code not in self._prefectures:
            found = rows.select(AUDIT_LOG, "park_code", [code], ("prefecture",), version=1)
            self._prefectures[code] = found[0]["prefecture"] if found else ""
        return self._prefectures[code]

    def _move_park(self, rows: Rows, park_code: str, prefecture: str) -> None:
        """A corrected prefecture moves every row of the park: rows written by earlier batches
        now, this batch's rows in memory."""
        rows.set(AUDIT_LOG, {"park_code": park_code}, prefecture=prefecture)
        for row in self._rows:
            if row["park_code"] == park_code:
                row["prefecture"] = prefecture
        self._prefectures[park_code] = prefecture


# ------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor filters the log by; every field is optional and they combine with AND."""

    park_code: str | None = None
    prefecture: str | None = None
    event_types: tuple[str, ...] = ()
    actor: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    text: str | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        c = AUDIT_LOG.c
        checks: list[sa.ColumnElement[bool]] = []
        if self.park_code:
            checks.append(c.park_code == self.park_code)
        if self.prefecture:
            checks.append(c.prefecture == self.prefecture)
        if self.event_types:
            checks.append(c.event_type.in_(self.event_types))
        if self.actor:
            checks.append(c.actor_user == self.actor)
        if self.effective_from:
            checks.append(c.effective_on >= self.effective_from)
        if self.effective_to:
            checks.append(c.effective_on <= self.effective_to)
        if self.recorded_from:
            checks.append(c.recorded_at >= utc(self.recorded_from))
        if self.recorded_to:
            checks.append(c.recorded_at <= utc(self.recorded_to))
        if self.text:  # the record's JSON text, in any case (SQLite folds ASCII letters only)
            needle = self.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            checks.append(sa.cast(c.record, sa.Text).ilike(f"%{needle}%", escape="\\"))
        return checks


def search(ledger: Ledger, where: AuditFilter | None = None, *, limit: int = 50,
           after: int | None = None, newest_first: bool = False,
           reveal_protected: bool = False) -> dict[str, Any]:
    """One page of the log: `after` is the last position of the previous page (keyset paging,
    stable while new events arrive); `next` is the cursor of the following page or None."""
    limit = max(1, min(limit, MAX_PAGE))
    checks = (where or AuditFilter()).where()
    c = AUDIT_LOG.c  # only what an entry is made of (the other columns are the filters')
    query = sa.select(c.position, c.park_code, c.version, c.event_type, c.prefecture,
                      c.record, c.protected).where(*checks)
    if after is not None:
        query = query.where(AUDIT_LOG.c.position < after if newest_first
                            else AUDIT_LOG.c.position > after)
    order = AUDIT_LOG.c.position.desc() if newest_first else AUDIT_LOG.c.position
    with ledger.reader.connect() as conn:
        rows = conn.execute(query.order_by(order).limit(limit + 1)).mappings().all()
        total = _count(ledger, conn, where or AuditFilter(), checks)
        # a correction is never itself corrected (the park refuses it): only the other rows
        # are looked up, and a page of corrections alone asks nothing more
        fixes = corrections(conn, [(row["park_code"], row["version"]) for row in rows[:limit]
                                   if row["event_type"] != CORRECTION])
    entries = [entry(row, fixes.get((row["park_code"], row["version"]), []), reveal_protected)
               for row in rows[:limit]]
    cursor = entries[-1]["position"] if len(rows) > limit else None
    return {"entries": entries, "next": cursor, "total": total}


def _count(ledger: Ledger, conn: sa.Connection, where: AuditFilter,
           checks: list[sa.ColumnElement[bool]]) -> int:
    """How many rows match, up to the head of the log.

    Rows come in position order (with their events, or a catch-up batch at a time) and are
    never changed, but for a corrected prefecture, which moves a park's rows. So the count at
    a head is the count at an earlier head plus the matching rows since: each process keeps
    the last count of each filter and adds the new rows (an unfiltered count of `large` is a
    scan of ~1 M rows, 130-370 ms on PostgreSQL, after every new event). It counts afresh for
    a filter by prefecture when a first-version correction (which may move a park) came in
    since, and when the log's head went back (a rebuild under way).
    """
    c = AUDIT_LOG.c
    head = conn.scalar(sa.select(sa.func.max(c.position))) or 0
    key = ("audit_log.count", where)
    try:
        counted, total = ledger.answers.get(key)
    except KeyError:
        counted, total = None, 0
    if counted == head:
        return int(total)
    afresh = counted is None or counted > head or bool(where.prefecture and conn.scalar(
        sa.select(sa.exists().where(c.position > counted, c.position <= head,
                                    c.event_type == CORRECTION, c.corrects_version == 1))))
    window = [c.position <= head] + ([] if afresh else [c.position > counted])
    found = conn.scalar(sa.select(sa.func.count()).select_from(AUDIT_LOG).where(
        *checks, *window)) or 0
    total = found if afresh else total + found
    ledger.answers.put(key, (head, total))
    return int(total)


def entries(ledger: Ledger, where: AuditFilter | None = None,
            reveal_protected: bool = False) -> list[dict[str, Any]]:
    """Every matching entry, oldest first (for export)."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = search(ledger, where, limit=MAX_PAGE, after=cursor,
                      reveal_protected=reveal_protected)
        found.extend(page["entries"])
        cursor = page["next"]
        if cursor is None:
            return found


def entry(row: Any, corrected_by: list[int], reveal_protected: bool = False
          ) -> dict[str, Any]:
    """One stored row as the API shows it: the event record, its prefecture and the versions
    of the corrections that name it."""
    record = stored_record(row["record"], row["protected"])
    if not reveal_protected and "objector" in record["fields"]:
        record["fields"]["objector"] = {k: MASK for k in record["fields"]["objector"]}
    return {**record, "prefecture": row["prefecture"], "corrected_by": corrected_by}


def stored_record(record: dict[str, Any], protected: dict[str, Any] | None) -> dict[str, Any]:
    """The whole event record (as `event_record` makes it) from a row's record and its
    protected fields: a copy the caller may change."""
    record = dict(record)
    record["fields"] = {**record["fields"], **(protected or {})}
    return record


def corrections(conn: sa.Connection, entries: list[tuple[str, int]],
                up_to: int | None = None) -> dict[tuple[str, int], list[int]]:
    """(park, version) -> the versions of the corrections naming that entry (those up to
    version `up_to` only, if given), oldest first. Rows are never updated when a correction
    arrives: it is found here, by its own row's `corrects_version`."""
    wanted = set(entries)
    found: dict[tuple[str, int], list[int]] = {}
    c = AUDIT_LOG.c
    # Two plain INs (a superset, cut to the wanted pairs below): SQLite answers a row-value
    # IN ((park, version), ...) by reading the whole table, these from the index.
    codes = sorted({code for code, _ in wanted})
    versions = sorted({version for _, version in wanted})
    for chunk in chunks(codes, 100):
        query = sa.select(c.park_code, c.corrects_version, c.version).where(
            c.park_code.in_(chunk), c.corrects_version.in_(versions)).order_by(c.version)
        if up_to is not None:
            query = query.where(c.version <= up_to)
        for code, target, version in conn.execute(query).all():  # one fetch, not a row each
            if (code, target) in wanted:
                found.setdefault((code, target), []).append(version)
    return found


def corrections_of(conn: sa.Connection, park_code: str, after: int, last: int,
                   up_to: int) -> dict[int, list[int]]:
    """Version -> the versions (up to `up_to`) of the corrections naming it, for the park's
    versions after `after` up to `last`: one range of the (park, corrects_version) index."""
    c = AUDIT_LOG.c
    found: dict[int, list[int]] = {}
    for target, version in conn.execute(
            sa.select(c.corrects_version, c.version).where(
                c.park_code == park_code, c.corrects_version > after,
                c.corrects_version <= last, c.version <= up_to).order_by(c.version)).all():
        found.setdefault(target, []).append(version)
    return found


def version_known_at(ledger: Ledger, park_code: str, moment: datetime) -> int:
    """The park's latest version recorded at or before `moment` (0 if none)."""
    with ledger.reader.connect() as conn:
        return conn.scalar(sa.select(sa.func.max(AUDIT_LOG.c.version)).where(
            AUDIT_LOG.c.park_code == park_code, AUDIT_LOG.c.recorded_at <= utc(moment))) or 0


def effective_versions(ledger: Ledger, park_code: str, day: date) -> tuple[int, int]:
    """How many of the park's events are effective on or before `day`, and the highest version."""
    with ledger.reader.connect() as conn:
        count, highest = conn.execute(sa.select(
            sa.func.count(), sa.func.max(AUDIT_LOG.c.version)).where(
            AUDIT_LOG.c.park_code == park_code, AUDIT_LOG.c.effective_on <= day)).one()
    return count, highest or 0
