"""python -m bench run|generate (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.generator import SIZES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="what", required=True)
    run = sub.add_parser("run", help="measure and write a JSON result under bench/results/")
    run.add_argument("--size", choices=sorted(SIZES), default="small")
    run.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    run.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    run.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test",
                     help="server for --db postgres (a fresh schema per database)")
    run.add_argument("--database-url", help="use this already populated ledger instead of "
                     "importing the size's history (kept afterwards)")
    run.add_argument("--only", nargs="*", help="figures to measure (default: all)",
                     choices=("commands", "bulk_import", "rebuild", "verify", "as_known_at",
                              "audit_search", "http"))
    run.add_argument("--http", action="store_true", help="also HTTP under load")
    run.add_argument("--http-processes", type=int, default=2)
    run.add_argument("--http-threads", type=int, default=2)
    run.add_argument("--http-duration", type=float, default=10)
    run.add_argument("--keep", action="store_true", help="keep the databases")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--out", type=Path, default=None)
    gen = sub.add_parser("generate", help="print a size's history as import lines (JSONL)")
    gen.add_argument("--size", choices=sorted(SIZES), default="tiny")
    gen.add_argument("--seed", type=int, default=1)
    tab = sub.add_parser("table", help="print result files as a Markdown table")
    tab.add_argument("files", nargs="*", type=Path)
    scale = sub.add_parser("scaling", help="small against large, per figure (each size: one "
                           "or more result files, the latest valid figure wins)")
    scale.add_argument("--small", type=Path, nargs="+", required=True)
    scale.add_argument("--large", type=Path, nargs="+", required=True)
    args = parser.parse_args(argv)
    if args.what == "table":
        from bench.run import RESULTS, table
        print(table(args.files or sorted(RESULTS.glob("*.json"))))
        return 0
    if args.what == "scaling":
        from bench.scaling import table as scaling
        print(scaling(args.small, args.large))
        return 0
    if args.what == "generate":
        from bench.run import lines_of
        for line in lines_of(args.size, args.seed):
            sys.stdout.write(line + "\n")
        return 0
    from bench.run import RESULTS
    from bench.run import run as run_bench
    run_bench(args.size, "sqlite" if args.db == "sqlite" else "postgres", repeat=args.repeat,
              postgres_url=args.postgres_url, database_url=args.database_url,
              http=args.http or "http" in (args.only or []),
              keep=args.keep, seed=args.seed, out_dir=args.out or RESULTS, only=args.only,
              http_options={"processes": args.http_processes, "threads": args.http_threads,
                            "duration": args.http_duration})
    return 0


if __name__ == "__main__":
    sys.exit(main())
