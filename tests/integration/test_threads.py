"""One ledger served by several threads (as waitress serves it): writers never deadlock with
the read models' catch-up, and the read models end current."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ledger.integrity import verify
from tests.builders import CLERK, event_count, filing


def _file_and_supplement(ledger, n: int) -> list[int]:
    code = f"KM-2026-{n:02d}"
    versions = [ledger.file_application(CLERK, **filing(code))["version"]]
    for i in range(4):
        versions.append(ledger.supplement_materials(
            CLERK, park_code=code, effective_on="2026-02-01", note=f"补充材料 {i}")["version"])
    return versions


def test_threads_writing_at_once_all_record_and_read_models_catch_up(ledger):
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda n: _file_and_supplement(ledger, n), range(1, 9)))

    assert outcomes == [[1, 2, 3, 4, 5]] * 8
    assert event_count(ledger) == 40
    head = ledger.recorder.max_notification_id()
    assert set(ledger.projections.positions().values()) == {head}
    assert verify(ledger.database, ledger.engine).ok
