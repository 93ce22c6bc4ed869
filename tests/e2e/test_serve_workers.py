"""`ledger serve --workers N`: several processes on one port, connections spread evenly among
them, a worker that dies replaced, all stopped together (ledger/serving.py)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from ledger.serving import DEAD, STARTING, balance
from tests.processes import PROJECT_ROOT, free_port, process_env, run_ledger

CLIENTS = 16


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def serving(self) -> int:
        """How many workers have said they serve, since the start."""
        return self.log.read_text(encoding="utf-8").count(") serving")

    def workers(self) -> list[psutil.Process]:
        return list(psutil.Process(self.process.pid).children())

    def split(self) -> list[int]:
        """How many established connections to the port each worker holds."""
        held: Counter[int] = Counter()
        for worker in self.workers():
            for conn in worker.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == self.port:
                    held[worker.pid] += 1
        return sorted(held[w.pid] for w in self.workers())

    def get(self, conn: http.client.HTTPConnection, path: str = "/healthz") -> dict[str, object]:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body
        return dict(json.loads(body))


def start(database_url: str, port: int, workers: int, log: Path, threads: int = 8
          ) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port), "--workers",
             str(workers), "--threads", str(threads), "--database-url", database_url],
            cwd=PROJECT_ROOT, env=process_env(), stdout=out, stderr=subprocess.STDOUT)


def wait_until_answering(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            pytest.fail(f"ledger serve exited: {log.read_text(encoding='utf-8')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("ledger serve did not answer in 60 s")


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """`ledger serve --workers 2 --threads 8` over the demo data."""
    assert run_ledger("demo", database_url=database_url).returncode == 0
    port, log = free_port(), tmp_path / "serve.log"
    process = start(database_url, port, workers=2, log=log)
    try:
        wait_until_answering(process, port, log)
        yield Served(process, port, log)
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_keep_alive_connections_are_split_evenly_between_the_workers(served: Served) -> None:
    """The kernel's hash of SO_REUSEPORT splits 16 connections 8/8 one time in five; three
    rounds in a row all 8/8 by chance: under one in a hundred."""
    for _ in range(3):
        conns = [http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
                 for _ in range(CLIENTS)]
        answers = [served.get(conn) for conn in conns]  # each connected and answered, kept open
        split = served.split()
        for conn in conns:
            conn.close()

        assert all(a["status"] == "ok" for a in answers)
        assert split == [CLIENTS // 2, CLIENTS // 2], split
        for _ in range(100):  # closed on the server's side too before the next round
            if sum(served.split()) == 0:
                break
            time.sleep(0.05)


def test_a_worker_that_dies_is_replaced_and_the_port_keeps_answering(served: Served) -> None:
    first = served.workers()
    assert len(first) == 2
    os.kill(first[0].pid, signal.SIGKILL)

    for _ in range(600):  # its replacement has built its app and serves
        if served.serving() == 3:
            break
        time.sleep(0.1)
    conns = [http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
             for _ in range(4)]
    answers = [served.get(conn) for conn in conns]
    split = served.split()
    for conn in conns:
        conn.close()

    assert served.process.poll() is None
    assert first[0].pid not in {w.pid for w in served.workers()}
    assert first[1].pid in {w.pid for w in served.workers()}
    assert all(a["status"] == "ok" for a in answers)
    assert split == [2, 2], split  # the new worker takes its share


def test_terminating_the_server_stops_every_worker(served: Served) -> None:
    workers = served.workers()
    assert len(workers) == 2

    served.process.terminate()

    assert served.process.wait(timeout=60) == 0
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == []


def test_a_worker_that_cannot_start_stops_the_server_with_status_2(tmp_path: Path) -> None:
    """A database that is not there: no worker could serve, so nothing is restarted forever."""
    nothing_there, port, log = free_port(), free_port(), tmp_path / "serve.log"
    process = start(f"postgresql://postgres@127.0.0.1:{nothing_there}/test", port,
                    workers=2, log=log)
    try:
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    out = log.read_text(encoding="utf-8")

    assert code == 2, out
    assert "before it could serve" in out
    assert [p for p in psutil.process_iter(["cmdline"])  # no worker left behind
            if str(port) in (p.info["cmdline"] or [])] == []


def test_ledger_serve_refuses_no_workers() -> None:
    done = run_ledger("serve", "--workers", "0")

    assert done.returncode == 2
    assert "--workers and --threads must be at least 1" in done.stderr


class FakeServer:
    """What `balance` uses of a waitress server: its open channels and its own readable()."""

    def __init__(self, channels: int, accepting: bool = True) -> None:
        self.active_channels = dict.fromkeys(range(channels))
        self.accepting = accepting

    def readable(self) -> bool:
        return self.accepting


@pytest.mark.parametrize(("mine", "others", "accepts"), [
    (0, [0, 0], True),     # all idle: any may take the next connection
    (3, [3, 4], True),     # the least loaded (tied)
    (4, [3, 4], False),    # another holds fewer
    (9, [8, 8], False),
    (5, [STARTING, DEAD], True),  # not serving: not counted
])
def test_a_worker_accepts_only_while_it_holds_no_more_connections_than_any_other(
        mine: int, others: list[int], accepts: bool) -> None:
    counts = [0, *others]
    server = FakeServer(mine)
    balance(server, counts, 0)

    assert server.readable() is accepts
    assert counts[0] == mine  # its own count is published first


def test_a_worker_past_waitress_own_connection_limit_never_accepts() -> None:
    server = FakeServer(0, accepting=False)
    balance(server, [0, 5], 0)

    assert server.readable() is False
