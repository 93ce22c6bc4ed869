"""Serving the web app under waitress: one process, or several sharing one port with the
connections spread evenly among them.

A keep-alive connection stays with the process that accepted it, and a process answers its
connections with one interpreter lock, so a process that holds more connections than another
answers each of them more slowly. Processes that each listen on the port (`SO_REUSEPORT`) are
given connections by a hash of the client's port: 16 connections fell 11/5, 10/6 and 9/7 more
often than 8/8 (docs/benchmarks.md, session 8), and the requests on the process holding 11 took
twice as long as the others. Here the workers share one listening socket, and a worker accepts
only while it holds no more connections than the least loaded worker (each worker's count in
shared memory, written by the worker before it decides): the split stays within one connection.

The parent process only supervises. It forks the workers before anything opens a database
connection, restarts a worker that dies once it has served, stops all of them and exits with 2
when one dies before it could serve (a database that is not there, say), and stops them on
SIGTERM or SIGINT. Nothing listens until every worker has built its app, so a client is never
queued behind a worker still starting.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

import waitress
from waitress.server import BaseWSGIServer

from ledger.collector import tune_for_serving

LOG = logging.getLogger(__name__)
WSGIApp = Callable[..., Any]
STARTING = 2**31 - 1  # a worker's count before its app is built the first time
DEAD = 2**31 - 2  # a worker's count once it has exited, until its replacement is ready
START_TIMEOUT = 600.0  # seconds a worker waits for the others to build their apps
RESTART_PAUSE = 1.0  # seconds before a worker that died soon after its start is started again
SOON = 10.0  # "soon after its start", in seconds


def serve(make_app: Callable[[], WSGIApp], host: str, port: int, threads: int,
          workers: int = 1, announce: Callable[[str], None] = print) -> int:
    """Serve `make_app()` on host:port with `threads` threads in each of `workers` processes
    (each builds its own app); return the exit status once stopped."""
    if workers < 1 or threads < 1:
        raise ValueError("workers and threads must be at least 1")
    if workers == 1:
        app = make_app()
        tune_for_serving()
        announce(f"on http://{host}:{port}/ ({threads} threads)")
        waitress.serve(app, host=host, port=port, threads=threads)
        return 0
    listener = _bound_socket(host, port)
    counts = multiprocessing.RawArray(ctypes.c_int, [STARTING] * workers)
    return _Supervisor(make_app, listener, counts, threads, announce).run(f"{host}:{port}")


def balance(server: BaseWSGIServer, counts: Any, index: int) -> None:
    """Let `server` (worker `index` of `counts`) accept a connection only while it holds no
    more connections than any other serving worker."""
    accepts = server.readable

    def readable() -> bool:
        mine = len(server.active_channels)
        counts[index] = mine
        return bool(accepts()) and mine <= min(counts)

    server.readable = readable


def _bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, not yet listening (a worker listens once all are ready)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    return listener


class _Supervisor:
    """The parent of the workers."""

    def __init__(self, make_app: Callable[[], WSGIApp], listener: socket.socket, counts: Any,
                 threads: int, announce: Callable[[str], None]) -> None:
        self.make_app, self.listener, self.counts = make_app, listener, counts
        self.threads, self.announce = threads, announce
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (worker index, started at)
        self.stopping = False

    def run(self, where: str) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for index in range(len(self.counts)):
                self._start(index)
            self.announce(f"on http://{where}/ ({len(self.counts)} workers, {self.threads} "
                          f"threads each; supervisor pid {os.getpid()})")
            return self._supervise()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.listener.close()

    def _supervise(self) -> int:
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index, started = self.children.pop(pid)
            if self.stopping:
                continue
            served = self.counts[index] < DEAD
            self.counts[index] = DEAD
            code = os.waitstatus_to_exitcode(status)
            if not served:
                LOG.error("worker %d (pid %d) exited with %d before it could serve: stopping",
                          index, pid, code)
                return 2
            LOG.warning("worker %d (pid %d) exited with %d: starting another", index, pid, code)
            if time.monotonic() - started < SOON:
                time.sleep(RESTART_PAUSE)
            if not self.stopping:
                self._start(index)
        return 0

    def _start(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                code = _work(self.make_app, self.listener, self.counts, index, self.threads)
            except BaseException:
                LOG.exception("worker %d failed", index)
            finally:
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = (index, time.monotonic())

    def _stop(self, signum: int, _frame: Any) -> None:
        self.stopping = True
        for pid in self.children:
            _signal(pid, signal.SIGTERM)

    def _stop_all(self) -> None:
        self.stopping = True
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.children.pop(pid, None)


def _work(make_app: Callable[[], WSGIApp], listener: socket.socket, counts: Any, index: int,
          threads: int) -> int:
    """One worker: build the app, wait for the other workers to build theirs (only at the
    first start), then serve until stopped."""
    app = make_app()
    tune_for_serving()
    counts[index] = 0
    deadline = time.monotonic() + START_TIMEOUT
    while STARTING in counts[:]:
        if time.monotonic() > deadline:
            LOG.error("worker %d: the other workers did not start in %.0f s", index,
                      START_TIMEOUT)
            return 1
        time.sleep(0.05)
    server = waitress.create_server(app, sockets=[listener], threads=threads)
    balance(server, counts, index)
    LOG.info("worker %d (pid %d) serving", index, os.getpid())
    server.run()
    return 0


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
