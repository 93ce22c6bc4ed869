"""One server process of the HTTP benchmark: the web app (or a trivial WSGI app, the baseline)
under waitress on a port shared with the other processes (SO_REUSEPORT: the kernel spreads the
connections), as `ledger serve` runs it but several times over.

    python -m bench.serve --database-url URL --port P --threads 8 [--hello]
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Callable, Iterable
from typing import Any

import waitress

HELLO = b'{"hello": "world"}'


def hello_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The HTTP stack's own limit: waitress answering without Flask, a database or a ledger."""
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(HELLO)))])
    return [HELLO]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--hello", action="store_true")
    args = parser.parse_args()
    if args.hello:
        app: Any = hello_app
    else:
        from config import Config
        from ledger.collector import tune_for_serving
        from web import create_app
        app = create_app(Config(database_url=args.database_url))
        tune_for_serving()  # as `ledger serve` does
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    waitress.serve(app, sockets=[sock], threads=args.threads, connection_limit=1000,
                   _quiet=True)


if __name__ == "__main__":
    main()
