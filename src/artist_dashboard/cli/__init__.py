"""Command line: ``artist-dashboard`` (also ``python -m artist_dashboard``).

JSON goes to stdout, diagnostics to stderr. Any failure exits non-zero with one line naming
what went wrong, never a traceback: 2 for a bad argument, 1 for input or storage that cannot
be used (unknown user, missing folder, bad line in strict mode), 70 for a bug.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, NoReturn

from .._core.build import DashboardOptions, Repos, build_dashboard
from .._core.clock import FixedClock, SystemClock
from .._core.errors import DashboardError, InvalidOptions, StorageError, first_line
from .._core.ports import Clock
from .._core.rules import TOP_CONTENT_DEFAULT, TOP_CONTENT_MAX
from .._core.wire import chart_csv, parse_instant, to_json
from ._database import DEFAULT_DATABASE, database_url, open_database

if TYPE_CHECKING:
    from .._http.metrics import PrometheusMetrics
    from ..sql import DashboardTables

PROG = "artist-dashboard"
_DB_HELP = (
    "a database URL (sqlite:///file.db, postgresql+psycopg://user@host/db) or a SQLite file "
    f"path; default: $ARTIST_DASHBOARD_DB, else {DEFAULT_DATABASE}"
)
EXIT_INPUT = 1
#: A mapping file to use when a command is given no --mapping.
MAPPING_VARIABLE = "ARTIST_DASHBOARD_MAPPING"
_MAPPING_HELP = (
    f"a TOML file mapping the library's tables to your schema (default ${MAPPING_VARIABLE}, "
    "else the library's own names)"
)
EXIT_USAGE = 2
EXIT_BUG = 70


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised instead of printed with usage."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 instant") from None


def _day(text: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _top(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= TOP_CONTENT_MAX:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a top content size (a whole number, 0 to {TOP_CONTENT_MAX})"
        )
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 to 86400)")
    return value


def _print_problem(problem: object) -> None:
    print(f"{PROG}: {problem}", file=sys.stderr)


def _emit(text: str) -> None:
    sys.stdout.write(text + "\n")


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import demo_analytics_dashboard, demo_dashboard

    dashboard = demo_analytics_dashboard() if args.analytics else demo_dashboard()
    _emit(to_json(dashboard, indent=args.indent))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from .._core.wire import json_schema

    _emit(json.dumps(json_schema(), indent=args.indent))
    return 0


def _tables(args: argparse.Namespace) -> DashboardTables:
    """The tables `--mapping` (or $ARTIST_DASHBOARD_MAPPING) describes; the library's own
    names without one. Read before any database is opened, so a bad file stops us first."""
    from ..sql import read_mapping, tables

    file = getattr(args, "mapping", None) or os.environ.get(MAPPING_VARIABLE)
    return read_mapping(file) if file else tables


def _open_repos(args: argparse.Namespace) -> Repos:
    if args.data is not None:
        from ..dataset import load_dataset

        return load_dataset(args.data, strict=args.strict, on_problem=_print_problem).repos
    from ..sql import SqlStore

    target = _tables(args)
    # Read-only: a build or a service never writes, and never creates a database file.
    return SqlStore(open_database(args.db, create=False, read_only=True), target).repos


def _cmd_load(args: argparse.Namespace) -> int:
    from ..dataset import check_dataset, dataset_folder
    from ..sql import load_dataset_into

    # Both before a database file is created for nothing.
    dataset_folder(args.data)
    if args.strict:
        check_dataset(args.data)
    target = _tables(args)
    engine = open_database(args.db, create=True)
    report = load_dataset_into(
        engine,
        args.data,
        target,
        batch_size=args.batch_size,
        strict=False,  # --strict was checked above, before the database was opened
        on_problem=_print_problem,
    )
    summary = {
        "users": report.users,
        "posts": report.posts,
        "follows": report.follows,
        "problems": len(report.problems),
        "database": engine.url.render_as_string(hide_password=True),
    }
    _emit(json.dumps(summary, indent=args.indent))
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    clock: Clock = FixedClock(args.now) if args.now else SystemClock()
    options = DashboardOptions(top_content_limit=args.top)
    dashboard = build_dashboard(args.user, _open_repos(args), clock, options)
    if args.chart_csv:
        sys.stdout.write(chart_csv(dashboard))
    else:
        _emit(to_json(dashboard, indent=args.indent))
    return 0


def _cmd_rollup(args: argparse.Namespace) -> int:
    from ..sql import rollup

    target = _tables(args)
    engine = open_database(args.db, create=False)
    report = rollup(engine, target, first=args.first, last=args.last, now=args.now)
    summary = {
        "from": report.first.isoformat() if report.first else None,
        "to": report.last.isoformat() if report.last else None,
        "days": report.days,
        "rowsWritten": report.rows_written,
        "rowsRemoved": report.rows_removed,
        "rankedArtists": report.ranked,
        "database": engine.url.render_as_string(hide_password=True),
    }
    _emit(json.dumps(summary, indent=args.indent))
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from .._http.auth import JwtAuthenticator, mint_token

    _emit(mint_token(args.user, JwtAuthenticator.from_env(), ttl_seconds=args.ttl))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .._http.auth import JwtAuthenticator, mint_token

    authenticator = JwtAuthenticator.from_env()  # a missing or short secret stops us here
    clock: Clock = SystemClock()
    if args.demo:
        from ..demo import DEMO_NOW, DEMO_USER_ID, demo_store

        repos, clock = demo_store().repos, FixedClock(DEMO_NOW)
    else:
        repos = _open_repos(args)
        if repos.check is not None:
            repos.check()  # not ready: one line now, rather than a 503 on every request
    if args.now is not None:
        clock = FixedClock(args.now)
    from .._http.serving import Limits, default_max_connections, serve
    from ..asgi import create_app

    app = create_app(
        repos,
        authenticator,
        clock,
        timeout=args.timeout,
        cache_seconds=args.cache_seconds,
        workers=args.workers,
        observer=_metrics() if args.metrics else None,
    )
    logging.getLogger("artist_dashboard.access").setLevel(logging.INFO)
    base = f"http://{args.host}:{args.port}"
    print(f"{PROG}: serving on {base} (OpenAPI at {base}/openapi.json)", file=sys.stderr)
    if args.demo:
        token = mint_token(DEMO_USER_ID, authenticator, ttl_seconds=86_400)
        print(
            f"curl -H 'Authorization: Bearer {token}' {base}/api/v1/users/me/dashboard",
            file=sys.stderr,
        )
    limits = Limits(
        max_connections=args.max_connections or default_max_connections(),
        head_timeout=args.head_timeout,
        keep_alive=args.keep_alive,
    )
    serve(app, host=args.host, port=args.port, limits=limits)
    return 0


def _metrics() -> PrometheusMetrics:
    try:
        from .._http.metrics import PrometheusMetrics

        return PrometheusMetrics()
    except ImportError:
        raise DashboardError(
            "--metrics needs prometheus-client: pip install 'artist-dashboard[metrics]'"
        ) from None


def _cmd_aggregates(args: argparse.Namespace) -> int:
    from ..sql import maintain, stop_maintaining

    target = _tables(args)
    engine = open_database(args.db, create=False)
    if args.action == "install":
        report = maintain(engine, target)
        summary = {"maintained": True, "users": report.checked}
    else:
        stop_maintaining(engine, target)
        summary = {"maintained": False}
    _emit(json.dumps(summary, indent=args.indent))
    return 0


def _cmd_reconcile(args: argparse.Namespace) -> int:
    from ..sql import SqlStore, reconcile

    target = _tables(args)
    engine = open_database(args.db, create=False)
    if not SqlStore(engine, target).maintained:
        raise DashboardError("no maintained aggregates here: run `aggregates install` first")
    report = reconcile(engine, target, fix=not args.check)
    summary = {
        "checked": report.checked,
        "drifted": report.drifted,
        "fixed": 0 if args.check else report.drifted,
        "users": list(report.sample),
    }
    _emit(json.dumps(summary, indent=args.indent))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    """Check the database against the tables: problems on stderr, the DDL of each missing
    index on stdout (ready for psql or sqlite3); exit 1 when anything needs doing."""
    from ..sql import schema_problems
    from ..sql._catalog import existing, index_ddl, missing_indexes

    target = _tables(args)
    engine = open_database(args.db, create=False, read_only=True)
    with engine.connect() as conn:
        sources = existing(conn, (*target.events, target.daily, target.earnings))
        problems = schema_problems(conn, target, (*target.core, *sources))
        missing = missing_indexes(conn, target) if not problems else []
        ddl = [index_ddl(conn, index) + ";" for index in missing]
    shown = database_url(args.db).render_as_string(hide_password=True)
    for problem in problems:
        _print_problem(problem)
    for statement in ddl:
        _emit(statement)
    configured = ", ".join(t.name for t in sources) or "none"
    if problems or ddl:
        what = f"{len(problems)} problem(s)" if problems else f"{len(ddl)} missing index(es)"
        print(f"{PROG}: {shown}: {what} (analytics sources: {configured})", file=sys.stderr)
        return EXIT_INPUT
    print(f"{PROG}: {shown}: ready (analytics sources: {configured})", file=sys.stderr)
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="A music artist's private analytics dashboard.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run: Callable[[argparse.Namespace], int]) -> _Parser:
        sub: _Parser = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        sub.add_argument("--indent", type=int, default=2, help="JSON indent (default 2)")
        return sub

    demo = command("demo", "print the demo artist's dashboard", _cmd_demo)
    demo.add_argument(
        "--analytics",
        action="store_true",
        help="with sample analytics sources: a chart, the audience split, earnings, a standing",
    )
    command("schema", "print the JSON Schema of the dashboard response", _cmd_schema)

    build = command("build", "print one user's dashboard as JSON", _cmd_build)
    build.add_argument("--user", required=True, metavar="ID", help="the user id")
    source = build.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="DIR", help="read a dataset folder")
    source.add_argument("--db", default=None, metavar="URL", help=_DB_HELP)
    build.add_argument("--now", type=_instant, metavar="ISO-8601", help="build as of this instant")
    build.add_argument("--strict", action="store_true", help="stop at the first unreadable line")
    build.add_argument(
        "--top",
        type=_top,
        default=TOP_CONTENT_DEFAULT,
        metavar="N",
        help=f"top content size, 0-{TOP_CONTENT_MAX} (default {TOP_CONTENT_DEFAULT})",
    )
    build.add_argument(
        "--chart-csv", action="store_true", help="print the engagement chart as CSV instead"
    )

    serve = command("serve", "serve the dashboard over HTTP", _cmd_serve)
    origin = serve.add_mutually_exclusive_group()
    origin.add_argument("--data", metavar="DIR", help="serve a dataset folder (read at start)")
    origin.add_argument("--db", default=None, metavar="URL", help=_DB_HELP)
    origin.add_argument("--demo", action="store_true", help="serve the demo artist")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_positive, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="storage timeout, seconds"
    )
    serve.add_argument("--strict", action="store_true", help="with --data: refuse bad lines")
    serve.add_argument(
        "--metrics",
        action="store_true",
        help="serve Prometheus metrics at /metrics (the metrics extra)",
    )
    serve.add_argument(
        "--now",
        type=_instant,
        metavar="ISO-8601",
        help="serve dashboards as of this fixed instant (demos, tests, benchmarks)",
    )
    serve.add_argument(
        "--workers", type=_positive, default=4, metavar="N", help="build threads (4)"
    )
    serve.add_argument(
        "--max-connections",
        type=_positive,
        default=None,
        metavar="N",
        help="open connections at most; idle ones are closed first (default: by file limit)",
    )
    serve.add_argument(
        "--head-timeout",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="seconds a client has to send a request's line and headers (10)",
    )
    serve.add_argument(
        "--keep-alive",
        type=_seconds,
        default=5.0,
        metavar="S",
        help="seconds an idle connection is kept open between requests (5)",
    )
    serve.add_argument(
        "--cache-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="reuse a user's built dashboard for S seconds (off by default)",
    )

    token = command("token", "mint a development access token", _cmd_token)
    token.add_argument("--user", required=True, metavar="ID", help="the token's subject")
    token.add_argument(
        "--ttl", type=_positive, default=3600, metavar="S", help="lifetime, seconds (3600)"
    )

    aggregates = command(
        "aggregates", "install or remove the maintained per-artist figures", _cmd_aggregates
    )
    aggregates.add_argument("action", choices=["install", "remove"])
    aggregates.add_argument("--db", default=None, metavar="URL", help=_DB_HELP)

    reconcile = command(
        "reconcile", "recompute the maintained figures and fix any drift", _cmd_reconcile
    )
    reconcile.add_argument("--db", default=None, metavar="URL", help=_DB_HELP)
    reconcile.add_argument("--check", action="store_true", help="report drift, fix nothing")

    rollup = command(
        "rollup", "recompute daily analytics from the events for whole days", _cmd_rollup
    )
    rollup.add_argument("--db", default=None, metavar="URL", help=_DB_HELP)
    rollup.add_argument(
        "--from", dest="first", type=_day, metavar="DAY", help="first day (default: --to)"
    )
    rollup.add_argument(
        "--to", dest="last", type=_day, metavar="DAY", help="last day (default: yesterday, UTC)"
    )
    rollup.add_argument("--now", type=_instant, metavar="ISO-8601", help="the time to act at")

    check = command(
        "check",
        "check a database against the mapping; print the DDL of missing indexes",
        _cmd_check,
    )
    check.add_argument("--db", default=None, metavar="URL", help=_DB_HELP)
    load = command("load", "create the tables if missing and load a dataset", _cmd_load)
    load.add_argument("--data", required=True, metavar="DIR", help="the dataset folder")
    load.add_argument("--db", default=None, metavar="URL", help=_DB_HELP)
    load.add_argument("--strict", action="store_true", help="load nothing if any line is bad")
    load.add_argument(
        "--batch-size", type=_positive, default=5000, metavar="N", help="rows per transaction"
    )
    for sub in (build, serve, load, rollup, aggregates, reconcile, check):
        sub.add_argument("--mapping", metavar="FILE", help=_MAPPING_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s", stream=sys.stderr)
    try:
        args = make_parser().parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except (_UsageError, InvalidOptions) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"{PROG}: {exc}: {first_line(exc.__cause__)}", file=sys.stderr)
        return EXIT_INPUT
    except DashboardError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"{PROG}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_BUG


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
