"""`ledger import`: JSON Lines of commands into the ledger, each line recorded whole or refused.

A line is a JSON object with `command`, `actor` and the command's fields at the top level
(DESIGN.md, "Commands and their fields"). A line written by `ledger export` (an event, with
`event_type` instead of `command`) is read as the command that records that event again, so an
export can be imported into a fresh database; the ledger sets the recorded time and recomputes
flags and hashes. An exported event without an idempotency key must land on the version it had
(`expected_version`); one with a key is sent with that key alone, as it was first sent, so that
importing an export into the ledger it came from replays instead of recording twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ledger.application import Ledger
from ledger.collector import batch_work
from ledger.commands import COMMANDS
from ledger.domain.errors import LedgerError, ValidationError

EVENT_COMMANDS = {spec.event: spec.name for spec in COMMANDS.values()}
RECORD_COMMON = ("park_code", "effective_on", "reason", "documents", "override_reason",
                 "idempotency_key")
RECORDED, REPLAYED, REFUSED = "recorded", "replayed", "refused"


@dataclass(frozen=True)
class LineOutcome:
    """What became of one line: recorded, replayed (its idempotency key was already recorded) or
    refused with the error."""

    line: int
    status: str
    command: str | None = None
    park_code: str | None = None
    version: int | None = None
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class ImportReport:
    """Counts of every outcome, and every refused line with its error."""

    recorded: int = 0
    replayed: int = 0
    refused: list[LineOutcome] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return self.recorded + self.replayed + len(self.refused)

    @property
    def ok(self) -> bool:
        """True when every line is in the ledger (recorded now or before)."""
        return not self.refused

    def add(self, outcome: LineOutcome) -> None:
        if outcome.status == RECORDED:
            self.recorded += 1
        elif outcome.status == REPLAYED:
            self.replayed += 1
        else:
            self.refused.append(outcome)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "lines": self.lines, "recorded": self.recorded,
                "replayed": self.replayed, "refused": [o.as_dict() for o in self.refused]}

    def summary(self) -> str:
        return (f"{self.lines} lines: {self.recorded} recorded, {self.replayed} already recorded "
                f"(same idempotency key), {len(self.refused)} refused")


BATCH_SIZE = 200  # lines decided together and saved in one transaction (each still whole or not)


def import_lines(ledger: Ledger, lines: Iterable[str],
                 batch_size: int = BATCH_SIZE) -> ImportReport:
    """Record each non-blank line as one command; refusals are reported, never raised.

    Lines are recorded in batches (`Ledger.execute_many`): a batch is one transaction, and each
    line in it is still recorded whole or refused alone, exactly as if the lines were sent one
    by one. `batch_size=1` sends them one by one. Python's cycle collector runs its full
    collections a tenth as often meanwhile (ledger/collector.py).
    """
    with batch_work():
        return _import_lines(ledger, lines, batch_size)


def _import_lines(ledger: Ledger, lines: Iterable[str], batch_size: int) -> ImportReport:
    report = ImportReport()
    batch: list[tuple[int, str, dict[str, Any], Any] | LineOutcome] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            command, payload, actor = parse_line(text)
        except LedgerError as error:  # reported in line order with the batch around it
            batch.append(LineOutcome(number, REFUSED, error=error.to_dict()))
            continue
        batch.append((number, command, payload, actor))
        if len(batch) >= batch_size:
            _record_batch(ledger, batch, report)
            batch = []
    if batch:
        _record_batch(ledger, batch, report)
    return report


def _record_batch(ledger: Ledger, batch: list[tuple[int, str, dict[str, Any], Any] | LineOutcome],
                  report: ImportReport) -> None:
    """Record the batch's lines (one by one if there is only one) and report every line of it,
    in line order."""
    lines = [item for item in batch if not isinstance(item, LineOutcome)]
    if len(lines) == 1:
        number, command, payload, actor = lines[0]
        results: list[dict[str, Any] | LedgerError] = [
            _execute_or_error(ledger, command, payload, actor)]
    else:
        results = ledger.execute_many([(c, p, a) for _, c, p, a in lines]) if lines else []
    outcomes = iter(results)
    for item in batch:
        if isinstance(item, LineOutcome):
            report.add(item)
            continue
        number, command, payload, _actor = item
        result = next(outcomes)
        report.add(_outcome(number, command, payload, partial(_raise_or_return, result)))


def _execute_or_error(ledger: Ledger, command: str, payload: dict[str, Any],
                      actor: Any) -> dict[str, Any] | LedgerError:
    try:
        return ledger.execute(command, payload, actor)
    except LedgerError as error:
        return error


def _raise_or_return(result: dict[str, Any] | LedgerError) -> dict[str, Any]:
    if isinstance(result, LedgerError):
        raise result
    return result


def _outcome(number: int, command: str, payload: dict[str, Any],
             record: Callable[[], dict[str, Any]]) -> LineOutcome:
    park_code = payload.get("park_code") if isinstance(payload.get("park_code"), str) else None
    try:
        result = record()
    except LedgerError as error:
        return LineOutcome(number, REFUSED, command, park_code, error=error.to_dict())
    status = REPLAYED if result.get("replayed") else RECORDED
    return LineOutcome(number, status, command, result["park_code"], result["version"])


def import_commands(ledger: Ledger, commands: Iterable[dict[str, Any]],
                    batch_size: int = BATCH_SIZE) -> ImportReport:
    """Record command objects (already parsed lines), as `import_lines` does."""
    return import_lines(ledger, (json.dumps(c, ensure_ascii=False) for c in commands),
                        batch_size=batch_size)


def import_line(ledger: Ledger, number: int, text: str) -> LineOutcome:
    """Record one line, or say why not; nothing is written for a refused line."""
    command: str | None = None
    park_code: str | None = None
    try:
        command, payload, actor = parse_line(text)
        park_code = payload.get("park_code") if isinstance(payload.get("park_code"), str) \
            else None
        result = ledger.execute(command, payload, actor)
    except LedgerError as error:
        return LineOutcome(number, REFUSED, command, park_code, error=error.to_dict())
    status = REPLAYED if result.get("replayed") else RECORDED
    return LineOutcome(number, status, command, result["park_code"], result["version"])


def parse_line(text: str) -> tuple[str, dict[str, Any], Any]:
    """A line's command name, its fields and its actor; ValidationError if malformed."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError("line", f"not valid JSON: {error.msg} at column "
                              f"{error.colno}") from None
    if not isinstance(obj, dict):
        raise ValidationError("line", "must be a JSON object")
    if "command" not in obj and "event_type" in obj:
        obj = command_from_record(obj)
    if "command" not in obj:
        raise ValidationError("command", "missing: each line names its command")
    payload = dict(obj)
    command = payload.pop("command")
    if not isinstance(command, str):
        raise ValidationError("command", "must be a string")
    if "actor" not in payload:
        raise ValidationError("actor", "missing: each line names its actor "
                              "{user, role, organisation}")
    actor = payload.pop("actor")
    return command, payload, actor


def command_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """The import line that records an exported event again (see the module docstring)."""
    event_type = record.get("event_type")
    if event_type not in EVENT_COMMANDS:
        raise ValidationError("event_type", f"unknown event type {event_type!r}")
    fields = record.get("fields")
    if not isinstance(fields, dict):
        raise ValidationError("fields", "must be a JSON object")
    line: dict[str, Any] = {"command": EVENT_COMMANDS[event_type], "actor": record.get("actor")}
    line.update({k: record[k] for k in RECORD_COMMON if record.get(k) is not None})
    line.update(fields)
    version = record.get("version")
    if isinstance(version, int) and version > 1 and "idempotency_key" not in line:
        line["expected_version"] = version - 1
    return line
