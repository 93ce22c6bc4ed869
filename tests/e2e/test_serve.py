"""`ledger serve` answers on a real port."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.processes import PROJECT_ROOT, free_port, process_env, run_ledger


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """A `ledger serve` process on a free port, over the demo data; its base URL."""
    assert run_ledger("demo", database_url=database_url).returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port),
         "--database-url", database_url],
        cwd=PROJECT_ROOT, env=process_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # wait until it listens (or has died)
            if process.poll() is not None:
                pytest.fail(f"ledger serve exited: {process.stdout.read().decode()}")
            try:
                get(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def test_serve_answers_health_and_the_ui_asks_for_a_login(server):
    status, body = get(f"{server}/healthz")
    page_status, page = get(f"{server}/")  # the dashboard, which sends a stranger to log in

    assert status == 200 and json.loads(body)["status"] == "ok"
    assert json.loads(body)["stored_events"] >= 91
    assert page_status == 200
    assert 'name="password"' in page and "登录" in page


def test_a_server_process_freezes_its_start_up_and_collects_the_oldest_objects_seldom():
    """What `ledger serve` does to Python's collector once the app is built (in a process of
    its own: the collector is the whole process's)."""
    script = ("import gc, json; "
              "from ledger.collector import tune_for_serving, FULL_COLLECTION_EVERY; "
              "before = gc.get_threshold(); tune_for_serving(); "
              "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count(), "
              "FULL_COLLECTION_EVERY]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=PROJECT_ROOT, env=process_env()).stdout
    before, after, frozen, every = json.loads(out)

    assert after == [before[0], before[1], every] and every > before[2]
    assert frozen > 0


def test_the_test_server_stops_without_an_error_in_any_of_its_threads(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser tests' waitress (tests/e2e/browser.py) started and stopped many times, each
    time right after answering: no thread dies of a closed socket (CI once failed on it)."""
    import threading

    from flask import Flask

    from tests.e2e.browser import serving

    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_value))
    app = Flask(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    with caplog.at_level("ERROR", logger="waitress"):
        for _ in range(100):
            with serving(app) as base:
                assert get(base + "/") == (200, "ok")
    assert died == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("waitress")] == []
