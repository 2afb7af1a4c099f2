"""The benchmark runner: one process, one run, ratios rather than absolute times.

For the heavy and the typical artist, on SQLite and on PostgreSQL, it times `build_dashboard`
through `SqlStore`, the same figures by hand-written SQL (`benchmarks.handwritten`, checked to
agree first) and the naive load-everything way (`benchmarks.naive`); it measures the Python
memory peak of a build, the load rate of `artist-dashboard load` into SQLite, and optionally the
HTTP service against a bare Starlette endpoint. It prints a table, then one JSON line.

    python -m benchmarks.run                     # scale 1: 1M posts, 2M follows (minutes)
    python -m benchmarks.run --scale 0.05        # a quick look
    python -m benchmarks.run --postgres URL      # PostgreSQL too
                                                 # (or $ARTIST_DASHBOARD_BENCH_POSTGRES_URL)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from artist_dashboard import FixedClock, build_dashboard
from artist_dashboard.sql import SqlStore, load_dataset_into, load_records_into, tables

from . import generate
from .handwritten import figures, library_figures
from .naive import naive_dashboard

DATA = Path(__file__).parent / ".data"


#: Warm-up builds of a fast (typical) dashboard: PostgreSQL plans a prepared statement anew
#: on each of its first five runs on a connection (over a millisecond for the whole-dashboard
#: statement) before it keeps a generic plan, and a pool hands its connections out in turn;
#: a service's connections are all past that within their first requests.
WARM = 40


def median_ms(work: Callable[[], Any], repeat: int, warm: int = 1) -> float:
    # Warm caches, and every pooled connection's prepared statements.
    for _ in range(warm):
        work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextmanager
def pooled_driver(engine: Engine) -> Iterator[Any]:
    """The driver's own connection from the engine's pool (in autocommit on PostgreSQL): the
    one the library's next build would get, as nothing else is checked out."""
    pooled = engine.raw_connection()
    driver = pooled.driver_connection
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        driver.autocommit = True
    try:
        yield driver
    finally:
        if postgres:
            driver.autocommit = False
        pooled.close()


def side_by_side(
    engine: Engine,
    library: Callable[[], Any],
    floor: Callable[[Any], Any],
    repeat: int,
    warm: int,
    rounds: int = 3,
) -> tuple[float, float]:
    """Medians of the library and of the floor (given the driver's connection), measured in
    turns, on the same pooled connection and so the same server process: on a shared
    two-core machine one server process can answer a third slower than another for as long
    as it lives (where it runs beside the client, presumably), and the floor on a connection
    of its own made the ratio jump between runs (PostgreSQL 1.1 to 2.1)."""
    library_ms, (floor_ms,) = in_turns(engine, library, [floor], repeat, warm, rounds)
    return library_ms, floor_ms


def in_turns(
    engine: Engine,
    library: Callable[[], Any],
    on_driver: Sequence[Callable[[Any], Any]],
    repeat: int,
    warm: int,
    rounds: int = 3,
) -> tuple[float, list[float]]:
    """`side_by_side` with any number of measurements on the driver's connection: the median
    of each one's medians over `rounds` turns."""
    libraries: list[float] = []
    others: list[list[float]] = [[] for _ in on_driver]
    for _ in range(rounds):
        libraries.append(median_ms(library, repeat, warm))
        with pooled_driver(engine) as driver:
            for work, times in zip(on_driver, others, strict=True):
                times.append(median_ms(lambda work=work: work(driver), repeat, warm))
    return statistics.median(libraries), [statistics.median(times) for times in others]


def peak_mb(work: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _marker(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT value FROM bench_meta")).scalar()
    except Exception:
        return None


def ensure_data(engine: Engine, scale: float) -> None:
    """Generate the data set into `engine` unless it already holds this scale."""
    # The tag names the indexes too: after a schema change the data set is built afresh.
    indexes = sorted(str(i.name) for t in tables.metadata.sorted_tables for i in t.indexes)
    tag = f"scale={scale};indexes={','.join(indexes)}"
    if _marker(engine) == tag:
        return
    from artist_dashboard.sql import stop_maintaining

    stop_maintaining(engine)
    tables.metadata.drop_all(engine)
    shape = generate.Shape(scale)
    started = time.perf_counter()
    load_records_into(
        engine,
        generate.users(shape),
        generate.posts(shape),
        generate.follows(shape),
        batch_size=20_000,
    )
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_meta (value TEXT)"))
        conn.execute(text("DELETE FROM bench_meta"))
        conn.execute(text("INSERT INTO bench_meta VALUES (:v)"), {"v": tag})
    print(f"  generated {tag} in {time.perf_counter() - started:.0f}s", file=sys.stderr)


def postgres_engine(url: str, scale: float, name: str | None = None) -> Engine:
    from sqlalchemy import make_url

    name = name or f"artist_dashboard_bench_{str(scale).replace('.', '_')}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return create_engine(make_url(url).set(database=name))


def measure_database(engine: Engine, repeat: int) -> dict[str, Any]:
    from artist_dashboard.sql import sources_metadata, stop_maintaining

    stop_maintaining(engine)  # live figures here, whatever an earlier run left behind
    # The core figures alone (as the hand-written yardstick computes them): an earlier run's
    # analytics sources go; `measure_analytics` loads them again.
    sources_metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS artist_standings"))
        conn.execute(text("DROP TABLE IF EXISTS artist_standing_windows"))
    from .handwritten import driver_sql, whole_floor, whole_params, whole_projection
    from .handwritten import whole_statement as one_statement

    store, clock = SqlStore(engine), FixedClock(generate.NOW)
    postgres = engine.dialect.name == "postgresql"
    floor_sql = driver_sql(one_statement(postgres, analytics=False), postgres)
    results: dict[str, Any] = {}
    for who, label in ((generate.HEAVY, "heavy"), (generate.TYPICAL, "typical")):
        library = build_dashboard(who, store.repos, clock)
        with engine.connect() as conn:
            hand = figures(conn, who, generate.NOW)
            naive = naive_dashboard(conn, who, generate.NOW)
        if hand != library_figures(library) or library_figures(naive) != library_figures(library):
            raise SystemExit(f"the three ways disagree for {who}: fix before timing")
        floor_params = whole_params(who, generate.NOW, postgres)
        with pooled_driver(engine) as driver:
            row = whole_floor(driver, floor_sql, floor_params, postgres)
        floor = {k: v for k, v in whole_projection(row, generate.NOW).items() if k in hand}
        if floor != hand:
            raise SystemExit(f"the one-statement floor disagrees for {who}: fix before timing")

        def the_floor(driver: Any, params: dict[str, Any] = floor_params) -> None:
            whole_floor(driver, floor_sql, params, postgres)

        def by_hand(who: str = who) -> None:
            with engine.connect() as conn:
                figures(conn, who, generate.NOW)

        def the_naive_way(who: str = who) -> None:
            with engine.connect() as conn:
                naive_dashboard(conn, who, generate.NOW)

        def the_library(who: str = who) -> None:
            build_dashboard(who, store.repos, clock)

        warm = WARM if label == "typical" else 1
        library_ms, floor_ms = side_by_side(engine, the_library, the_floor, repeat, warm)
        results[label] = {
            "library_ms": library_ms,
            "handwritten_ms": median_ms(by_hand, repeat),
            "naive_ms": median_ms(the_naive_way, 1 if label == "heavy" else repeat),
            "floor_ms": floor_ms,
            "library_peak_mb": peak_mb(the_library),
            "naive_peak_mb": peak_mb(the_naive_way),
        }
    heavy, typical = results["heavy"], results["typical"]
    results["ratios"] = {
        "library_over_handwritten_heavy": heavy["library_ms"] / heavy["handwritten_ms"],
        "library_over_floor_typical": typical["library_ms"] / typical["floor_ms"],
        "library_over_floor_heavy": heavy["library_ms"] / heavy["floor_ms"],
        "naive_over_library_heavy": heavy["naive_ms"] / heavy["library_ms"],
        "heavy_over_typical_library": heavy["library_ms"] / typical["library_ms"],
        "heavy_minus_typical_peak_mb": heavy["library_peak_mb"] - typical["library_peak_mb"],
    }
    return results


def measure_maintained(engine: Engine, repeat: int) -> dict[str, Any]:
    """Builds with the maintained aggregates, and what they cost each write."""
    from artist_dashboard.sql import maintain, stop_maintaining

    clock = FixedClock(generate.NOW)
    writes = _write_cost(engine)
    started = time.perf_counter()
    maintain(engine)
    install_seconds = time.perf_counter() - started
    try:
        store = SqlStore(engine)
        assert store.maintained
        live = SqlStore(engine, maintained=False)
        for who in (generate.HEAVY, generate.TYPICAL):
            if build_dashboard(who, store.repos, clock) != build_dashboard(who, live.repos, clock):
                raise SystemExit(f"maintained and live figures disagree for {who}")
        heavy = median_ms(
            lambda: build_dashboard(generate.HEAVY, store.repos, clock), repeat, warm=WARM
        )
        typical = median_ms(
            lambda: build_dashboard(generate.TYPICAL, store.repos, clock), repeat, warm=WARM
        )
        with_triggers = _write_cost(engine)
    finally:
        stop_maintaining(engine)
    return {
        "heavy_ms": heavy,
        "typical_ms": typical,
        "heavy_over_typical": heavy / typical,
        "install_seconds": install_seconds,
        "write_us": {"without": writes, "with": with_triggers},
    }


def _write_cost(engine: Engine, count: int = 300) -> dict[str, float]:
    """Microseconds per committed single-row write, by kind (each write undone after)."""
    from artist_dashboard.sql import tables

    posts, follows = tables.posts, tables.follows
    post_ids = [f"post-{n:08d}" for n in range(count)]
    costs: dict[str, float] = {}

    def timed(name: str, statements: list[Any]) -> None:
        started = time.perf_counter()
        for statement in statements:
            with engine.begin() as conn:
                conn.execute(statement)
        costs[name] = (time.perf_counter() - started) / len(statements) * 1e6

    bump = [
        posts.update().where(posts.c.id == i).values(likes_count=posts.c.likes_count + 1)
        for i in post_ids
    ]
    undo = [
        posts.update().where(posts.c.id == i).values(likes_count=posts.c.likes_count - 1)
        for i in post_ids
    ]
    timed("post_counter_update", bump)
    timed("post_counter_update_back", undo)
    fans = [f"bench-fan-{n}" for n in range(count)]
    timed(
        "follow_insert",
        [
            follows.insert().values(
                follower_id=f, followee_id=generate.HEAVY, created_at=generate.NOW
            )
            for f in fans
        ],
    )
    timed(
        "follow_delete",
        [follows.delete().where(follows.c.follower_id == f) for f in fans],
    )
    costs.pop("post_counter_update_back")
    return costs


def _source_folder(name: str, scale: float) -> Path:
    """The data set's events or revenue as a dataset folder (written once per scale)."""
    folder = DATA / f"{name}-{scale}"
    marker = "post_view_events.jsonl" if name == "events" else "earnings.jsonl"
    if not (folder / marker).exists():
        from artist_dashboard.dataset import write_dataset

        shape = generate.Shape(scale)
        if name == "events":
            write_dataset(folder, events=generate.events(shape))
        else:
            write_dataset(folder, earnings=generate.earnings(shape))
        for core in ("users", "posts", "follows"):
            (folder / f"{core}.jsonl").unlink()
    return folder


def measure_whole(engine: Engine, repeat: int) -> dict[str, Any]:
    """Whole dashboards, every analytics figure included, after the rollup: the library
    (one statement), the library through its ports one by one, and the floor — one
    hand-written statement for the same dashboard, run prepared on the driver's connection —
    and the design's bound: the floor plus the records and response this design builds, with
    no rule applied (`handwritten.design_bound`). The floor's figures are checked equal to
    the library's first."""
    import attrs

    from artist_dashboard import dashboard_ask

    from .handwritten import (
        design_bound,
        driver_sql,
        library_whole_projection,
        whole_floor,
        whole_params,
        whole_projection,
        whole_statement,
    )

    now = generate.NOW
    postgres = engine.dialect.name == "postgresql"
    sql = driver_sql(whole_statement(postgres), postgres)
    store, clock = SqlStore(engine), FixedClock(now)
    ports_only = attrs.evolve(store.repos, whole=None)
    results: dict[str, Any] = {}
    for who, label in ((generate.HEAVY, "heavy"), (generate.TYPICAL, "typical")):
        params = whole_params(who, now, postgres)
        library = build_dashboard(who, store.repos, clock)
        with pooled_driver(engine) as driver:
            floor = whole_projection(whole_floor(driver, sql, params, postgres), now)
        if floor != library_whole_projection(library):
            raise SystemExit(f"the floor and the library disagree for {who}: fix first")
        if store.read_dashboard(dashboard_ask(who, store.repos, now)) is None:
            raise SystemExit(f"the library declined to read {who}'s dashboard whole")

        def floor_read(driver: Any, params: dict[str, Any] = params) -> None:
            whole_floor(driver, sql, params, postgres)

        def bound_read(driver: Any, params: dict[str, Any] = params) -> None:
            design_bound(whole_floor(driver, sql, params, postgres), now)

        warm = WARM if label == "typical" else 1
        library_ms, (floor_ms, bound_ms) = in_turns(
            engine,
            lambda who=who: build_dashboard(who, store.repos, clock),
            [floor_read, bound_read],
            repeat,
            warm,
        )
        results[label] = {
            "library_ms": library_ms,
            "ports_ms": median_ms(
                lambda who=who: build_dashboard(who, ports_only, clock), repeat, warm
            ),
            "floor_ms": floor_ms,
            "bound_ms": bound_ms,
            "library_over_floor": library_ms / floor_ms,
            "bound_over_floor": bound_ms / floor_ms,
        }
    return results


def _event_load_floor(engine: Engine) -> float:
    """Seconds for the least work that gives the loaded event tables: the same rows copied
    inside the database, each with its post's author joined (from a covering index of posts
    on SQLite, a hash join on PostgreSQL), then the same indexes built — no file read, no
    parsing, no driver round trip per row."""
    from artist_dashboard.sql import tables

    started = time.perf_counter()
    with engine.begin() as conn, ExitStack() as settings:
        if engine.dialect.name == "sqlite":
            # The load's own room and helper threads for sorting the index builds.
            from artist_dashboard.sql._load import sqlite_load_settings

            settings.enter_context(sqlite_load_settings(conn))
        for table in tables.events:
            copy = f"floor_{table.name}"
            conn.execute(text(f"DROP TABLE IF EXISTS {copy}"))
            columns = ", ".join(c.name for c in table.c if c.name != "author_id")
            picked = ", ".join(f"e.{c.name}" for c in table.c if c.name != "author_id")
            create = f"CREATE TABLE {copy} AS SELECT * FROM {table.name} WHERE false"
            conn.execute(text(create))
            # The key is there while rows go in, as in the real table.
            conn.execute(text(f"CREATE UNIQUE INDEX floor_{table.name}_key ON {copy} (id)"))
            conn.execute(
                text(
                    f"INSERT INTO {copy} ({columns}, author_id) SELECT {picked},"
                    f" p.author_id FROM {table.name} e LEFT JOIN posts p ON p.id = e.post_id"
                )
            )
            for index in table.indexes:
                names = ", ".join(c.name for c in index.columns)
                conn.execute(text(f"CREATE INDEX floor_{index.name} ON {copy} ({names})"))
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        for table in tables.events:
            conn.execute(text(f"DROP TABLE floor_{table.name}"))
    return seconds


def _raw_non_followers(conn: Any, artist: str, now: Any) -> int:
    """Distinct non-follower viewers counted from the raw events, by the artist's posts: the
    straightforward way, the yardstick of `count_non_followers`."""
    from datetime import timedelta

    window = "created_at > :after AND created_at <= :now AND user_id IS NOT NULL"
    mine = "post_id IN (SELECT id FROM posts WHERE author_id = :a)"
    query = (
        "SELECT count(*) FROM (SELECT DISTINCT user_id FROM ("
        f"SELECT user_id FROM post_view_events WHERE {mine} AND {window}"
        f" UNION ALL SELECT user_id FROM post_play_events WHERE {mine} AND {window}"
        ") AS seen WHERE user_id <> :a) AS v WHERE NOT EXISTS (SELECT 1 FROM follows"
        " WHERE followee_id = :a AND follower_id = v.user_id)"
    )
    after, until = now - timedelta(days=30), now
    if conn.dialect.name == "sqlite":
        after, until = after.replace(tzinfo=None), until.replace(tzinfo=None)
    found = conn.execute(text(query), {"a": artist, "after": after, "now": until}).scalar()
    return int(found)


def measure_analytics(engine: Engine, scale: float, repeat: int) -> dict[str, Any]:
    """The analytics sources: loading events, dashboards before and after a rollup, the
    rollup's rate, the chart/standing/comparison reads, non-followers against the raw count,
    and the memory of a heavy build."""
    from datetime import timedelta

    from artist_dashboard.sql import rollup, sources_metadata

    now = generate.NOW
    clock = FixedClock(now)
    folder = _source_folder("events", scale)
    sources_metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS artist_standings"))
        conn.execute(text("DROP TABLE IF EXISTS artist_standing_windows"))
    started = time.perf_counter()
    report = load_dataset_into(engine, folder)
    load_seconds = time.perf_counter() - started
    events = sum(1 for _ in generate.events(generate.Shape(scale)))
    results: dict[str, Any] = {
        "events": events,
        "event_load_rows_per_second": events / load_seconds,
        "event_load_problems": len(report.problems),
        "event_load_floor_rows_per_second": events / _event_load_floor(engine),
    }
    store = SqlStore(engine)
    for who, label in ((generate.HEAVY, "heavy"), (generate.TYPICAL, "typical")):
        results[f"{label}_before_rollup_ms"] = median_ms(
            lambda who=who: build_dashboard(who, store.repos, clock), max(1, repeat // 2)
        )
    started = time.perf_counter()
    rolled = rollup(engine, first=(now - timedelta(days=61)).date(), now=now)
    rollup_seconds = time.perf_counter() - started
    results["rollup"] = {
        "days": rolled.days,
        "rows": rolled.rows_written,
        "seconds": rollup_seconds,
        "events_per_second": events / rollup_seconds,
    }
    store = SqlStore(engine)

    def days_figures(who: str) -> None:
        """What the chart, the comparison and the standing read: 60 days of rows, the days
        without a row in events, and the standing."""
        from artist_dashboard import rules

        with store.snapshot() as repos:
            assert repos.days is not None
            current, previous = rules.comparison_days(now)
            repos.days.daily_rows(who, previous[0], current[-1])
            repos.days.event_days(who, current[-1], current[-1], now)
            repos.days.standing(who, *rules.standing_days(now))

    def non_followers(who: str) -> int:
        with store.snapshot() as repos:
            assert repos.audience is not None
            return repos.audience.count_non_followers(who, now - timedelta(days=30), now)

    for who, label in ((generate.HEAVY, "heavy"), (generate.TYPICAL, "typical")):
        with engine.connect() as conn:
            raw = _raw_non_followers(conn, who, now)
        if raw != non_followers(who):
            raise SystemExit(f"non-followers disagree for {who}: fix before timing")

        def by_raw(who: str = who) -> None:
            with engine.connect() as conn:
                _raw_non_followers(conn, who, now)

        results[label] = {
            "after_rollup_ms": median_ms(
                lambda who=who: build_dashboard(who, store.repos, clock), repeat
            ),
            "chart_standing_comparison_ms": median_ms(lambda who=who: days_figures(who), repeat),
            "non_followers": raw,
            "non_followers_ms": median_ms(lambda who=who: non_followers(who), repeat),
            "non_followers_raw_ms": median_ms(by_raw, max(1, repeat // 2)),
            "peak_mb": peak_mb(lambda who=who: build_dashboard(who, store.repos, clock)),
        }
    load_dataset_into(engine, _source_folder("earnings", scale))
    results["whole"] = measure_whole(engine, repeat)
    results["maintained"] = _maintained_audience(engine, results, repeat)
    heavy, typical = results["heavy"], results["typical"]
    results["ratios"] = {
        "days_heavy_over_typical": heavy["chart_standing_comparison_ms"]
        / typical["chart_standing_comparison_ms"],
        "non_followers_raw_over_library_heavy": heavy["non_followers_raw_ms"]
        / heavy["non_followers_ms"],
        "non_followers_raw_over_maintained_heavy": heavy["non_followers_raw_ms"]
        / results["maintained"]["heavy_non_followers_ms"],
        "heavy_minus_typical_peak_mb": heavy["peak_mb"] - typical["peak_mb"],
    }
    return results


def _maintained_audience(engine: Engine, results: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Non-followers from the maintained audience (`maintain` over the event tables): the
    count for each artist, checked equal to the raw one first, and what a view costs."""
    from datetime import timedelta

    from artist_dashboard.sql import maintain, stop_maintaining

    now = generate.NOW
    window = (now - timedelta(days=30), now)
    before = _event_write_cost(engine)
    started = time.perf_counter()
    maintain(engine)
    install_seconds = time.perf_counter() - started
    try:
        kept = SqlStore(engine)
        assert kept.audience_maintained
        timings: dict[str, Any] = {"install_seconds": install_seconds}
        for who, label in ((generate.HEAVY, "heavy"), (generate.TYPICAL, "typical")):
            if kept.count_non_followers(who, *window) != results[label]["non_followers"]:
                raise SystemExit(f"maintained non-followers disagree for {who}: fix first")

            def count(who: str = who) -> None:
                with kept.snapshot() as repos:
                    assert repos.audience is not None
                    repos.audience.count_non_followers(who, *window)

            timings[f"{label}_non_followers_ms"] = median_ms(count, repeat)
        timings["view_insert_us"] = {"without": before, "with": _event_write_cost(engine)}
    finally:
        stop_maintaining(engine)
    return timings


def _event_write_cost(engine: Engine, count: int = 300) -> float:
    """Microseconds per committed view of one of the heavy artist's posts (undone after)."""
    from artist_dashboard.sql import tables

    views = tables.view_events
    ids = [f"bench-view-{n}" for n in range(count)]
    started = time.perf_counter()
    for n, event_id in enumerate(ids):
        with engine.begin() as conn:
            conn.execute(
                views.insert().values(
                    id=event_id,
                    post_id=f"post-{n:08d}",
                    user_id=f"bench-viewer-{n}",
                    created_at=generate.NOW,
                )
            )
    cost = (time.perf_counter() - started) / count * 1e6
    with engine.begin() as conn:
        conn.execute(views.delete().where(views.c.id.in_(ids)))
    return cost


_COUNTER_FIELDS = (
    "viewCount",
    "playCount",
    "likesCount",
    "commentsCount",
    "savesCount",
    "sharesCount",
)


def _extended(source: Path, target: Path) -> None:
    """The dataset as mongoexport writes it in canonical mode: times as ``{"$date": …}``,
    counters as ``{"$numberLong": "…"}``."""
    target.mkdir(parents=True, exist_ok=True)
    for file in source.glob("*.jsonl"):
        with file.open() as lines, (target / file.name).open("w") as out:
            for line in lines:
                doc = json.loads(line)
                if "createdAt" in doc:
                    doc["createdAt"] = {"$date": doc["createdAt"]}
                for key in _COUNTER_FIELDS:
                    if isinstance(doc.get(key), int):
                        doc[key] = {"$numberLong": str(doc[key])}
                out.write(json.dumps(doc) + "\n")


def measure_load(scale: float, postgres: str | None = None) -> dict[str, Any]:
    """Rows per second of `load` (users, posts and follows: a dataset folder into a new
    database), from plain JSON lines and from the same in Extended JSON, into SQLite and, when
    a server is given, PostgreSQL."""
    shape = generate.Shape(min(scale, 0.2))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        from artist_dashboard.dataset import write_dataset
        from artist_dashboard.sql import metadata

        plain, extended = Path(folder) / "plain", Path(folder) / "extended"
        write_dataset(plain, generate.users(shape), generate.posts(shape), generate.follows(shape))
        _extended(plain, extended)
        targets = {"sqlite": lambda: create_engine(f"sqlite:///{Path(folder) / 'load.sqlite3'}")}
        if postgres:
            targets["postgresql"] = lambda: postgres_engine(
                postgres, scale, "artist_dashboard_bench_load"
            )
        for database, make in targets.items():
            for form, source in (("plain", plain), ("extended", extended)):
                engine = make()
                metadata.drop_all(engine)
                started = time.perf_counter()
                report = load_dataset_into(engine, source)
                seconds = time.perf_counter() - started
                metadata.drop_all(engine)
                engine.dispose()
                rows = report.users + report.posts + report.follows
                results[f"{database}_{form}"] = {
                    "rows": rows,
                    "seconds": seconds,
                    "rows_per_second": rows / seconds,
                }
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{'database':10} {'artist':8} {'library ms':>11} {'by hand ms':>11} {'naive ms':>10}"
        f" {'lib/hand':>9} {'naive/lib':>10} {'floor ms':>9} {'lib/floor':>10}"
        f" {'lib peak MB':>12} {'naive peak MB':>14}"
    ]
    for database in ("sqlite", "postgresql"):
        if database not in results:
            continue
        for artist in ("heavy", "typical"):
            if artist not in results[database]:
                continue
            r = results[database][artist]
            lines.append(
                f"{database:10} {artist:8} {r['library_ms']:11.2f} {r['handwritten_ms']:11.2f}"
                f" {r['naive_ms']:10.1f} {r['library_ms'] / r['handwritten_ms']:9.2f}"
                f" {r['naive_ms'] / r['library_ms']:10.1f} {r['floor_ms']:9.3f}"
                f" {r['library_ms'] / r['floor_ms']:10.2f} {r['library_peak_mb']:12.2f}"
                f" {r['naive_peak_mb']:14.1f}"
            )
    for database in ("sqlite", "postgresql"):
        kept = results.get(database, {}).get("maintained")
        if kept:
            w = kept["write_us"]
            lines.append(
                f"{database} maintained: heavy {kept['heavy_ms']:.2f} ms, typical "
                f"{kept['typical_ms']:.2f} ms ({kept['heavy_over_typical']:.2f}x); per write "
                + ", ".join(
                    f"{k} {w['without'][k]:.0f}->{w['with'][k]:.0f} us" for k in w["without"]
                )
            )
    for database in ("sqlite", "postgresql"):
        a = results.get(database, {}).get("analytics")
        if a:
            h, t, r = a["heavy"], a["typical"], a["ratios"]
            lines.append(
                f"{database} analytics: {a['events']:,} events loaded at"
                f" {a['event_load_rows_per_second']:,.0f} rows/s (floor"
                f" {a['event_load_floor_rows_per_second']:,.0f}); rollup"
                f" {a['rollup']['events_per_second']:,.0f} events/s; dashboard before/after"
                f" rollup heavy {a['heavy_before_rollup_ms']:.1f}/{h['after_rollup_ms']:.1f} ms,"
                f" typical {a['typical_before_rollup_ms']:.1f}/{t['after_rollup_ms']:.1f} ms;"
                f" chart+standing+comparison heavy {h['chart_standing_comparison_ms']:.2f} ms,"
                f" typical {t['chart_standing_comparison_ms']:.2f} ms"
                f" ({r['days_heavy_over_typical']:.2f}x); non-followers heavy"
                f" {h['non_followers_ms']:.1f} ms vs raw {h['non_followers_raw_ms']:.1f} ms"
                f" ({r['non_followers_raw_over_library_heavy']:.1f}x), maintained"
                f" {a['maintained']['heavy_non_followers_ms']:.2f} ms"
                f" ({r['non_followers_raw_over_maintained_heavy']:.1f}x); whole dashboard"
                f" typical {a['whole']['typical']['library_ms']:.3f} ms (ports"
                f" {a['whole']['typical']['ports_ms']:.3f}, floor"
                f" {a['whole']['typical']['floor_ms']:.3f}:"
                f" {a['whole']['typical']['library_over_floor']:.2f}x; the design's bound"
                f" {a['whole']['typical']['bound_over_floor']:.2f}x), heavy"
                f" {a['whole']['heavy']['library_over_floor']:.2f}x the floor; a view"
                f" {a['maintained']['view_insert_us']['without']:.0f}->"
                f"{a['maintained']['view_insert_us']['with']:.0f} us; peak heavy-typical"
                f" {r['heavy_minus_typical_peak_mb']:.2f} MB"
            )
    for mode, r in results.get("service", {}).items():
        lines.append(
            f"service ({mode}, {r['client']}): {r['service']['requests_per_second']:,.0f} req/s"
            f" p50 {r['service']['p50_ms']:.2f} ms p99 {r['service']['p99_ms']:.2f} ms;"
            f" bare Starlette {r['bare']['requests_per_second']:,.0f} req/s;"
            f" ratio {r['service_over_bare']:.2f}"
            + (
                f"; the design's bound {r['bound']['requests_per_second']:,.0f} req/s,"
                f" ratio {r['bound_over_bare']:.2f}"
                if "bound" in r
                else ""
            )
        )
    for key, load in results.get("load", {}).items():
        lines.append(
            f"load ({key.replace('_', ', ')}): {load['rows']:,} rows at"
            f" {load['rows_per_second']:,.0f} rows/s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="artist_dashboard benchmarks")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("ARTIST_DASHBOARD_BENCH_POSTGRES_URL"))
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--service-seconds", type=float, default=5.0)
    parser.add_argument("--skip-analytics", action="store_true")
    parser.add_argument(
        "--only-analytics", action="store_true", help="only the analytics sources' measurements"
    )
    args = parser.parse_args(argv)
    if args.only_analytics:
        args.skip_load = args.skip_service = True
    DATA.mkdir(exist_ok=True)
    results: dict[str, Any] = {"scale": args.scale}

    sqlite = create_engine(f"sqlite:///{DATA / f'bench-{args.scale}.sqlite3'}")
    print("sqlite: preparing", file=sys.stderr)
    ensure_data(sqlite, args.scale)
    results["sqlite"] = {}
    if not args.only_analytics:
        results["sqlite"] = measure_database(sqlite, args.repeat)
        results["sqlite"]["maintained"] = measure_maintained(sqlite, args.repeat)
    if not args.skip_analytics:
        results["sqlite"]["analytics"] = measure_analytics(sqlite, args.scale, args.repeat)
    if args.postgres:
        print("postgresql: preparing", file=sys.stderr)
        pg = postgres_engine(args.postgres, args.scale)
        ensure_data(pg, args.scale)
        results["postgresql"] = {}
        if not args.only_analytics:
            results["postgresql"] = measure_database(pg, args.repeat)
            results["postgresql"]["maintained"] = measure_maintained(pg, args.repeat)
        if not args.skip_analytics:
            results["postgresql"]["analytics"] = measure_analytics(pg, args.scale, args.repeat)
    if not args.skip_load:
        results["load"] = measure_load(args.scale, args.postgres)
    if not args.skip_service:
        from .service import measure_service

        url = str(sqlite.url)
        # SQLite serializes work anyway: one build thread keeps the GIL uncontended.
        results["service"] = {
            "built_each_request": measure_service(
                url,
                generate.TYPICAL,
                seconds=args.service_seconds,
                extra=["--workers", "1"],
                # The bound's statement reads the analytics tables the analytics run leaves.
                bound=not args.skip_analytics,
            ),
            "cache_1s": measure_service(
                url,
                generate.TYPICAL,
                seconds=args.service_seconds,
                extra=["--workers", "1", "--cache-seconds", "1"],
            ),
        }
        if args.postgres:
            pg_url = postgres_engine(args.postgres, args.scale).url.render_as_string(
                hide_password=False
            )
            results["service"]["postgresql_built_each_request"] = measure_service(
                pg_url,
                generate.TYPICAL,
                seconds=args.service_seconds,
                extra=["--workers", "2"],
                bound=not args.skip_analytics,
            )
    print(table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
