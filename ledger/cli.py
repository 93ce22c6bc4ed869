"""The `ledger` command: one function per subcommand, registered in SUBCOMMANDS.

To add a subcommand, write `def run(args, config) -> int` and decorate it with
`@subcommand("name", "one-line help", arg("--flag", ...))`; every subcommand gets
`--database-url` (default: LEDGER_DATABASE_URL, else the SQLite file instance/ledger.db).
Exit status: 0 success, 1 the ledger answered "no" (refused lines, a failed verification),
2 bad usage or no ledger at the URL.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from eventsourcing.persistence import PersistenceError

from config import Config
from ledger.accounts import ensure_demo_accounts
from ledger.application import Ledger
from ledger.cli_user import ACTIONS, run_user
from ledger.commands import ROLES
from ledger.domain.errors import LedgerError
from ledger.exporter import export_events
from ledger.importer import ImportReport, import_commands, import_lines
from ledger.integrity import verify
from ledger.storage import Database

Run = Callable[[argparse.Namespace, Config], int]
Argument = tuple[tuple[str, ...], dict[str, Any]]


@dataclass(frozen=True)
class Subcommand:
    """One `ledger NAME`: its help line, its own arguments and the function that runs it."""

    name: str
    help: str
    run: Run
    arguments: tuple[Argument, ...] = ()


SUBCOMMANDS: dict[str, Subcommand] = {}


def arg(*flags: str, **options: Any) -> Argument:
    """One argparse argument of a subcommand, as `add_argument(*flags, **options)` takes it."""
    return flags, options


def subcommand(name: str, help: str, *arguments: Argument) -> Callable[[Run], Run]:
    """Register the decorated function as `ledger NAME`."""
    def register(run: Run) -> Run:
        SUBCOMMANDS[name] = Subcommand(name, help, run, arguments)
        return run
    return register


class NoLedger(Exception):
    """The URL names no ledger yet (a read-only subcommand never creates one)."""


# --------------------------------------------------------------------- helpers


@contextmanager
def open_ledger(config: Config, *, create: bool = False) -> Iterator[Ledger]:
    """The ledger at config.database_url, closed afterwards; NoLedger if absent and not `create`."""
    if not create and not ledger_exists(config.database_url):
        raise NoLedger(f"no ledger at {safe_url(config.database_url)}; "
                       "create one with `ledger init`")
    ledger = Ledger(config)
    try:
        yield ledger
    finally:
        ledger.close()


def ledger_exists(url: str) -> bool:
    """True when the database holds the event table (checked without creating anything)."""
    db = Database.from_url(url)
    if db.kind == "sqlite":
        assert db.sqlite_path is not None
        if not Path(db.sqlite_path).is_file():
            return False
    engine = db.create_engine()
    try:
        schema = db.schema if db.kind == "postgresql" else None
        return sa.inspect(engine).has_table(db.events_table, schema=schema)
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """The URL with any password masked, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def positive(text: str) -> int:
    """An argument that counts something: a whole number, 1 or more."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {text!r}")
    return number


def print_json(data: Any, out: TextIO | None = None) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2), file=out or sys.stdout)


def print_report(report: ImportReport, as_json: bool) -> None:
    """The import report: every refused line with its error code and why, then the counts."""
    if as_json:
        print_json(report.as_dict())
        return
    for outcome in report.refused:
        error = outcome.error or {}
        where = f" ({error['field']})" if error.get("field") else ""
        print(f"line {outcome.line}: refused {error.get('code')}{where}: {error.get('message')}")
    print(report.summary())


def _utf8_stdin() -> TextIO:
    return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")


# --------------------------------------------------------------------- subcommands


@subcommand("init", "create the event tables and their append-only triggers")
def init(args: argparse.Namespace, config: Config) -> int:
    with open_ledger(config, create=True) as ledger:
        events = ledger.recorder.max_notification_id() or 0
    print(f"ledger ready at {safe_url(config.database_url)} ({events} stored events)")
    return 0


@subcommand("demo", "load the fictional demo data (again: records nothing twice)",
            arg("--json", action="store_true", help="print the report as JSON"))
def demo(args: argparse.Namespace, config: Config) -> int:
    from ledger.demo import demo_commands  # the demo data is only built when asked for

    with open_ledger(config, create=True) as ledger:
        report = import_commands(ledger, demo_commands())
        demo_accounts = ensure_demo_accounts(ledger)
    print_report(report, args.json)
    if not args.json:
        print("demo accounts (name / password): " + ", ".join(
            f"{name} / {password}" for name, _role, password in demo_accounts))
    if report.ok and report.recorded == 0:
        print("the demo data was already loaded: nothing recorded")
    return 0 if report.ok else 1


@subcommand("import", "record the commands of a JSON Lines file, one per line",
            arg("file", help="JSON Lines of commands (or of exported events); - reads stdin"),
            arg("--json", action="store_true", help="print the report as JSON"))
def import_(args: argparse.Namespace, config: Config) -> int:
    with open_ledger(config, create=True) as ledger:
        if args.file == "-":
            report = import_lines(ledger, _utf8_stdin())
        else:
            with open(args.file, encoding="utf-8-sig") as lines:
                report = import_lines(ledger, lines)
    print_report(report, args.json)
    return 0 if report.ok else 1


@subcommand("export", "write every park event as JSON Lines, in global order",
            arg("-o", "--output", metavar="FILE", help="write here instead of stdout"),
            arg("--after", type=int, default=0, metavar="POSITION",
                help="only events after this position"))
def export(args: argparse.Namespace, config: Config) -> int:
    with open_ledger(config) as ledger:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                count = export_events(ledger, out, args.after)
        else:
            out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", write_through=True)
            count = export_events(ledger, out, args.after)
            out.detach()
    print(f"exported {count} events", file=sys.stderr)
    return 0


@subcommand("verify", "recompute every hash and chain link from the stored rows")
def verify_(args: argparse.Namespace, config: Config) -> int:
    with open_ledger(config) as ledger:
        result = verify(ledger.database, ledger.engine)
    print_json(result.as_dict())
    if result.failure is not None:
        f = result.failure
        print(f"verification FAILED at park {f['park_code']} version {f['version']} "
              f"(position {f['position']}): {f['problem']}", file=sys.stderr)
        return 1
    return 0


@subcommand("digest", "print the log's digest (event count and head hash) as JSON")
def digest(args: argparse.Namespace, config: Config) -> int:
    with open_ledger(config) as ledger:
        result = verify(ledger.database, ledger.engine)
    print_json(result.digest())
    if result.failure is not None:
        print("the log does not verify (run `ledger verify`): do not publish this digest",
              file=sys.stderr)
        return 1
    return 0


@subcommand("user", "manage accounts: add NAME --role ROLE | list | disable NAME | token NAME",
            arg("action", choices=ACTIONS),
            arg("name", nargs="?", help="the account (not for list)"),
            arg("--role", choices=ROLES, help="add: clerk, finance, auditor, reviewer or admin"),
            arg("--organisation", help="add: defaults to the role's usual department"),
            arg("--password-stdin", action="store_true",
                help="add: read the password from the first line of stdin (else: a prompt)"),
            arg("--no-password", action="store_true",
                help="add: no UI login; the account uses API tokens only"))
def user(args: argparse.Namespace, config: Config) -> int:
    return run_user(args, config)


@subcommand("serve", "serve the web application",
            arg("--host", default="127.0.0.1"),
            arg("--port", type=int, default=8000),
            arg("--threads", type=int, default=4, help="threads in each process"),
            arg("--workers", type=int, default=1,
                help="processes sharing the port, connections spread evenly among them "
                     "(ledger/serving.py); one per core, on PostgreSQL"))
def serve(args: argparse.Namespace, config: Config) -> int:
    import logging

    from ledger.serving import serve as serve_app
    from web import create_app

    if args.workers < 1 or args.threads < 1:
        print("ledger serve: --workers and --threads must be at least 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return serve_app(lambda: create_app(config), args.host, args.port, args.threads,
                     args.workers, announce=lambda where: print(
                         f"serving {safe_url(config.database_url)} {where}", flush=True))


@subcommand("rebuild", "drop and rebuild read models from the log, with a progress bar",
            arg("names", nargs="*", metavar="NAME",
                help="park_status, subsidies, findings, audit_log (default: all)"),
            arg("--workers", type=positive, metavar="N",
                help="processes replaying the log at once, each a shard of the parks "
                     "(PostgreSQL; default: one per core from 100,000 events on, else 1)"))
def rebuild(args: argparse.Namespace, config: Config) -> int:
    with open_ledger(config) as ledger:
        read = ledger.projections.rebuild(args.names, progress=True, workers=args.workers)
        names = ", ".join(args.names or ledger.projections.names)
    print(f"rebuilt {names} from {read} events")
    return 0


@subcommand("report", "write the subsidy ledger, the findings or the audit log as CSV or JSON",
            arg("name", choices=("subsidies", "findings", "audit_log")),
            arg("--format", choices=("csv", "json"), default="csv"),
            arg("--as-of", type=date.fromisoformat, metavar="YYYY-MM-DD",
                help="the day the report is for (default: today)"),
            arg("-o", "--output", metavar="FILE", help="write here instead of stdout"))
def report(args: argparse.Namespace, config: Config) -> int:
    from ledger.projections.report import write_report

    with open_ledger(config) as ledger:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = write_report(ledger, args.name, args.format, out, args.as_of)
        else:
            out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="",
                                   write_through=True)
            count = write_report(ledger, args.name, args.format, out, args.as_of)
            out.detach()
    what = {"subsidies": "parks", "findings": "findings", "audit_log": "log entries"}
    print(f"reported {count} {what[args.name]}", file=sys.stderr)
    return 0


@subcommand("worker", "keep the read models current for other processes (Ctrl-C stops)",
            arg("--interval", type=float, default=1.0, metavar="SECONDS"),
            arg("--once", action="store_true", help="catch up once and exit"))
def worker(args: argparse.Namespace, config: Config) -> int:
    with open_ledger(config) as ledger:
        if args.once:
            print(f"applied {ledger.projections.catch_up()} events")
            return 0
        print(f"keeping read models current every {args.interval}s", flush=True)
        with suppress(KeyboardInterrupt):
            ledger.projections.run_worker(interval=args.interval)
    return 0


# --------------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger", description="Park Ledger: the audit ledger of Yunnan's provincial HR "
        "service industrial parks")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", metavar="URL",
                        help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB[?schema=NAME] "
                        "(default: LEDGER_DATABASE_URL, else sqlite:///instance/ledger.db)")
    commands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    for sub in SUBCOMMANDS.values():
        sub_parser = commands.add_parser(sub.name, help=sub.help, description=sub.help,
                                         parents=[common])
        for flags, options in sub.arguments:
            sub_parser.add_argument(*flags, **options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `ledger ...`; returns (and, as a console script, exits with) the exit status."""
    args = build_parser().parse_args(argv)
    config = Config.from_env(database_url=args.database_url)
    try:
        return SUBCOMMANDS[args.subcommand].run(args, config)
    except NoLedger as error:
        print(f"ledger {args.subcommand}: {error}", file=sys.stderr)
        return 2
    except LedgerError as error:  # a bad URL, an unreadable calendar file...
        print(f"ledger {args.subcommand}: {error.message}", file=sys.stderr)
        return 2
    except (sa.exc.OperationalError, PersistenceError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"ledger {args.subcommand}: cannot use the database at "
              f"{safe_url(config.database_url)}: {reason}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"ledger {args.subcommand}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
