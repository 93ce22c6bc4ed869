"""The subsidy ledger read model: the Art. 9 opening subsidy and the Art. 17 refunds.

Stored: one row per money event (kind, amount in fen, dates; a corrected amount or deadline is
rewritten, the event itself stays in the audit log), and per park its prefecture and revocation.
Read for a day `as_of` (money effective on or before it), per park, per prefecture and for the
province:
- disbursed, refund demanded, refunded;
- net retained = disbursed - refunded;
- outstanding = demanded - refunded, never below zero (a receipt beyond the demand, recorded
  under override, shows as `refunded_beyond_demand` instead);
- overdue = what was demanded with a deadline before `as_of` and is not yet received (receipts
  pay the oldest demand first);
and the clawback list: every revoked park, since when, what it still owes, what came back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from ledger.domain import rules
from ledger.projections.rows import Rows
from ledger.projections.runner import (
    METADATA,
    Handler,
    Projection,
    kept,
    to_fen,
    today,
    yuan,
)

if TYPE_CHECKING:
    from ledger.application import Ledger

KINDS = {"SubsidyDisbursed": "disbursed", "RefundDemanded": "demanded",
         "RefundReceived": "received"}
MONEY_FIELDS = ("amount_yuan", "deadline", "effective_on", "voucher_no", "notice_no")
TOTALS = ("disbursed", "refund_demanded", "refunded", "net_retained", "outstanding", "overdue",
          "refunded_beyond_demand")

SUBSIDY_PARKS = sa.Table(
    "rm_subsidy_park", METADATA,
    sa.Column("park_code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefecture", sa.String(6), nullable=False, index=True),
    sa.Column("revoked_on", sa.Date),
    sa.Column("revocation_no", sa.String(100)),
)
SUBSIDY_ENTRIES = sa.Table(
    "rm_subsidy_entry", METADATA,
    sa.Column("park_code", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("deadline", sa.Date),
    sa.Column("reference", sa.String(100), nullable=False),  # voucher or notice number
    sa.Column("corrected_by", sa.JSON, nullable=False),
)


class Subsidies(Projection):
    """Money per park: what went out, what was demanded back, what came back."""

    name = "subsidies"
    tables = (SUBSIDY_PARKS, SUBSIDY_ENTRIES)

    def handlers(self) -> dict[str, Handler]:
        return {"ApplicationFiled": self._filed, "PlaqueRevoked": self._revoked,
                "EntryCorrected": self._corrected,
                **{kind: self._money for kind in KINDS}}

    def begin(self, rows: Rows) -> None:
        self._parks: dict[str, dict[str, Any]] = {}  # parks filed in this batch
        self._entries: dict[tuple[str, int], dict[str, Any] | None] = {}  # None: no such entry
        self._new: set[tuple[str, int]] = set()
        self._dirty: set[tuple[str, int]] = set()

    def prepare(self, rows: Rows, events: list[tuple[int, Any]]) -> None:
        """Load, in one SELECT, the entries of the parks whose money this batch's corrections
        name (a park has few), and keep those named."""
        keys = {(event.park_code, event.corrects_version) for _, event in events
                if type(event).__name__ == "EntryCorrected" and event.field in MONEY_FIELDS}
        for row in rows.select(SUBSIDY_ENTRIES, "park_code", {code for code, _ in keys}):
            if (row["park_code"], row["version"]) in keys:
                self._entries[(row["park_code"], row["version"])] = row
        for key in keys:
            self._entries.setdefault(key, None)

    def flush(self, rows: Rows) -> None:
        rows.insert(SUBSIDY_PARKS, list(self._parks.values()))
        rows.insert(SUBSIDY_ENTRIES, [cast(dict[str, Any], self._entries[key])
                                      for key in self._new])
        rows.update(SUBSIDY_ENTRIES, ("park_code", "version"),
                    [cast(dict[str, Any], self._entries[key]) for key in self._dirty - self._new])
        self.begin(rows)

    def _park(self, rows: Rows, code: str, **values: Any) -> None:
        if code in self._parks:
            self._parks[code].update(values)
        else:
            rows.set(SUBSIDY_PARKS, {"park_code": code}, **values)

    def _filed(self, rows: Rows, position: int, event: Any) -> None:
        self._parks[event.park_code] = dict(park_code=event.park_code, name=event.name,
                                            prefecture=event.prefecture, revoked_on=None,
                                            revocation_no=None)

    def _revoked(self, rows: Rows, position: int, event: Any) -> None:
        self._park(rows, event.park_code, revoked_on=event.effective_on,
                   revocation_no=event.decision_no)

    def _money(self, rows: Rows, position: int, event: Any) -> None:
        kind = KINDS[type(event).__name__]
        key = (event.park_code, event.originator_version)
        self._new.add(key)
        self._entries[key] = dict(
            park_code=event.park_code, version=event.originator_version, position=position,
            kind=kind, amount_fen=to_fen(event.amount_yuan), effective_on=event.effective_on,
            deadline=getattr(event, "deadline", None),
            reference=getattr(event, "voucher_no", None) or event.notice_no, corrected_by=[])

    def _corrected(self, rows: Rows, position: int, event: Any) -> None:
        if event.corrects_version == 1 and event.field in ("name", "prefecture"):
            self._park(rows, event.park_code, **{event.field: event.right_value})
            return
        values = _corrected_columns(event.field, event.right_value)
        if not values:
            return
        key = (event.park_code, event.corrects_version)
        if key not in self._entries:  # not prepared (a caller that skipped `prepare`)
            found = rows.select(SUBSIDY_ENTRIES, "park_code", [key[0]], version=key[1])
            self._entries[key] = found[0] if found else None
        entry = self._entries[key]
        if entry is not None:
            entry.update(values, corrected_by=[*entry["corrected_by"], event.originator_version])
            self._dirty.add(key)


def _corrected_columns(field: str, value: str) -> dict[str, Any]:
    """The entry's columns a correction of `field` to `value` rewrites (none if not money's)."""
    if field == "amount_yuan":
        return {"amount_fen": to_fen(value)}
    if field in ("deadline", "effective_on"):
        return {field: date.fromisoformat(value)}
    if field in ("voucher_no", "notice_no"):
        return {"reference": value}
    return {}


# ------------------------------------------------------------------------- queries


def ledger_report(ledger: Ledger, as_of: date | None = None,
                  prefecture: str | None = None) -> dict[str, Any]:
    """The whole subsidy ledger on `as_of`: per park, per prefecture, province, clawbacks."""
    day = as_of or today(ledger)
    balanced = _balanced_parks(ledger, day, prefecture=prefecture)
    per_park = [_park(row, fen) for row, fen in balanced]
    return {"as_of": day.isoformat(), "parks": per_park, **_totals(balanced),
            "clawbacks": clawbacks(ledger, day, per_park)}


def ledger_page(ledger: Ledger, as_of: date | None = None, *, offset: int = 0,
                limit: int = 100) -> dict[str, Any]:
    """The subsidy ledger on `as_of` as the finance page shows it: the totals, clawbacks and
    overdue refunds in full, the parks from `offset` (`limit` of them; `parks_total` in all).
    Only what is shown is written out as yuan; all but the page's parks is kept while the
    day and the read model stay where they are: `stamp`, what the answer depends on, keys
    whatever a caller keeps that is made of it alone (the page's rendered lists)."""
    day = as_of or today(ledger)
    stamp = _stamp(ledger, day)
    balanced = _balanced_parks(ledger, day, stamp=stamp)

    def whole() -> dict[str, Any]:
        revoked = [_park(row, fen) for row, fen in balanced if row["revoked_on"] is not None]
        return {"as_of": day.isoformat(), **_totals(balanced),
                "clawbacks": clawbacks(ledger, day, revoked),
                "overdue": [_park(row, fen) for row, fen in balanced if fen["overdue"] > 0],
                "parks_total": len(balanced), "stamp": stamp}

    return {**kept(ledger, "subsidies.page", stamp, whole),
            "parks": [_park(row, fen) for row, fen in balanced[offset:offset + limit]]}


def _totals(balanced: list[tuple[Any, dict[str, int]]]) -> dict[str, Any]:
    by_prefecture: dict[str, list[dict[str, int]]] = defaultdict(list)
    for row, fen in balanced:
        by_prefecture[row["prefecture"]].append(fen)
    return {"prefectures": [{"prefecture": code,
                             "prefecture_name": rules.PREFECTURES.get(code, ""),
                             "parks": len(rows), **_sum(rows)}
                            for code, rows in sorted(by_prefecture.items())],
            "province": {"parks": len(balanced), **_sum([fen for _, fen in balanced])}}


def province(ledger: Ledger, as_of: date | None = None) -> dict[str, Any]:
    """The province's totals on `as_of`, as `ledger_report` gives them, without the report:
    the sums of the parks that have money entries (the others add nothing)."""
    with ledger.reader.connect() as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(SUBSIDY_PARKS)) or 0
        money, due = _sums(conn, as_of or today(ledger))
    return {"parks": count, **_sum([_balances(money[code], due[code]) for code in money])}


def parks(ledger: Ledger, as_of: date | None = None, *, park_code: str | None = None,
          prefecture: str | None = None) -> list[dict[str, Any]]:
    """Per park balances on `as_of`, ordered by park code."""
    return [_park(row, fen) for row, fen in _balanced_parks(
        ledger, as_of or today(ledger), park_code=park_code, prefecture=prefecture)]


def _balanced_parks(ledger: Ledger, day: date, *, park_code: str | None = None,
                    prefecture: str | None = None, stamp: tuple[date, int | None] | None = None
                    ) -> list[tuple[Any, dict[str, int]]]:
    """Each park's row with its balances on `day` in fen, ordered by park code; those of every
    park kept while the day and the read model stay where they are (paging through the
    finance page reads them once)."""
    if park_code is None and prefecture is None:
        return kept(ledger, "subsidies.balanced", stamp or _stamp(ledger, day),
                    lambda: _read_balanced_parks(ledger, day, None, None))
    return _read_balanced_parks(ledger, day, park_code, prefecture)


def _stamp(ledger: Ledger, day: date) -> tuple[date, int | None]:
    """What answers about every park depend on: the day and this read model's position."""
    return day, ledger.projections.positions().get(Subsidies.name)


def _read_balanced_parks(ledger: Ledger, day: date, park_code: str | None,
                         prefecture: str | None) -> list[tuple[Any, dict[str, int]]]:
    query = sa.select(SUBSIDY_PARKS).order_by(SUBSIDY_PARKS.c.park_code)
    if park_code:
        query = query.where(SUBSIDY_PARKS.c.park_code == park_code)
    if prefecture:
        query = query.where(SUBSIDY_PARKS.c.prefecture == prefecture)
    with ledger.reader.connect() as conn:
        rows = conn.execute(query).mappings().all()
        money, due = _sums(conn, day, park_code)
    return [(row, _balances(money[row["park_code"]], due[row["park_code"]])) for row in rows]


def _sums(conn: sa.Connection, day: date, park_code: str | None = None
          ) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Per park, the sums in fen of its money entries effective by `day`, by kind, and of its
    demands whose deadline has passed: the database's sums, one row per park and kind."""
    e = SUBSIDY_ENTRIES.c
    past_deadline = sa.case((sa.and_(e.kind == "demanded", e.deadline < day), e.amount_fen),
                            else_=0)
    query = sa.select(e.park_code, e.kind, sa.func.sum(e.amount_fen),
                      sa.func.sum(past_deadline)).where(e.effective_on <= day).group_by(
        e.park_code, e.kind)
    if park_code:
        query = query.where(e.park_code == park_code)
    money: dict[str, dict[str, int]] = defaultdict(dict)
    due: dict[str, int] = defaultdict(int)
    for code, kind, total, overdue in conn.execute(query):
        money[code][kind] = int(total)
        due[code] += int(overdue)
    return money, due


def _park(row: Any, fen: dict[str, int]) -> dict[str, Any]:
    return {"park_code": row["park_code"], "name": row["name"], "prefecture": row["prefecture"],
            "revoked_on": row["revoked_on"] and row["revoked_on"].isoformat(),
            **{k: yuan(v) for k, v in fen.items()}}


def entries(ledger: Ledger, park_code: str) -> list[dict[str, Any]]:
    """A park's money events, oldest first, with the corrections that changed them."""
    query = sa.select(SUBSIDY_ENTRIES).where(SUBSIDY_ENTRIES.c.park_code == park_code)
    with ledger.reader.connect() as conn:
        rows = conn.execute(query.order_by(SUBSIDY_ENTRIES.c.version)).mappings().all()
    return [{"version": r["version"], "position": r["position"], "kind": r["kind"],
             "amount_yuan": yuan(r["amount_fen"]), "effective_on": r["effective_on"].isoformat(),
             "deadline": r["deadline"] and r["deadline"].isoformat(),
             "reference": r["reference"], "corrected_by": list(r["corrected_by"])}
            for r in rows]


def clawbacks(ledger: Ledger, as_of: date | None = None,
              per_park: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Revoked parks (revoked on or before `as_of`): since when, owed, demanded, came back."""
    day = as_of or today(ledger)
    rows = per_park if per_park is not None else parks(ledger, day)
    return [{"park_code": p["park_code"], "name": p["name"], "prefecture": p["prefecture"],
             "revoked_on": p["revoked_on"], "disbursed": p["disbursed"],
             "refund_demanded": p["refund_demanded"], "refunded": p["refunded"],
             "owed": p["net_retained"] if not p["net_retained"].startswith("-") else "0.00",
             "outstanding": p["outstanding"], "overdue": p["overdue"]}
            for p in rows if p["revoked_on"] and p["revoked_on"] <= day.isoformat()]


def _balances(total: dict[str, int], due: int) -> dict[str, int]:
    """A park's balances in fen from the sums of its entries by kind and of its demands whose
    deadline has passed."""
    disbursed, demanded, received = (total.get(k, 0) for k in ("disbursed", "demanded",
                                                                 "received"))
    return {"disbursed": disbursed, "refund_demanded": demanded, "refunded": received,
            "net_retained": disbursed - received,
            "outstanding": max(0, demanded - received),
            "overdue": max(0, due - received),
            "refunded_beyond_demand": max(0, received - demanded)}


def _sum(rows: list[dict[str, int]]) -> dict[str, str]:
    return {k: yuan(sum(r[k] for r in rows)) for k in TOTALS}
