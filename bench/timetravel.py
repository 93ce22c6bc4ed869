"""Time travel and rebuild on a park with thousands of events.

    PYTHONPATH=. python bench/timetravel.py [DATABASE_URL] [EVENTS]

Writes one park with EVENTS events (objections, one per command, each recorded a second after
the last), then times: as known at the middle, as effective on a date in the middle, a replay
window of 100 steps at the end, a compare of two moments, and a rebuild of every read model.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from config import Config
from ledger import timetravel
from ledger.application import Ledger
from tests.builders import CLERK, to_publicity

CODE = "KM-2026-01"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def timed(label: str, call: Callable[[], object], repeat: int = 5) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<40} {best * 1000:9.1f} ms (best of {repeat})")


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    clock = Clock()
    ledger = Ledger(Config(database_url=url), clock=clock)
    to_publicity(ledger)
    start = time.perf_counter()
    for number in range(events - 5):
        day = (date(2026, 3, 2) + timedelta(days=number % 5)).isoformat()
        ledger.raise_objection(CLERK, park_code=CODE, effective_on=day,
                               objection_no=f"异-{number}", received_on=day,
                               objector={"name": "示例"}, grounds="示例")
    elapsed = time.perf_counter() - start
    print(f"wrote {events} events with read models current: {events / elapsed:,.0f} events/s")
    middle = clock.now - timedelta(seconds=events // 2)
    timed("as_known_at (middle)", lambda: timetravel.as_known_at(ledger, CODE, middle))
    timed("as_effective_on (2026-03-04)",
          lambda: timetravel.as_effective_on(ledger, CODE, date(2026, 3, 4)))
    timed("replay, last 100 steps, recorded order",
          lambda: timetravel.replay(ledger, CODE, start=events - 99, limit=100))
    timed("compare known-at middle vs now",
          lambda: timetravel.compare(ledger, CODE, middle, clock.now))
    timed("rebuild all read models", lambda: ledger.projections.rebuild(), repeat=1)
    ledger.close()


if __name__ == "__main__":
    main()
