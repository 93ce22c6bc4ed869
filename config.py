"""Configuration: the only place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SQLITE_PATH = Path("instance") / "ledger.db"


def _default_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


@dataclass(frozen=True)
class Config:
    """Settings for one ledger: where it stores events and how it reads the calendar."""

    database_url: str = field(default_factory=_default_url)
    calendar_file: str | None = None
    timezone: str = "Asia/Shanghai"
    secret_key: str = "dev-only-change-me"
    park_cache_size: int = 1000  # parks each process keeps in memory between commands; 0: none

    @classmethod
    def from_env(cls, **overrides: str | None) -> Config:
        """Build the configuration from LEDGER_* environment variables, then explicit overrides."""
        values: dict[str, str | None] = {
            "database_url": os.environ.get("LEDGER_DATABASE_URL") or _default_url(),
            "calendar_file": os.environ.get("LEDGER_CALENDAR_FILE") or None,
            "timezone": os.environ.get("LEDGER_TIMEZONE", "Asia/Shanghai"),
            "secret_key": os.environ.get("LEDGER_SECRET_KEY", "dev-only-change-me"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        size = _count("LEDGER_PARK_CACHE_SIZE", cls.park_cache_size)
        return cls(**values, park_cache_size=size)  # type: ignore[arg-type]


def _count(name: str, default: int) -> int:
    """A non-negative integer setting; anything else is refused, naming the variable."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ValueError(f"{name} must be a whole number >= 0, not {text!r}")
    return int(text)


def test_postgres_url() -> str | None:
    """The PostgreSQL server the test suite may use, if any (LEDGER_TEST_POSTGRES_URL)."""
    return os.environ.get("LEDGER_TEST_POSTGRES_URL") or None
