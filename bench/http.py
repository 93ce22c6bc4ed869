"""HTTP under load: the web app served as deployed (`ledger serve --workers 2 --threads 2`:
waitress processes sharing one port, connections spread evenly among them, on the benchmark's
database), driven by a load generator in a second process over loopback. Baseline: a trivial
WSGI app served the same way (bench/serve.py).

Scenarios: the park page (`GET /api/v1/parks/<code>`, parks taken round robin), a filtered
audit-log page (an endpoint found in the OpenAPI document whose path names the audit log; none
in this build is reported as such), a command (`POST .../supplement_materials`, each client
on its own filed park, so no two clients race for one park's version), the three UI pages
that read every park (dashboard, findings, finance), the UI's audit-log page with the same
filter and the UI's park page (the same parks; a logged-in browser session). The pages run
after the commands, so their first request in each process finds the read models moved.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.generator import LATEST, Size, generate, split
from ledger.accounts import Accounts
from ledger.application import Ledger
from ledger.domain.errors import DuplicateError
from ledger.projections.audit_log import AUDIT_LOG

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300  # seconds; a busy 2-core machine takes a while to start 2 Flask apps
AUDIT_QUERY = {"prefecture": "530100", "event_type": "EntryCorrected", "limit": "50"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Servers:
    """The app (or the trivial app) served as deployed: `ledger serve --workers N --threads T`
    on a free port, one supervisor process and its workers; stopped on exit."""

    def __init__(self, database_url: str | None, processes: int, threads: int,
                 hello: bool = False) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        program = ["bench.serve"] if hello else ["ledger.cli", "serve",
                                                 "--database-url", str(database_url)]
        command = [sys.executable, "-m", *program, "--port", str(self.port),
                   "--workers", str(processes), "--threads", str(threads)]
        self.logs = [tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in __exit__
            "w+", prefix="bench-serve-", suffix=".log", delete=False)]
        self.procs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
                      for log in self.logs]

    def __enter__(self) -> Servers:
        try:
            self._wait_until_listening()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_until_listening(self) -> None:
        """Nothing listens on the port until every worker has built its app, so a TCP connect
        that succeeds means all are ready (no request: a slow page must not pile up)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a server process exited: {self.errors()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
            except OSError:
                time.sleep(0.5)
                continue
            return
        raise RuntimeError(f"the servers did not start within {START_TIMEOUT} s")

    def errors(self) -> str:
        """What the servers wrote to stderr (tracebacks of 500s, start-up failures)."""
        return "".join(Path(log.name).read_text(encoding="utf-8", errors="replace")
                       for log in self.logs)

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:  # the supervisor stops its workers
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()
            os.unlink(log.name)


def load(port: int, token: str, requests: list[list[Any]], concurrency: int, duration: float,
         warmup: float, per_client: bool = False, cookie: str | None = None,
         run: int = 0) -> dict[str, Any]:
    spec = {"host": "127.0.0.1", "port": port, "token": token, "concurrency": concurrency,
            "duration": duration, "warmup": warmup, "requests": requests,
            "per_client": per_client, "cookie": cookie, "run": run}
    out = subprocess.run([sys.executable, "-m", "bench.load", json.dumps(spec)], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, check=True, timeout=duration + warmup + 120)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def token_for(ledger: Ledger, name: str, role: str) -> str:
    accounts = Accounts(ledger.engine)
    with contextlib.suppress(DuplicateError):
        accounts.add(name, role)
    return accounts.issue_token(name)


def ui_session(ledger: Ledger, port: int, role: str) -> str:
    """The cookie of a UI session of a `role` account, logged in through the login form as a
    browser does (CSRF token and all)."""
    name, password = f"bench.ui-{role}", "bench-password"
    with contextlib.suppress(DuplicateError):
        Accounts(ledger.engine).add(name, role, password)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    with opener.open(f"{base}/login", timeout=30) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    form = urllib.parse.urlencode({"name": name, "password": password,
                                   "csrf_token": token.group(1)}).encode()
    with opener.open(f"{base}/login", data=form, timeout=60) as answer:
        if "/login" in answer.url:
            raise RuntimeError(f"the UI login of {name} failed")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def audit_endpoint(port: int) -> str | None:
    """The audit-log query path of this build's API, with a filter, or None if it has none."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=10) as r:
        spec = json.load(r)
    for path, operations in spec.get("paths", {}).items():
        if "audit" in path and "{" not in path and "get" in operations:
            names = {p.get("name") for p in operations["get"].get("parameters", [])}
            query = "&".join(f"{k}={v}" for k, v in AUDIT_QUERY.items() if k in names)
            return str(path) + (f"?{query}" if query else "")
    return None


def command_parks(ledger: Ledger, count: int) -> list[str]:
    """`count` freshly filed parks, one per client of the command scenario."""
    stamp = f"{int(time.time()) % 100000:05d}"
    size = Size("http", count, 1, 1)
    filings = [line for line in generate(size, key_prefix=f"http-{stamp}", code_prefix=f"H{stamp}")
               if line["command"] == "file_application"]
    outcomes = ledger.execute_many([split(line) for line in filings])
    return [o["park_code"] for o in outcomes if isinstance(o, dict)]


def sample_parks(ledger: Ledger, count: int = 200) -> list[str]:
    with ledger.engine.connect() as conn:
        return list(conn.scalars(sa.select(AUDIT_LOG.c.park_code).distinct()
                                 .order_by(AUDIT_LOG.c.park_code).limit(count)))


def measure(ledger: Ledger, database_url: str, log: Callable[[str], None] = print,
            **options: Any) -> dict[str, Any]:
    """Every HTTP scenario and the trivial-app baseline as one result dict; a failure (e.g. a
    server that does not start) is recorded in it instead of losing the other figures."""
    try:
        return _measure(ledger, database_url, log=log, **options)
    except (OSError, RuntimeError, subprocess.SubprocessError, ValueError) as error:
        log(f"  HTTP measurement failed: {error!r}")
        return {"error": repr(error), "scenarios": {}}


def _measure(ledger: Ledger, database_url: str, processes: int = 2, threads: int = 2,
             concurrency: int = 16, duration: float = 10, warmup: float = 2.0,
             repeat: int = 1, log: Callable[[str], None] = print) -> dict[str, Any]:
    """`repeat` rounds, each the trivial app then every scenario; each figure is the median of
    its rounds, its ratio the median of each round's ratio to that round's trivial app."""
    reader = token_for(ledger, "bench.auditor", "auditor")
    clerk = token_for(ledger, "bench.clerk", "clerk")
    parks = sample_parks(ledger)
    filed = command_parks(ledger, concurrency)
    result: dict[str, Any] = {"processes": processes, "threads": threads,
                              "concurrency": concurrency, "duration_s": duration,
                              "repeat": repeat, "scenarios": {}}
    with Servers(None, processes, threads, hello=True) as hello, \
            Servers(database_url, processes, threads) as servers:
        scenarios: dict[str, tuple[str, list[list[Any]], bool, str | None]] = {
            "park_page": (reader, [["GET", f"/api/v1/parks/{c}", None] for c in parks], False,
                          None),
            "command": (clerk, [["POST", "/api/v1/commands/supplement_materials",
                                 {"park_code": c, "effective_on": LATEST.isoformat(),
                                  "note": "基准补充材料"}] for c in filed], True, None),
        }
        path = audit_endpoint(servers.port)
        if path is None:
            result["scenarios"]["audit_log_page"] = {
                "skipped": "no audit-log endpoint in this build's OpenAPI document"}
        else:
            scenarios["audit_log_page"] = (reader, [["GET", path, None]], False, None)
        session = ui_session(ledger, servers.port, "auditor")
        ui_audit = "/audit?" + "&".join(f"{k}={v}" for k, v in AUDIT_QUERY.items()
                                        if k != "limit")  # the UI's page: 50 entries
        for name, page in (("dashboard_page", "/dashboard"), ("findings_page", "/findings?page=2"),
                           ("finance_page", "/finance?page=2"), ("audit_ui_page", ui_audit)):
            scenarios[name] = ("", [["GET", page, None]], False, session)
        scenarios["park_ui_page"] = ("", [["GET", f"/parks/{c}", None] for c in parks], False,
                                     session)  # the UI's park page: status, timeline, pictures
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in ["baseline", *scenarios]}
        for number in range(repeat):
            base = load(hello.port, "x", [["GET", "/", None]], concurrency, duration, warmup,
                        run=number)
            rounds["baseline"].append(base)
            log(f"  trivial WSGI app{_of(number, repeat)}: {base['req_per_s']:,.0f} req/s, "
                f"p95 {_ms(base['p95_ms'])} ms")
            for name, (token, requests, per_client, cookie) in scenarios.items():
                figures = load(servers.port, token, requests, concurrency, duration, warmup,
                               per_client, cookie=cookie, run=number)
                figures["ratio_req_per_s_to_trivial_app"] = \
                    figures["req_per_s"] / base["req_per_s"]
                if any(not k.startswith("2") for k in figures["statuses"]):
                    figures["server_errors_tail"] = servers.errors()[-3000:]
                rounds[name].append(figures)
                log(f"  {name}{_of(number, repeat)}: {figures['req_per_s']:,.0f} req/s, "
                    f"p50 {_ms(figures['p50_ms'])} p95 {_ms(figures['p95_ms'])} "
                    f"p99 {_ms(figures['p99_ms'])} ms, statuses {figures['statuses']}")
        result["baseline"] = median_of(rounds["baseline"])
        for name, (_, requests, _, _) in scenarios.items():
            result["scenarios"][name] = {**median_of(rounds[name]), "path": requests[0][1]}
    return result


MEDIANS = ("req_per_s", "p50_ms", "p95_ms", "p99_ms", "ratio_req_per_s_to_trivial_app")


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One scenario's rounds as one figure: the median of each measure (each round's own
    values kept in `runs`), requests and statuses summed, the worst latency seen."""
    figure: dict[str, Any] = {k: v for k, v in runs[-1].items() if k not in MEDIANS}
    for key in MEDIANS:
        values = [r[key] for r in runs if r.get(key) is not None]
        if key in runs[-1]:
            figure[key] = statistics.median(values) if values else None
    figure["requests"] = sum(r["requests"] for r in runs)
    figure["max_ms"] = max((r["max_ms"] for r in runs if r.get("max_ms") is not None),
                           default=None)
    statuses: dict[str, int] = {}
    for r in runs:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    figure["statuses"] = dict(sorted(statuses.items()))
    if len(runs) > 1:
        figure["runs"] = [{k: r.get(k) for k in ("req_per_s", "p50_ms", "p95_ms", "p99_ms")}
                          for r in runs]
    return figure


def _of(number: int, repeat: int) -> str:
    return f" (round {number + 1} of {repeat})" if repeat > 1 else ""


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
