"""The HTTP benchmark's baseline server: a trivial WSGI app served exactly as `ledger serve`
serves the web app (ledger/serving.py: the same workers on one port, the same threads, the same
spreading of connections), so that the ratio measures the app, not the server.

    python -m bench.serve --port P --workers 2 --threads 2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ledger.serving import serve

HELLO = b'{"hello": "world"}'


def hello_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The HTTP stack's own limit: waitress answering without Flask, a database or a ledger."""
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(HELLO)))])
    return [HELLO]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    return serve(lambda: hello_app, args.host, args.port, args.threads, args.workers,
                 announce=lambda where: print(f"serving the trivial app {where}", flush=True))


if __name__ == "__main__":
    sys.exit(main())
