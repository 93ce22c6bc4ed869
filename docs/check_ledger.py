#!/usr/bin/env python3
"""An independent checker of a Park Ledger database, written from docs/integrity.md alone.

It uses only the Python standard library (and psycopg 3 for PostgreSQL), none of Park Ledger's
code. It recomputes every park event's hash and chain link and the log's digest, and prints

    {"ok": ..., "events": N, "parks": P, "digest": {"events", "head", "last_position"},
     "first_failure": null or {"park_code", "version", "position", "problem"}}

Usage:
    python3 check_ledger.py sqlite:///path/to/ledger.db
    python3 check_ledger.py path/to/ledger.db
    python3 check_ledger.py 'postgresql://USER[:PASSWORD]@HOST:PORT/DB[?schema=NAME]'

Exit status: 0 when everything matches, 1 at the first event that does not, 2 on bad usage.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import uuid
from urllib.parse import parse_qs, urlsplit, urlunsplit

GENESIS = "0" * 64
PARK_TOPIC = "ledger.domain.park:Park."
PARK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://park-ledger.example/parks")


def rows_sqlite(path):
    """(position, stream id, version, topic, state bytes) of every row, in position order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            "FROM stored_events ORDER BY rowid")
        for position, oid, version, topic, state in cursor:
            yield position, uuid.UUID(oid), version, topic, bytes(state)
    finally:
        conn.close()


def rows_postgres(url):
    import psycopg  # only needed for PostgreSQL

    parts = urlsplit(url)
    schema = parse_qs(parts.query).get("schema", ["public"])[0]
    conninfo = urlunsplit(parts._replace(scheme="postgresql", query=""))
    with psycopg.connect(conninfo, options=f"-c search_path={schema}") as conn, \
            conn.cursor(name="check_ledger") as cursor:
        cursor.execute("SELECT notification_id, originator_id, originator_version, topic, "
                       "state FROM parkledger_events ORDER BY notification_id")
        for position, oid, version, topic, state in cursor:
            yield position, oid, version, topic, bytes(state)


def unwrap(value):
    """Replace every {"_type_": T, "_data_": X} by X, recursively."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return unwrap(value["_data_"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def event_hash(stream_id, version, topic, state):
    body = {k: v for k, v in state.items() if k != "hash"}
    document = {"id": str(stream_id), "version": version, "topic": topic, "state": body}
    return hashlib.sha256(canonical(document)).hexdigest()


def check(rows):
    chains = {}  # stream id -> (last version, last stored hash)
    head, events, last_position, failure = GENESIS, 0, 0, None
    for position, stream_id, version, topic, raw in rows:
        if not topic.startswith(PARK_TOPIC):
            continue  # idempotency receipts share the table; they are not chained
        state = unwrap(json.loads(raw))
        if failure is None:
            failure = problem(stream_id, version, topic, state, chains.get(stream_id))
            if failure is not None:
                failure = {"park_code": state.get("park_code"), "version": version,
                           "position": position, "problem": failure}
        stored = str(state.get("hash"))
        chains[stream_id] = (version, stored)
        head = hashlib.sha256((head + stored).encode("ascii")).hexdigest()
        events += 1
        last_position = position
    return {"ok": failure is None, "events": events, "parks": len(chains),
            "digest": {"events": events, "head": head, "last_position": last_position},
            "first_failure": failure}


def problem(stream_id, version, topic, state, previous):
    prev_version, prev_hash = previous or (0, GENESIS)
    if version != prev_version + 1:
        return f"version follows {prev_version}"
    if state.get("prev_hash") != prev_hash:
        return "prev_hash does not match the previous event's hash"
    computed = event_hash(stream_id, version, topic, state)
    if computed != state.get("hash"):
        return f"hash mismatch: stored {state.get('hash')}, computed {computed}"
    if stream_id != uuid.uuid5(PARK_NAMESPACE, str(state.get("park_code"))):
        return "stream id is not the one derived from the park code"
    return None


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    target = argv[1]
    if target.startswith(("postgresql://", "postgres://")):
        rows = rows_postgres(target)
    else:
        rows = rows_sqlite(target.split("sqlite:///", 1)[-1])
    result = check(rows)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
