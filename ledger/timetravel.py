"""Time travel over one park: its state as known at a recorded time, as effective on a date,
step by step, and the difference between two moments.

How the state is built from a chosen set of events:
- *as known at T*: the events recorded at or before T. A park's events are recorded in version
  order, so they are the versions 1..N, N being the highest version recorded by T; the state is
  `repository.get(id, version=N)`, which starts from the nearest snapshot (every 100 events), so
  a park with thousands of events loads in milliseconds. The timeline comes a page at a time
  from the audit-log rows (each stores its event's record), never by decoding the events:
  decoding a thousand events was most of the answer's time. A correction recorded after T is
  left out of `corrected_by`. The read models are current when a command returns, but lag if a
  catch-up failed: the versions the audit log does not hold yet are then decoded from the
  store, so the answer never depends on the read model being current.
- *as effective on D*: the events effective on or before D, applied in the order (effective
  date, version). The filing always comes first (nothing can be effective before it). A
  correction takes effect from its own effective date, but never before the entry it corrects:
  if it is dated earlier, it is applied right after that entry. The longest run of versions
  1..k that this order leaves untouched is loaded from the repository (snapshots again); the
  remaining events are applied to that state with the domain's own event `apply` methods (the
  aggregate's `mutate` insists on consecutive versions, `apply` only assigns state). The
  state's `version` is then the highest version applied.
States are the same plain data as `Ledger.park` (`park_summary`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import takewhile
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from ledger.application import event_record, park_summary
from ledger.domain.errors import ParkNotFoundError, ValidationError
from ledger.domain.park import Park, park_id
from ledger.projections.audit_log import AUDIT_LOG, corrections_of, stored_record
from ledger.projections.runner import utc

if TYPE_CHECKING:
    from ledger.application import Ledger

Moment = datetime | date  # a datetime means "as known at", a date "as effective on"
RECORDED, EFFECTIVE = "recorded", "effective"
Order = list[tuple[int, tuple[Any, ...]]]  # versions in the order they apply, with sort keys
PAGE, MAX_PAGE = 100, 1000  # timeline entries per page of as-known-at: default and most


def as_known_at(ledger: Ledger, park_code: str, moment: datetime, *, after: int = 0,
                limit: int = PAGE) -> dict[str, Any]:
    """The park's state using only events recorded at or before `moment`, and one page of its
    timeline as known then: the versions after `after`, at most `limit` of them, oldest first.

    `total` is how many events were known (= `version`: the versions are 1..N) and `next` the
    `after` of the following page, or None on the last one.
    """
    _require_aware(moment, "known_at")
    _require_page(after, limit)
    with ledger.reader.connect() as conn:
        known = _known_at(ledger, conn, park_code, moment)
        page = _known_page(conn, park_code, known, after, limit)
    last = page[-1]["version"] if page else None
    return {"park_code": park_code, "as_known_at": moment.isoformat(), "version": known.version,
            "state": _known_state(ledger, park_code, known.version), "timeline": page,
            "total": known.version, "after": after, "limit": limit,
            "next": last if last is not None and last < known.version else None}


def timeline(ledger: Ledger, park_code: str) -> list[dict[str, Any]]:
    """Every event of the park, oldest first, each marked with the corrections naming it."""
    _require_park(ledger, park_code)
    return _timeline(cast(list[Park.Event], list(ledger.events.get(park_id(park_code)))))


def as_effective_on(ledger: Ledger, park_code: str, day: date) -> dict[str, Any]:
    """The park's state using only events effective on or before `day` (as recorded now)."""
    order = _effective_order(ledger, park_code, day)
    return {"park_code": park_code, "as_effective_on": day.isoformat(),
            "versions": [v for v, _ in order],
            "state": _fold(ledger, park_code, order).summary(),
            "timeline": _timeline(_events(ledger, park_code, order))}


def state_at(ledger: Ledger, park_code: str, moment: Moment) -> dict[str, Any] | None:
    """The state at a moment: a datetime is read as known at, a date as effective on."""
    if isinstance(moment, datetime):
        _require_aware(moment, "known_at")
        with ledger.reader.connect() as conn:
            version = _known_at(ledger, conn, park_code, moment).version
        return _known_state(ledger, park_code, version)
    return as_effective_on(ledger, park_code, moment)["state"]  # type: ignore[no-any-return]


def compare(ledger: Ledger, park_code: str, before: Moment, after: Moment) -> dict[str, Any]:
    """What differs in the park's state between two moments (each known-at or effective-on)."""
    first, second = (state_at(ledger, park_code, m) for m in (before, after))
    return {"park_code": park_code, "before": _moment(before), "after": _moment(after),
            "changes": diff(first or {}, second or {})}


def replay(ledger: Ledger, park_code: str, order: str = RECORDED, start: int = 1,
           limit: int = 100) -> dict[str, Any]:
    """Step through the park's history: each event, the state after it and what it changed.

    `order` is `recorded` (version order, as the ledger learned it) or `effective` (effective
    date, then version); `start` (1-based) and `limit` choose a window of steps.
    """
    if order not in (RECORDED, EFFECTIVE):
        raise ValidationError("order", f"must be {RECORDED!r} or {EFFECTIVE!r}")
    if start < 1 or limit < 1:
        raise ValidationError("start" if start < 1 else "limit", "must be at least 1")
    _require_park(ledger, park_code)
    sequence = (_effective_order(ledger, park_code, date.max) if order == EFFECTIVE
                else [(v, ()) for v in range(1, _head(ledger, park_code) + 1)])
    window = sequence[start - 1:start - 1 + limit]
    rebuilt = _fold(ledger, park_code, sequence[:start - 1])
    previous = rebuilt.summary() or {}
    steps: list[dict[str, Any]] = []
    for event in _events(ledger, park_code, window):
        rebuilt.apply(event)
        state = rebuilt.summary() or {}
        steps.append({"step": start + len(steps), "event": event_record(event),
                      "state": state, "changes": diff(previous, state)})
        previous = state
    return {"park_code": park_code, "order": order, "total": len(sequence), "steps": steps}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Fields (dotted paths into nested objects) whose value differs, with both values."""
    flat_before, flat_after = _flatten(before), _flatten(after)
    return [{"field": key, "before": flat_before.get(key), "after": flat_after.get(key)}
            for key in sorted(set(flat_before) | set(flat_after))
            if flat_before.get(key) != flat_after.get(key)]


# ------------------------------------------------------------------------- as known at


@dataclass(frozen=True)
class _Known:
    """What was known of a park at a moment: versions 1..`version`; 1..`indexed` of them are in
    the audit log, the rest (`unindexed`, decoded from the store) only when the log lags."""

    version: int
    indexed: int
    unindexed: list[Park.Event]


def _known_at(ledger: Ledger, conn: sa.Connection, park_code: str, moment: datetime) -> _Known:
    """The versions recorded by `moment`: from the audit log, and from the store past the log's
    last row when `moment` is after it (one indexed query that finds nothing when current)."""
    c = AUDIT_LOG.c
    of_park = c.park_code == park_code
    known, head = conn.execute(sa.select(
        sa.select(sa.func.max(c.version)).where(of_park, c.recorded_at <= utc(moment))
        .scalar_subquery(),
        sa.select(sa.func.max(c.version)).where(of_park).scalar_subquery())).one()
    known, head = known or 0, head or 0
    if known < head:  # recorded after `moment`: whatever the log lacks is later still
        return _Known(known, known, [])
    later = cast(list[Park.Event], list(ledger.events.get(park_id(park_code), gt=head)))
    if not head and not later:
        raise ParkNotFoundError(park_code)
    unindexed = list(takewhile(lambda e: e.recorded_at <= moment, later))
    return _Known(head + len(unindexed), head, unindexed)


def _known_page(conn: sa.Connection, park_code: str, known: _Known, after: int,
                limit: int) -> list[dict[str, Any]]:
    """Versions after `after` (at most `limit`) as known: each event's record, with the
    corrections recorded by then that name it, in the order they were recorded."""
    last = min(after + limit, known.version)
    if last <= after:
        return []
    later_fixes: dict[int, list[int]] = {}
    for event in known.unindexed:
        if isinstance(event, Park.EntryCorrected):
            later_fixes.setdefault(event.corrects_version, []).append(event.originator_version)
    c = AUDIT_LOG.c
    rows = conn.execute(sa.select(c.version, c.record, c.protected).where(
        c.park_code == park_code, c.version > after, c.version <= min(last, known.indexed))
        .order_by(c.version)).all()
    fixes = corrections_of(conn, park_code, after, last, up_to=known.version)
    page = [{**_without_position(stored_record(record, protected)),
             "corrected_by": fixes.get(version, []) + later_fixes.get(version, [])}
            for version, record, protected in rows]
    page += [{**event_record(e), "corrected_by": later_fixes.get(e.originator_version, [])}
             for e in known.unindexed if after < e.originator_version <= last]
    return page


def _known_state(ledger: Ledger, park_code: str, version: int) -> dict[str, Any] | None:
    """The state after versions 1..`version` (from the nearest snapshot), or None before the
    filing."""
    if not version:
        return None
    return _Rebuilt(ledger.repository.get(park_id(park_code), version=version),
                    version).summary()


def _without_position(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record as `event_record` makes it without a position: the same entry whether
    it was read from the log or decoded from the store."""
    return {k: v for k, v in record.items() if k != "position"}


# ------------------------------------------------------------------------- building states


def _effective_order(ledger: Ledger, park_code: str, day: date) -> Order:
    """The versions effective on or before `day`, in the order they apply, with sort keys."""
    with ledger.reader.connect() as conn:
        rows = conn.execute(sa.select(AUDIT_LOG.c.version, AUDIT_LOG.c.effective_on,
                                      AUDIT_LOG.c.corrects_version)
                            .where(AUDIT_LOG.c.park_code == park_code)).all()
    if not rows:
        _require_park(ledger, park_code)
    effective = {version: on for version, on, _ in rows}
    keys: dict[int, tuple[Any, ...]] = {}
    for version, on, corrects in rows:
        if on > day:
            continue
        key: tuple[Any, ...] = (on, version, 0)
        if corrects is not None and corrects in effective:
            if effective[corrects] > day:
                continue  # the corrected entry is not effective yet
            target = (effective[corrects], corrects, 0)
            if target > key:
                key = (effective[corrects], corrects, version)
        keys[version] = (date.min, 1, 0) if version == 1 else key
    return sorted(keys.items(), key=lambda item: item[1])


@dataclass
class _Rebuilt:
    """A park being rebuilt from a chosen list of its events."""

    park: Park | None = None
    version: int = 0  # the highest version applied
    unapplied: list[int] = field(default_factory=list)

    def apply(self, event: Park.Event) -> None:
        if self.park is None:
            self.park = cast(Park, event.mutate(None))
        else:
            try:
                event.apply(self.park)
            except (AttributeError, KeyError, TypeError):
                # An order the ledger never saw (a publicity closed, by effective date, before
                # it started) may not fit the aggregate's state: say so, keep going.
                self.unapplied.append(event.originator_version)
        self.version = max(self.version, event.originator_version)

    def summary(self) -> dict[str, Any] | None:
        if self.park is None:
            return None
        return {**park_summary(self.park), "version": self.version,
                "unapplied": list(self.unapplied)}


def _fold(ledger: Ledger, park_code: str, order: Order) -> _Rebuilt:
    """The park after applying the listed versions in order; versions 1..k that come first in
    order are loaded from the repository (snapshots), the rest applied one by one."""
    versions = [v for v, _ in order]
    prefix = 0
    while prefix < len(versions) and versions[prefix] == prefix + 1:
        prefix += 1
    rebuilt = _Rebuilt()
    if prefix:
        rebuilt.park = ledger.repository.get(park_id(park_code), version=prefix)
        rebuilt.version = prefix
    for event in _events(ledger, park_code, order[prefix:]):
        rebuilt.apply(event)
    return rebuilt


def _events(ledger: Ledger, park_code: str, order: Order) -> list[Park.Event]:
    """The listed versions' events, in the listed order (read in one pass over the range)."""
    if not order:
        return []
    versions = [v for v, _ in order]
    by_version = {e.originator_version: e for e in ledger.events.get(
        park_id(park_code), gt=min(versions) - 1, lte=max(versions))}
    return [cast(Park.Event, by_version[v]) for v in versions]


def _timeline(events: list[Park.Event]) -> list[dict[str, Any]]:
    """Event records, each marked with the corrections among these events that name it."""
    corrected: dict[int, list[int]] = {}
    for event in events:
        if isinstance(event, Park.EntryCorrected):
            corrected.setdefault(event.corrects_version, []).append(event.originator_version)
    return [{**event_record(e), "corrected_by": corrected.get(e.originator_version, [])}
            for e in events]


def _head(ledger: Ledger, park_code: str) -> int:
    with ledger.reader.connect() as conn:
        return conn.scalar(sa.select(sa.func.max(AUDIT_LOG.c.version))
                           .where(AUDIT_LOG.c.park_code == park_code)) or 0


def _require_park(ledger: Ledger, park_code: str) -> None:
    if park_id(park_code) not in ledger.repository:
        raise ParkNotFoundError(park_code)


def _require_page(after: int, limit: int) -> None:
    if after < 0:
        raise ValidationError("after", "must be 0 or more (the `next` of the previous page)")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}")


def _require_aware(moment: datetime, field: str) -> None:
    if moment.tzinfo is None:
        raise ValidationError(field, "needs a time zone, e.g. 2026-05-01T12:00:00+08:00")


def _moment(moment: Moment) -> dict[str, str]:
    if isinstance(moment, datetime):
        return {"known_at": moment.isoformat()}
    return {"effective_on": moment.isoformat()}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value} if prefix else {}
