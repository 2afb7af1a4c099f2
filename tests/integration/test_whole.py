"""The whole-dashboard read on both databases: it answers in one statement where it can, gives
what the ports give, keeps its prepared statement, and declines where the ports must do more."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import Engine, create_engine, event, text

from artist_dashboard import FixedClock, Repos, build_dashboard, dashboard_ask
from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_records, demo_sources
from artist_dashboard.sql import (
    Sources,
    SqlStore,
    load_records_into,
    maintain,
    rollup,
    sources_metadata,
    stop_maintaining,
    tables,
)

CLOCK = FixedClock(DEMO_NOW)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind, PostgreSQL's sessions in New York time (the read must
    not depend on it) and with one pooled connection (so its prepared statement is seen)."""
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'whole.db'}")
    else:
        url: str = request.getfixturevalue("postgres_url")
        made = create_engine(
            url,
            pool_size=1,
            max_overflow=0,
            connect_args={"options": "-c timezone=America/New_York"},
        )
    stop_maintaining(made)
    sources_metadata.drop_all(made)
    tables.metadata.drop_all(made)
    yield made
    stop_maintaining(made)
    sources_metadata.drop_all(made)
    tables.metadata.drop_all(made)
    made.dispose()


def load_demo(engine: Engine, *, analytics: bool = False, ranked: bool = False) -> SqlStore:
    """The demo artist, with the sample sources when `analytics`, and with the standings
    stored by the rollup when `ranked`."""
    if analytics:
        users, posts, events, daily, earnings = demo_sources()
        follows = demo_records()[2]
        sources = Sources(events=events, daily=daily, earnings=earnings)
        load_records_into(engine, users, posts, follows, sources=sources)
    else:
        load_records_into(engine, *demo_records())
    if ranked:
        rollup(engine, first=DEMO_NOW.date(), last=DEMO_NOW.date(), now=DEMO_NOW)
    return SqlStore(engine)


def only_whole(repos: Repos) -> Repos:
    """The repos with the ports' snapshot forbidden: a build must come from the whole read."""

    def forbidden() -> Any:
        raise AssertionError("the ports were asked")

    return attrs.evolve(repos, open_snapshot=forbidden)


@pytest.mark.parametrize("analytics", [False, True])
def test_a_whole_dashboard_is_one_statement_equal_to_the_ports(
    engine: Engine, analytics: bool
) -> None:
    """The demo's dashboard — with every analytics source too — comes from one statement, and
    equals the one the ports build."""
    store = load_demo(engine, analytics=analytics, ranked=analytics)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    got = build_dashboard(DEMO_USER_ID, only_whole(store.repos), CLOCK)
    assert statements == []  # the read went to the driver itself, not through SQLAlchemy
    expected = build_dashboard(DEMO_USER_ID, attrs.evolve(store.repos, whole=None), CLOCK)
    assert got == expected
    if analytics:
        assert got.meta.chart_available
        assert len(got.engagement_chart) == 30


def test_the_maintained_figures_are_read_whole_too(engine: Engine) -> None:
    """With the maintained aggregates (the audience included), the whole read answers from
    them and agrees with the live ports."""
    load_demo(engine, analytics=True, ranked=True)
    maintain(engine)
    store = SqlStore(engine)
    assert store.maintained
    assert store.audience_maintained
    got = build_dashboard(DEMO_USER_ID, only_whole(store.repos), CLOCK)
    live = SqlStore(engine, maintained=False).repos
    assert got == build_dashboard(DEMO_USER_ID, attrs.evolve(live, whole=None), CLOCK)


@pytest.mark.postgres
def test_postgres_keeps_the_statement_prepared(postgres_url: str) -> None:
    """Read after read on one connection, with reads through the ports between them,
    PostgreSQL keeps one prepared statement for the whole read (nothing rolls back, so the
    driver never drops it)."""
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    stop_maintaining(engine)
    sources_metadata.drop_all(engine)
    tables.metadata.drop_all(engine)
    store = load_demo(engine)
    ask = dashboard_ask(DEMO_USER_ID, store.repos, DEMO_NOW)
    for _ in range(3):
        assert store.read_dashboard(ask) is not None
        # A read through the ports on the same connection (a fallback, a profile overview, a
        # readiness probe) ends its snapshot without a ROLLBACK, which would drop it.
        store.check()
    with engine.connect() as conn:
        prepared = conn.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%w_user%'")
        ).scalar_one()
    assert prepared == 1
    engine.dispose()


def test_it_declines_without_stored_standings(engine: Engine) -> None:
    """Before any rollup the standing needs every artist ranked live: the read declines, and
    the dashboard comes from the ports, the same."""
    store = load_demo(engine, analytics=True)
    ask = dashboard_ask(DEMO_USER_ID, store.repos, DEMO_NOW)
    assert store.read_dashboard(ask) is None
    assert build_dashboard(DEMO_USER_ID, store.repos, CLOCK).meta.chart_available


def test_it_declines_for_a_day_the_standings_do_not_cover(engine: Engine) -> None:
    """Standings stored for yesterday's window do not answer tomorrow's dashboard."""
    store = load_demo(engine, analytics=True, ranked=True)
    later = DEMO_NOW + timedelta(days=2)
    assert store.read_dashboard(dashboard_ask(DEMO_USER_ID, store.repos, later)) is None
    built = build_dashboard(DEMO_USER_ID, store.repos, FixedClock(later))
    assert built == build_dashboard(
        DEMO_USER_ID, attrs.evolve(store.repos, whole=None), FixedClock(later)
    )


def test_sqlite_declines_counters_that_are_not_numbers(tmp_path: Path) -> None:
    """Text or a fraction in a SQLite counter column: the ports recount with the full clamp."""
    engine = create_engine(f"sqlite:///{tmp_path / 'odd.db'}")
    load_demo(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE posts SET likes_count = 'many' WHERE author_id = :u"), {"u": DEMO_USER_ID}
        )
    store = SqlStore(engine)
    assert store.read_dashboard(dashboard_ask(DEMO_USER_ID, store.repos, DEMO_NOW)) is None
    assert build_dashboard(DEMO_USER_ID, store.repos, CLOCK).stats.likes_count == 0


def test_odd_daily_counters_read_clamped_and_logged_either_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Daily rows with one odd counter each — every counter once negative and once text —
    beside clean rows: the whole read and the ports clamp each to 0 alike, log it, and take
    the clean rows as they are."""
    from artist_dashboard import rules

    engine = create_engine(f"sqlite:///{tmp_path / 'odd.db'}")
    store = load_demo(engine, analytics=True, ranked=True)
    newest = DEMO_NOW.date() - timedelta(days=7)  # the demo's newest daily row
    odd = {}
    for n, (counter, value) in enumerate((c, v) for c in rules.POST_COUNTERS for v in (-5, "many")):
        day = newest - timedelta(days=n)
        odd[day] = counter
        with engine.begin() as conn:
            changed = conn.execute(
                text(
                    f"UPDATE daily_artist_analytics SET {counter} = :v"
                    " WHERE artist_id = :u AND date = :d"
                ),
                {"v": value, "u": DEMO_USER_ID, "d": day.isoformat()},
            ).rowcount
        assert changed == 1
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        got = build_dashboard(DEMO_USER_ID, only_whole(store.repos), CLOCK)
    assert f"{len(odd)} stored value(s) corrected" in caplog.text  # one summary per build
    expected = build_dashboard(DEMO_USER_ID, attrs.evolve(store.repos, whole=None), CLOCK)
    assert got == expected
    chart = {p.date: p for p in got.engagement_chart}
    assert all(getattr(chart[day], counter) == 0 for day, counter in odd.items())
    assert all(chart[day].view_count > 0 for day, c in odd.items() if c != "view_count")


def test_an_unknown_user_is_not_found_either_way(engine: Engine) -> None:
    """No such user: the read answers (no user), and the build raises UserNotFound."""
    from artist_dashboard import UserNotFound

    store = load_demo(engine)
    reads = store.read_dashboard(dashboard_ask("nobody", store.repos, DEMO_NOW))
    assert reads is not None
    assert reads.user is None
    with pytest.raises(UserNotFound):
        build_dashboard("nobody", only_whole(store.repos), CLOCK)


@pytest.mark.postgres
def test_postgres_reads_sums_past_64_bits_whole(postgres_url: str) -> None:
    """Three posts at the top of BIGINT: PostgreSQL sums them exactly (past 2^64, which
    orjson cannot read), and the whole read still answers, as the ports would."""
    engine = create_engine(postgres_url)
    tables.metadata.drop_all(engine)
    try:
        load_demo(engine)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE posts SET likes_count = :top WHERE author_id = :u"),
                {"top": 2**63 - 1, "u": DEMO_USER_ID},
            )
            posts = conn.execute(
                text("SELECT count(*) FROM posts WHERE author_id = :u AND NOT is_deleted"),
                {"u": DEMO_USER_ID},
            ).scalar_one()
        store = SqlStore(engine)
        got = build_dashboard(DEMO_USER_ID, only_whole(store.repos), CLOCK)
        assert got.stats.likes_count == posts * (2**63 - 1) > 2**64
        assert got == build_dashboard(DEMO_USER_ID, attrs.evolve(store.repos, whole=None), CLOCK)
    finally:
        tables.metadata.drop_all(engine)
        engine.dispose()
