"""LedgerError and its subclasses: every refusal the ledger can give, each with a stable code."""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """A refused command or query; nothing was written."""

    code = "ledger_error"

    def __init__(self, message: str, *, field: str | None = None, article: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.article = article
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data, the same shape everywhere (CLI report, JSON API)."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.article is not None:
            body["article"] = self.article
        if self.details:
            body["details"] = self.details
        return body


class ValidationError(LedgerError):
    """Malformed input: a field is missing, of the wrong type or out of range."""

    code = "invalid"

    def __init__(self, field: str, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{field}: {message}", field=field,
                         details={"errors": errors} if errors else None)


class ParkNotFoundError(LedgerError):
    """No park has this code."""

    code = "park_not_found"

    def __init__(self, park_code: str) -> None:
        super().__init__(f"no park with code {park_code!r}", field="park_code")


class DuplicateError(LedgerError):
    """The thing already exists (a park code, an objection number, a graded cycle...)."""

    code = "duplicate"


class LifecycleError(LedgerError):
    """The command does not fit where the park is in its lifecycle."""

    code = "lifecycle"


class RuleBreach(LedgerError):
    """The command breaches the regulation; it is recorded only with an override_reason."""

    code = "rule_breach"

    def __init__(self, breaches: list[dict[str, str]]) -> None:
        first = breaches[0]
        text = "; ".join(f"{b['article']}: {b['message']}" for b in breaches)
        super().__init__(
            f"breaches {text}. Send the command again with override_reason to record it flagged.",
            field="override_reason", article=first["article"],
            details={"breaches": breaches, "override": "override_reason"},
        )
        self.breaches = breaches


class ConcurrencyError(LedgerError):
    """The sender saw an older version of the park than the ledger holds (a stale writer)."""

    code = "stale_version"

    def __init__(self, park_code: str, expected: int, actual: int) -> None:
        super().__init__(
            f"park {park_code} is at version {actual}, the command expected {expected}",
            field="expected_version", details={"expected": expected, "actual": actual},
        )


class ContentionError(ConcurrencyError):
    """Other writers kept taking the park's next version; nothing was written, send again."""

    code = "contended"

    def __init__(self, park_code: str, attempts: int) -> None:
        LedgerError.__init__(
            self, f"park {park_code} is being written by others; gave up after {attempts} "
            "attempts, nothing was recorded", field="park_code", details={"attempts": attempts})


class IdempotencyConflict(LedgerError):
    """An idempotency key was sent again with a different command body."""

    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used for a different command",
            field="idempotency_key",
        )


class PermissionDenied(LedgerError):
    """The actor's role may not issue this command."""

    code = "forbidden"

    def __init__(self, role: str, command: str) -> None:
        super().__init__(f"role {role!r} may not issue {command}", field="actor.role")


class CalendarError(LedgerError):
    """A working-day question about a year whose official schedule is not known."""

    code = "calendar_unknown_year"

    def __init__(self, year: int, field: str) -> None:
        super().__init__(
            f"the statutory working-day schedule of {year} is not known; add it to the calendar "
            "file named by LEDGER_CALENDAR_FILE",
            field=field, details={"year": year},
        )
