"""The HTTP load generator, run as its own process: N keep-alive connections (asyncio, one per
simulated client) sending requests back to back for a fixed time; prints one JSON object with
latency percentiles, requests/s and status counts.

    python -m bench.load '{"host": ..., "port": ..., "token": ..., "concurrency": 16,
                           "duration": 10, "warmup": 2, "requests": [[method, path, body|null],
                           ...], "per_client": false}'

With `cookie` (a logged-in UI session) instead of `token`, the requests are a browser's.
With `per_client`, client i sends only requests[i % len(requests)] (each client its own park for
the command endpoint); otherwise each client goes round the list from its own offset.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   message: bytes) -> tuple[int, bool]:
    writer.write(message)
    await writer.drain()
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, close = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
        elif name == b"transfer-encoding":
            raise RuntimeError("chunked responses are not supported by this client")
    await reader.readexactly(length)
    return status, close


def _encode(spec: dict[str, Any], method: str, path: str, payload: Any) -> bytes:
    body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    who = (f"Cookie: {spec['cookie']}\r\nAccept: text/html\r\n" if spec.get("cookie") else
           f"Authorization: Bearer {spec['token']}\r\nAccept: application/json\r\n")
    head = (f"{method} {path} HTTP/1.1\r\nHost: {spec['host']}\r\n{who}"
            + ("Content-Type: application/json\r\n" if payload is not None else "")
            + f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _client(number: int, spec: dict[str, Any], deadline: float, measure_from: float,
                  latencies: list[float], statuses: dict[int, int]) -> None:
    requests = spec["requests"]
    if spec.get("per_client"):
        requests = [requests[number % len(requests)]]
    reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
    i = number
    while True:
        start = time.perf_counter()
        if start >= deadline:
            break
        method, path, payload = requests[i % len(requests)]
        if payload is not None and "note" in payload:  # every command a new event
            payload = {**payload, "note": f"{payload['note']} #{spec.get('run', 0)}-{number}-{i}"}
        i += 1
        status, close = await _request(reader, writer, _encode(spec, method, path, payload))
        end = time.perf_counter()
        if start >= measure_from:
            latencies.append((end - start) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
    writer.close()


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _main(spec: dict[str, Any]) -> dict[str, Any]:
    now = time.perf_counter()
    measure_from = now + spec.get("warmup", 2)
    deadline = measure_from + spec["duration"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    await asyncio.gather(*(_client(n, spec, deadline, measure_from, latencies, statuses)
                           for n in range(spec["concurrency"])))
    return {"requests": len(latencies), "duration_s": spec["duration"],
            "req_per_s": len(latencies) / spec["duration"],
            "p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95),
            "p99_ms": _percentile(latencies, 99), "max_ms": max(latencies, default=None),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "concurrency": spec["concurrency"]}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_main(json.loads(sys.argv[1])))))
