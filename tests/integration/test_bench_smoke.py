"""The benchmark runs end to end on tiny data, on SQLite and PostgreSQL, so it cannot rot.

No timing is asserted here (speed lives in bench/ and docs/benchmarks.md): only that every figure
is measured, against its baseline, from a history the ledger recorded without refusing a line.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest

from bench.generator import LATEST, SIZES, generate
from bench.http import median_of
from bench.run import run
from bench.scaling import table as scaling
from ledger.commands import COMMANDS
from ledger.domain.calendar import WorkingDayCalendar
from tests.conftest import POSTGRES_URL, _check_postgres

FIGURES = ("commands", "bulk_import", "rebuild", "verify", "as_known_at", "audit_search")


def test_the_generator_is_deterministic_from_its_seed():
    assert list(generate("tiny", seed=7)) == list(generate("tiny", seed=7))
    assert list(generate("tiny", seed=7)) != list(generate("tiny", seed=8))


def test_the_small_history_uses_every_command_with_overrides_and_back_dated_entries():
    lines = list(generate("small"))
    assert set(Counter(line["command"] for line in lines)) == set(COMMANDS)
    assert len({line["park_code"] for line in lines}) == SIZES["small"].parks
    assert any("override_reason" in line for line in lines)
    by_park: dict[str, list[str]] = {}
    for line in lines:
        by_park.setdefault(line["park_code"], []).append(line["effective_on"])
    assert any(days != sorted(days) for days in by_park.values())  # recorded late
    assert max(line["effective_on"] for line in lines) <= LATEST.isoformat()


def test_generated_publicity_lasts_at_least_five_working_days_art_6_3():
    """Art. 6(3): every generated publicity window has ≥ 5 statutory working days."""
    calendar = WorkingDayCalendar()
    windows = [line for line in generate("small") if line["command"] == "start_publicity"]
    assert windows
    for line in windows:
        days = calendar.working_days_between(date.fromisoformat(line["starts_on"]),
                                             date.fromisoformat(line["ends_on"]))
        assert days >= 5, line


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_benchmark_runs_on_tiny_data(kind, tmp_path):
    if kind == "postgres":
        _check_postgres()
    path = run("tiny", kind, repeat=1, postgres_url=POSTGRES_URL, http=kind == "postgres",
               out_dir=tmp_path, log=lambda _message: None,
               http_options={"processes": 2, "threads": 2, "duration": 1, "warmup": 0.5,
                             "repeat": 2})

    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["data"]["parks"] == SIZES["tiny"].parks
    assert result["populate"]["lines"] == result["data"]["park_events"]
    for name in FIGURES:
        figure = result["figures"][name]
        assert figure["median"] > 0 and figure["baseline"]["median"] > 0, name
        assert figure["ratio"] > 0, name
    assert result["figures"]["as_known_at"]["p95_ms"] > 0
    assert set(result["targets"]) == {"commands", "bulk_import", "rebuild", "as_known_at",
                                      "http"}
    assert result["machine"]["nproc"] and result["versions"]["eventsourcing"] == "9.5.6"
    if kind == "postgres":
        scenarios = result["http"]["scenarios"]
        for name in ("park_page", "command"):
            assert scenarios[name]["requests"] > 0
            assert set(scenarios[name]["statuses"]) == {"201" if name == "command" else "200"}
        for name in ("audit_log_page", "dashboard_page", "findings_page", "finance_page",
                     "audit_ui_page", "park_ui_page"):
            assert scenarios[name]["requests"] > 0, name
            assert set(scenarios[name]["statuses"]) == {"200"}, name
        for name, scenario in scenarios.items():  # two rounds, the figure their median
            assert [r["p95_ms"] for r in scenario["runs"]] and len(scenario["runs"]) == 2, name
            assert scenario["p95_ms"] == sum(r["p95_ms"] for r in scenario["runs"]) / 2, name
        assert len(result["http"]["baseline"]["runs"]) == 2
    side_by_side = scaling(path, path)  # small against large, here the run against itself
    for name in FIGURES:
        assert f"| {name} " in side_by_side, name
    assert side_by_side.count("| 1.00 |") == len(FIGURES) + (8 if kind == "postgres" else 0)


def test_an_http_figure_is_the_median_of_its_rounds():
    rounds = [{"requests": n * 10, "duration_s": 10, "req_per_s": n, "p50_ms": p, "p95_ms": 2 * p,
               "p99_ms": 3 * p, "max_ms": 4 * p, "statuses": {"200": n * 10}, "concurrency": 16,
               "ratio_req_per_s_to_trivial_app": n / 100}
              for n, p in ((300, 9.0), (100, 30.0), (200, 10.0))]
    rounds[1]["statuses"] = {"200": 990, "503": 10}

    figure = median_of(rounds)

    assert (figure["req_per_s"], figure["p50_ms"], figure["p95_ms"], figure["p99_ms"]) == \
        (200, 10.0, 20.0, 30.0)
    assert figure["ratio_req_per_s_to_trivial_app"] == 2.0
    assert figure["requests"] == 6000 and figure["max_ms"] == 120.0
    assert figure["statuses"] == {"200": 5990, "503": 10}
    assert [r["p95_ms"] for r in figure["runs"]] == [18.0, 60.0, 20.0]
