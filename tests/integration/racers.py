"""Code run in separate OS processes (multiprocessing, "spawn") to race on one database.

Each process builds its own Ledger from the URL, waits at a barrier so all start together, sends
its commands and reports each outcome on a queue as plain data.
"""

from __future__ import annotations

import faulthandler
import traceback
from datetime import UTC, datetime
from typing import Any

from config import Config
from ledger.application import Ledger
from ledger.domain.errors import LedgerError


def fixed_clock() -> datetime:
    return datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def race(database_url: str, commands: list[tuple[str, dict[str, Any], dict[str, str]]],
         barrier: Any, queue: Any) -> None:
    """Send `commands` in order; put ("ok", result) or ("error", code, body) for each."""
    faulthandler.dump_traceback_later(90, exit=True)  # a stuck racer shows where, and ends
    try:
        ledger = Ledger(Config(database_url=database_url), clock=fixed_clock)
    except Exception:  # report, so the parent fails with the cause instead of waiting
        queue.put(("crash", traceback.format_exc()))
        barrier.abort()  # and the others stop waiting for this one
        return
    try:
        try:
            barrier.wait(timeout=120)
        except Exception:
            queue.put(("crash", traceback.format_exc()))
            raise
        for command, payload, actor in commands:
            try:
                queue.put(("ok", ledger.execute(command, payload, actor)))
            except LedgerError as error:
                queue.put(("error", error.code, error.to_dict()))
            except Exception:
                queue.put(("crash", traceback.format_exc()))
    finally:
        ledger.close()
