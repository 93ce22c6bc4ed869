"""Run the `ledger` command and the independent checker as real processes, from this checkout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHECKER = PROJECT_ROOT / "docs" / "check_ledger.py"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: this checkout first on the path, no ledger settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run_ledger(*args: str, database_url: str | None = None, stdin: str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`ledger ARGS... [--database-url URL]`, as `python -m ledger.cli`, waiting for its exit."""
    command = [sys.executable, "-m", "ledger.cli", *args]
    if database_url is not None:
        command += ["--database-url", database_url]
    return subprocess.run(command, input=stdin, capture_output=True, text=True,
                          encoding="utf-8", cwd=PROJECT_ROOT, env=env or process_env(),
                          timeout=300, check=False)


def run_checker(database_url: str) -> tuple[int, dict[str, Any]]:
    """docs/check_ledger.py on a database, run with no project code on its path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    done = subprocess.run([sys.executable, str(CHECKER), database_url], capture_output=True,
                          text=True, encoding="utf-8", cwd=CHECKER.parent.parent.parent,
                          env=env, timeout=300, check=False)
    assert done.stderr == "", done.stderr
    return done.returncode, json.loads(done.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
