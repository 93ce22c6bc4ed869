"""`python -m bench run`: every figure of docs/benchmarks.md, each the median of several runs and
the ratio to a baseline measured in the same process, written to bench/results/*.json.

Order of a run: populate the ledger by bulk import of the size's history (timed once); then, for
each repeat, alternate ledger and baseline measurements so both see the same machine load:
commands one by one, bulk import of fresh parks, rebuild of every read model, verify, as known at
on the long park, an audit-log search; finally HTTP under load (`--http`, see bench/http.py).
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import statistics
import string
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import baseline
from bench.generator import SIZES, Size, generate, split
from config import Config
from ledger import timetravel
from ledger.application import PARK_TOPICS, Ledger
from ledger.domain.park import park_id
from ledger.importer import BATCH_SIZE, import_commands
from ledger.integrity import PARK_TOPIC_PREFIX, verify
from ledger.projections.audit_log import AUDIT_LOG, AuditFilter, search
from ledger.storage import Database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# per size: commands sent one by one per run, bulk-import events per run, as-known-at samples
WORK = {"tiny": (20, 200, 10), "small": (300, 2000, 100), "medium": (500, 5000, 100),
        "large": (500, 5000, 100)}
TARGETS = {  # issue 6, on the large data
    "commands": ("ratio", 0.5), "bulk_import": ("ratio", 0.8), "rebuild": ("ratio", 0.5),
    "as_known_at": ("p95_ms", 20.0), "http": ("p95_ms", 100.0),
}


# ------------------------------------------------------------------------------ databases


class Workspace:
    """The ledger's database and the baseline's, fresh and of the same kind; removed at the end
    unless kept."""

    def __init__(self, kind: str, postgres_url: str, database_url: str | None = None) -> None:
        self.kind = kind
        self.postgres_url = postgres_url
        self.tmp = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
        self.schemas: list[str] = []
        self.ledger_url = database_url or self.fresh_url("ledger")
        self.reused = database_url is not None

    def fresh_url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / f'{name}-{uuid.uuid4().hex[:6]}.db'}"
        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        self.schemas.append(schema)
        return f"{self.postgres_url}?schema={schema}"

    def close(self, keep: bool) -> None:
        if not keep:
            for schema in self.schemas:
                engine = sa.create_engine(self.postgres_url.replace(
                    "postgresql://", "postgresql+psycopg://", 1))
                with engine.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                engine.dispose()
            shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------------------------ figures


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def figure(name: str, unit: str, runs: list[float], base_name: str, base_runs: list[float],
           higher_is_better: bool = True, **extra: Any) -> dict[str, Any]:
    """A figure: median of the runs, the baseline's median, and the median of the per-run ratios
    (ledger / baseline for rates; baseline / ledger for times, so > 1 always means faster)."""
    pairs = list(zip(runs, base_runs, strict=True))
    ratios = [(a / b if higher_is_better else b / a) for a, b in pairs if a and b]
    return {"name": name, "unit": unit, "median": statistics.median(runs), "runs": runs,
            "baseline": {"name": base_name, "median": statistics.median(base_runs),
                         "runs": base_runs},
            "ratio": statistics.median(ratios) if ratios else None, **extra}


def interleaved(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines of several parks taken round robin (each park's own order kept): commands as they
    arrive from many clerks rather than one park at a time."""
    by_park: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_park.setdefault(line["park_code"], []).append(line)
    queues = [iter(q) for q in by_park.values()]
    out: list[dict[str, Any]] = []
    while queues:
        alive = []
        for queue in queues:
            item = next(queue, None)
            if item is not None:
                out.append(item)
                alive.append(queue)
        queues = alive
    return out


def fresh_lines(events: int, seed: int, prefix: str, per_park: int = 100) -> list[dict[str, Any]]:
    """About `events` lines of new parks (codes starting `prefix`) no other run uses."""
    parks = events // per_park + 2
    size = Size(f"fresh-{prefix}", parks, per_park, per_park)
    lines = list(generate(size, seed=seed, key_prefix=f"bench-{prefix}", code_prefix=prefix,
                          first_index=1))
    return lines[:events]


def park_event_stats(ledger: Ledger) -> tuple[int, int, float]:
    """(park events, parks, mean stored state bytes) of the ledger's log."""
    db = ledger.database
    length = "length" if db.kind == "sqlite" else "octet_length"
    query = sa.text(f"SELECT count(*), count(DISTINCT originator_id), avg({length}(state)) "
                    f"FROM {db.events_table} WHERE topic LIKE :prefix")
    with ledger.engine.connect() as conn:
        count, parks, size = conn.execute(query, {"prefix": PARK_TOPIC_PREFIX + "%"}).one()
    return int(count), int(parks), float(size or 0)


# ------------------------------------------------------------------------------ the run


class Run:
    def __init__(self, size: str, kind: str, repeat: int, postgres_url: str,
                 database_url: str | None, seed: int, log: Callable[[str], None]) -> None:
        self.size = SIZES[size]
        self.kind = kind
        self.repeat = repeat
        self.seed = seed
        self.log = log
        self.ws = Workspace(kind, postgres_url, database_url)
        self.result: dict[str, Any] = {"size": size, "db": kind, "repeat": repeat,
                                       "seed": seed, "figures": {}, "notes": []}
        self.ledger: Ledger | None = None
        self.base: baseline.Baseline | None = None
        # in the codes and keys of the parks this run files, so that a run on a database an
        # earlier run used records new commands, not replays of that run's
        self.tag = "".join(random.choice(string.ascii_uppercase) for _ in range(3))

    # -- setup

    def populate(self) -> None:
        ledger = self.ledger = Ledger(Config(database_url=self.ws.ledger_url))
        count, _, _ = park_event_stats(ledger)
        if count:
            self.log(f"reusing {count} park events at the given database")
            self.result["notes"].append("populated before this run (reused database)")
        else:
            self.log(f"populating {self.size.parks} parks by bulk import ...")
            start, load = time.perf_counter(), os.getloadavg()[0]
            report = import_commands(ledger, generate(self.size, seed=self.seed))
            seconds = time.perf_counter() - start
            if not report.ok:
                raise SystemExit(f"the generated history was refused: {report.refused[:3]}")
            self.result["populate"] = {"lines": report.lines, "seconds": seconds,
                                       "events_per_s": rate(report.recorded, seconds),
                                       "batch": BATCH_SIZE, "loadavg_1m_at_start": load}
            self.log(f"  {report.lines} lines in {seconds:.1f} s "
                     f"({rate(report.recorded, seconds):,.0f} events/s)")
        events, parks, state_bytes = park_event_stats(ledger)
        self.result["data"] = {"park_events": events, "parks": parks,
                               "mean_state_bytes": round(state_bytes),
                               "log_rows": ledger.recorder.max_notification_id()}
        self.payload = baseline.payload_of(int(state_bytes))
        self.base = baseline.open_baseline(Database.from_url(self.ws.fresh_url("baseline")))
        self.probes = baseline.open_probes(self.base, min(parks, 1000) or 1)

    # -- figures

    def commands(self) -> None:
        n = WORK[self.size.name][0]
        ours, theirs = [], []
        for r in range(self.repeat):
            lines = interleaved(fresh_lines(n, self.seed + 100 + r, f"C{self.tag}{r}",
                                            per_park=40))
            assert self.ledger is not None and self.base is not None
            start = time.perf_counter()
            results = [self.ledger.execute(*split(line)) for line in lines]
            ours.append(rate(len(lines), time.perf_counter() - start))
            # new commands only: a reused database must not turn this into replays
            assert not any("replayed" in result for result in results)
            theirs.append(rate(len(lines), baseline.append_one_per_save(
                self.base, self.probes, len(lines), self.payload)))
            self.log(f"  commands run {r + 1}: {ours[-1]:,.0f}/s vs library {theirs[-1]:,.0f}/s")
        self.add("commands", figure(
            "commands/s through Ledger.execute (rules, hash chain, idempotency receipt, read "
            "models current on return)", "commands/s", ours,
            "library: Application.save() of one plain event per save", theirs,
            commands_per_run=n))

    def bulk_import(self) -> None:
        n = WORK[self.size.name][1]
        ours, theirs = [], []
        for r in range(self.repeat):
            lines = fresh_lines(n, self.seed + 200 + r, f"I{self.tag}{r}")
            assert self.ledger is not None and self.base is not None
            start = time.perf_counter()
            report = import_commands(self.ledger, lines)
            ours.append(rate(report.recorded, time.perf_counter() - start))
            assert report.ok and report.recorded == len(lines), (report.refused[:3],
                                                                 report.replayed)
            theirs.append(rate(len(lines), baseline.append_batched(
                self.base, self.probes, len(lines), self.payload, BATCH_SIZE)))
            self.log(f"  bulk import run {r + 1}: {ours[-1]:,.0f}/s vs library "
                     f"{theirs[-1]:,.0f}/s")
        self.add("bulk_import", figure(
            f"bulk import events/s (ledger import: batches of {BATCH_SIZE} lines, "
            "Ledger.execute_many, read models caught up per batch)", "events/s", ours,
            f"library: Application.save() of {BATCH_SIZE} plain events per save", theirs,
            lines_per_run=n))

    def rebuild(self) -> None:
        ours, theirs, parks_only = [], [], []
        assert self.ledger is not None
        for r in range(self.repeat):
            events = park_event_stats(self.ledger)[0]
            start = time.perf_counter()
            self.ledger.projections.rebuild()
            ours.append(rate(events, time.perf_counter() - start))
            count, seconds = baseline.read_and_decode(self.ledger)
            theirs.append(rate(count, seconds))
            # the same park events the rebuild reads, receipts passed over by the database
            count, seconds = baseline.read_and_decode(self.ledger, topics=PARK_TOPICS)
            parks_only.append(rate(count, seconds))
            self.log(f"  rebuild run {r + 1}: {ours[-1]:,.0f}/s vs read+decode "
                     f"{theirs[-1]:,.0f}/s (park events only {parks_only[-1]:,.0f}/s)")
        per_model = {}
        for name in self.ledger.projections.names:  # where the time goes, once each
            start = time.perf_counter()
            self.ledger.projections.rebuild([name])
            per_model[name] = rate(events, time.perf_counter() - start)
        self.log("  rebuild of each read model alone: " + ", ".join(
            f"{k} {v:,.0f}/s" for k, v in per_model.items()))
        self.add("rebuild", figure(
            "full rebuild of every read model, park events/s", "events/s", ours,
            "library: select_notifications(page 1000) + mapper.to_domain_event over the same "
            "log", theirs, each_read_model_alone_events_per_s=per_model,
            workers=self.ledger.projections.rebuild_workers(),
            park_events_only={
                "name": "library: the same, of the park events only (the rows the rebuild "
                        "reads)", "runs": parks_only, "median": statistics.median(parks_only),
                "ratio": statistics.median(a / b for a, b in zip(ours, parks_only,
                                                                 strict=True))}))

    def verify(self) -> None:
        ours, theirs = [], []
        assert self.ledger is not None
        for r in range(self.repeat):
            start = time.perf_counter()
            result = verify(self.ledger.database, self.ledger.engine)
            ours.append(rate(result.events, time.perf_counter() - start))
            assert result.ok, result.failure
            count, seconds = baseline.read_raw_rows(self.ledger.database, self.ledger.engine,
                                                    PARK_TOPIC_PREFIX)
            theirs.append(rate(count, seconds))
            self.log(f"  verify run {r + 1}: {ours[-1]:,.0f}/s vs raw rows {theirs[-1]:,.0f}/s")
        self.add("verify", figure("verify (recompute every hash, chain and digest), events/s",
                                  "events/s", ours,
                                  "raw rows: the same SELECT pages, no decoding", theirs))

    def as_known_at(self) -> None:
        """The shipped `timetravel.as_known_at`: the state and the first page of the timeline
        (the default limit), as the API and the park page ask for it."""
        assert self.ledger is not None
        code, versions = self.long_park()
        samples = WORK[self.size.name][2]
        # A database written before snapshots carried their state layout has only stale ones;
        # the first load replays the park and stores current ones (integrity.md §7): that
        # one-off upgrade is not what this figure measures.
        self.ledger.get_park(code)
        p50s, p95s, base50, base95 = [], [], [], []
        for r in range(self.repeat):
            rng = random.Random(self.seed + 300 + r)
            picks = [rng.randint(1, versions) for _ in range(samples)]
            moments = self.recorded_times(code)
            library = baseline.library_repository(self.ledger)
            ours, theirs = [], []
            for version in picks:
                start = time.perf_counter()
                known = timetravel.as_known_at(self.ledger, code, moments[version])
                ours.append((time.perf_counter() - start) * 1000)
                assert known["version"] >= version
                assert len(known["timeline"]) == min(timetravel.PAGE, known["version"])
                start = time.perf_counter()
                library.get(park_id(code), version=version)
                theirs.append((time.perf_counter() - start) * 1000)
            p50s.append(percentile(ours, 50))
            p95s.append(percentile(ours, 95))
            base50.append(percentile(theirs, 50))
            base95.append(percentile(theirs, 95))
            self.log(f"  as known at run {r + 1}: p50 {p50s[-1]:.1f} ms p95 {p95s[-1]:.1f} ms "
                     f"vs repository.get(version) p50 {base50[-1]:.1f} ms")
        fig = figure(f"as known at: state + first timeline page ({timetravel.PAGE} entries) of "
                     f"a park with {versions} events, at a random recorded time, p50 ms", "ms",
                     p50s, "library: repository.get(id, version=N) (snapshots every 100), "
                     "p50 ms", base50, higher_is_better=False, park_code=code,
                     samples_per_run=samples, page_limit=timetravel.PAGE)
        fig["p95_ms"] = statistics.median(p95s)
        fig["p95_runs"] = p95s
        fig["baseline"]["p95_ms"] = statistics.median(base95)
        self.add("as_known_at", fig)

    def audit_search(self) -> None:
        """A filtered audit-log page in process (the HTTP figure needs an endpoint)."""
        assert self.ledger is not None
        filters = [AuditFilter(prefecture=p, event_types=("SubsidyDisbursed", "EntryCorrected"))
                   for p in ("530100", "532500", "533400")]
        p50s, p95s, raw50 = [], [], []
        for _r in range(self.repeat):
            ours, theirs = [], []
            for i in range(30):
                where = filters[i % len(filters)]
                start = time.perf_counter()
                search(self.ledger, where, limit=50)
                ours.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                with self.ledger.engine.connect() as conn:
                    conn.execute(sa.select(AUDIT_LOG.c.position).where(*where.where())
                                 .order_by(AUDIT_LOG.c.position).limit(51)).all()
                theirs.append((time.perf_counter() - start) * 1000)
            p50s.append(percentile(ours, 50))
            p95s.append(percentile(ours, 95))
            raw50.append(percentile(theirs, 50))
        fig = figure("audit-log search in process: one page of 50 filtered by prefecture and "
                     "event type, with the total count, p50 ms", "ms", p50s,
                     "the same filtered SELECT of positions only, p50 ms", raw50,
                     higher_is_better=False)
        fig["p95_ms"] = statistics.median(p95s)
        self.add("audit_search", fig)

    # -- helpers

    def long_park(self) -> tuple[str, int]:
        """The park with the most events, and how many."""
        assert self.ledger is not None
        with self.ledger.engine.connect() as conn:
            code, versions = conn.execute(
                sa.select(AUDIT_LOG.c.park_code, sa.func.max(AUDIT_LOG.c.version))
                .group_by(AUDIT_LOG.c.park_code)
                .order_by(sa.func.max(AUDIT_LOG.c.version).desc()).limit(1)).one()
        return code, versions

    def recorded_times(self, code: str) -> dict[int, datetime]:
        assert self.ledger is not None
        with self.ledger.engine.connect() as conn:
            rows = conn.execute(sa.select(AUDIT_LOG.c.version, AUDIT_LOG.c.recorded_at)
                                .where(AUDIT_LOG.c.park_code == code)).all()
        return {v: at.replace(tzinfo=UTC) for v, at in rows}

    def add(self, key: str, fig: dict[str, Any]) -> None:
        fig["loadavg_1m"] = round(os.getloadavg()[0], 2)
        self.result["figures"][key] = fig

    def close(self, keep: bool) -> None:
        if self.ledger is not None:
            self.ledger.close()
        if self.base is not None:
            self.base.close()
        self.ws.close(keep)  # a reused ledger database is never in the workspace's list


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for row in info:
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        mem_kb = int(info.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 2**20, 1),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "platform": platform.platform()}


def versions(ledger: Ledger | None, commit: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for package in ("eventsourcing", "sqlalchemy", "psycopg", "psycopg-binary", "marshmallow",
                    "flask", "waitress"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    import sqlite3
    out["sqlite"] = sqlite3.sqlite_version
    try:
        import psycopg
        out["psycopg_impl"] = psycopg.pq.__impl__
    except ImportError:  # pragma: no cover
        pass
    if ledger is not None and ledger.database.kind == "postgresql":
        with ledger.engine.connect() as conn:
            out["postgresql"] = conn.scalar(sa.text("SHOW server_version"))
    out["commit"] = commit
    return out


def head_commit() -> str | None:
    """The checkout's commit, read when the run starts: the code it imported (a commit made
    while a long run goes on must not be named as the one measured); `-dirty` if tracked
    files differ from it."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7",
                               "--exclude=*"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # pragma: no cover
        return None


def check_targets(result: dict[str, Any]) -> dict[str, Any]:
    """Each issue-6 target against this run (they are set for the large data)."""
    checks = {}
    for key, (measure, bound) in TARGETS.items():
        if key == "http":
            pages = result.get("http", {}).get("scenarios", {})
            values = [s["p95_ms"] for s in pages.values() if s.get("p95_ms") is not None]
            value = max(values) if values else None
        else:
            fig = result["figures"].get(key)
            value = None if fig is None else fig.get(measure)
        met = None if value is None else (value >= bound if measure == "ratio" else value <= bound)
        checks[key] = {"measure": measure, "target": bound, "value": value, "met": met}
    return checks


def run(size: str, kind: str, repeat: int = 3, postgres_url: str = POSTGRES_URL,
        database_url: str | None = None, http: bool = False, keep: bool = False,
        seed: int = 1, out_dir: Path = RESULTS, only: list[str] | None = None,
        http_options: dict[str, Any] | None = None,
        log: Callable[[str], None] = print) -> Path:
    """Run the benchmark and write its JSON result file; return the file's path."""
    started, commit = datetime.now(UTC), head_commit()
    bench = Run(size, kind, repeat, postgres_url, database_url, seed, log)
    bench.result["machine"] = machine()
    bench.result["started_at"] = started.isoformat(timespec="seconds")
    try:
        bench.populate()
        bench.result["versions"] = versions(bench.ledger, commit)
        steps = {"commands": bench.commands, "bulk_import": bench.bulk_import,
                 "rebuild": bench.rebuild, "verify": bench.verify,
                 "as_known_at": bench.as_known_at, "audit_search": bench.audit_search}
        for name, step in steps.items():
            if only and name not in only:
                continue
            log(f"{name} ...")
            step()
        if http:
            from bench import http as http_bench
            assert bench.ledger is not None
            log("http ...")
            options = {"repeat": repeat, **(http_options or {})}  # rounds: as the others
            bench.result["http"] = http_bench.measure(bench.ledger, bench.ws.ledger_url,
                                                      log=log, **options)
    finally:
        bench.close(keep)
    bench.result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    bench.result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    bench.result["targets"] = check_targets(bench.result)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{started:%Y%m%dT%H%M%S}-{size}-{kind}.json"
    path.write_text(json.dumps(bench.result, indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    log(f"wrote {path}")
    return path


def lines_of(size: str, seed: int = 1) -> Iterator[str]:
    for line in generate(size, seed=seed):
        yield json.dumps(line, ensure_ascii=False)


# ------------------------------------------------------------------------------ the table


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "ms" or value < 100:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def table(paths: list[Path]) -> str:
    """A Markdown table of result files: one row per figure per run."""
    rows = ["| date (UTC) | size | db | figure | ours (median) | baseline (median) | ratio | "
            "load 1m | commit |", "|---|---|---|---|---:|---:|---:|---:|---|"]
    for path in sorted(paths):
        r = json.loads(path.read_text(encoding="utf-8"))
        head = f"| {r['started_at'][:16]} | {r['size']} | {r['db']} |"
        commit = r.get("versions", {}).get("commit") or ""
        for key, fig in r["figures"].items():
            ours = f"{_num(fig['median'], fig['unit'])} {fig['unit']}"
            if "p95_ms" in fig:
                ours += f" (p95 {_num(fig['p95_ms'], 'ms')})"
            base = f"{_num(fig['baseline']['median'], fig['unit'])}"
            ratio = "–" if fig["ratio"] is None else f"{fig['ratio']:.3f}×"
            if "invalid" in fig:  # kept as it was run, marked when found wrong
                ours = f"~~{ours}~~ invalid: {fig['invalid']}"
            rows.append(f"{head} {key} | {ours} | {base} | {ratio} | {fig['loadavg_1m']} | "
                        f"{commit} |")
        for name, s in r.get("http", {}).get("scenarios", {}).items():
            if "skipped" in s:
                rows.append(f"{head} http {name} | skipped: {s['skipped']} | | | | {commit} |")
                continue
            ours = (f"{s['req_per_s']:,.0f} req/s, p50/p95/p99 {_num(s['p50_ms'], 'ms')}/"
                    f"{_num(s['p95_ms'], 'ms')}/{_num(s['p99_ms'], 'ms')} ms")
            base = f"{r['http']['baseline']['req_per_s']:,.0f} req/s"
            rows.append(f"{head} http {name} | {ours} | {base} | "
                        f"{s['ratio_req_per_s_to_trivial_app']:.3f}× | | {commit} |")
        if "populate" in r:
            p = r["populate"]
            rows.append(f"{head} populate ({p['lines']:,} lines, once) | "
                        f"{p['events_per_s']:,.0f} events/s | | | "
                        f"{p['loadavg_1m_at_start']:.2f} | {commit} |")
    return "\n".join(rows)
