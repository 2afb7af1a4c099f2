"""The rollup (SPEC §6.2) on SQLite and PostgreSQL: its range, what it writes and removes,
idempotence, refusing without events, settling late events, and the standings it computes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, delete, select, text

from artist_dashboard import (
    ArtistDashboard,
    DailyAnalytics,
    DashboardError,
    FixedClock,
    InvalidOptions,
    Post,
    PostEvent,
    User,
    build_dashboard,
)
from artist_dashboard.sql import (
    RollupReport,
    Sources,
    SqlStore,
    load_records_into,
    rollup,
    tables,
)
from artist_dashboard.testing import NOW, Dataset, analytics_datasets

from ..helpers import drop_analytics_tables

YESTERDAY = (NOW - timedelta(days=1)).date()
DAY = timedelta(days=1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'rollup.db'}")
    else:
        made = create_engine(request.getfixturevalue("postgres_url"))
    _empty(made)
    yield made
    _empty(made)
    made.dispose()


def _empty(engine: Engine) -> None:
    tables.metadata.drop_all(engine)
    drop_analytics_tables(engine)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def views(post: str, *days: date) -> list[PostEvent]:
    return [PostEvent(f"{post}-{d}-{n}", post, at(d), "view") for n, d in enumerate(days)]


def rows(engine: Engine) -> list[tuple[str, date, int]]:
    d = tables.daily.c
    query = select(d.artist_id, d.date, d.view_count).order_by(d.artist_id, d.date)
    with engine.connect() as conn:
        return [(a, day, v) for a, day, v in conn.execute(query)]


def load(
    engine: Engine, events: list[PostEvent], daily: list[DailyAnalytics] | None = None
) -> None:
    users = [User(id=u) for u in ("a", "b")]
    posts = [Post(id="pa", author_id="a", created_at=NOW - 90 * DAY)]
    posts.append(Post(id="pb", author_id="b", created_at=NOW - 90 * DAY, is_deleted=True))
    load_records_into(engine, users, posts, [], sources=Sources(events=events, daily=daily))


def test_by_default_it_rolls_up_yesterday(engine: Engine) -> None:
    """--to defaults to yesterday and --from to --to; today is never written."""
    load(engine, views("pa", YESTERDAY, YESTERDAY, NOW.date(), YESTERDAY - DAY))
    report = rollup(engine, now=NOW)
    assert (report.first, report.last, report.days) == (YESTERDAY, YESTERDAY, 1)
    assert rows(engine) == [("a", YESTERDAY, 2)]


def test_a_range_reaching_today_stops_at_yesterday(engine: Engine) -> None:
    """A range into the future ends yesterday; one left empty does nothing and succeeds."""
    load(engine, views("pa", YESTERDAY, NOW.date()))
    report = rollup(engine, first=YESTERDAY, last=NOW.date() + 5 * DAY, now=NOW)
    assert (report.last, report.days) == (YESTERDAY, 1)
    empty = rollup(engine, first=NOW.date(), last=NOW.date() + DAY, now=NOW)
    assert (empty.first, empty.last, empty.days, empty.rows_written) == (None, None, 0, 0)
    assert rows(engine) == [("a", YESTERDAY, 1)]


def test_first_after_last_is_a_bad_argument(engine: Engine) -> None:
    """--from after --to is refused before anything changes."""
    load(engine, views("pa", YESTERDAY))
    with pytest.raises(InvalidOptions):
        rollup(engine, first=YESTERDAY, last=YESTERDAY - DAY, now=NOW)


def test_without_an_event_table_it_refuses_and_changes_nothing(engine: Engine) -> None:
    """Imported rows are never wiped by mistake: no event source, no rollup."""
    imported = [DailyAnalytics("a", YESTERDAY, 7)]
    load_records_into(engine, [User(id="a")], sources=Sources(daily=imported))
    with pytest.raises(DashboardError, match="needs an event source"):
        rollup(engine, now=NOW)
    assert rows(engine) == [("a", YESTERDAY, 7)]


def test_it_creates_the_daily_table_when_missing(engine: Engine) -> None:
    """Events alone configure the chart; the rollup adds the daily table."""
    load(engine, views("pa", YESTERDAY))
    assert "daily_artist_analytics" not in _tables(engine)
    rollup(engine, now=NOW)
    assert "daily_artist_analytics" in _tables(engine)


def _tables(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(engine).get_table_names())


def test_imported_rows_in_the_range_are_replaced_or_removed(engine: Engine) -> None:
    """After a rollup each (artist, day) of the range has exactly its events' row: an imported
    row is replaced, one without events removed; rows outside the range stay."""
    before = YESTERDAY - 5 * DAY
    imported = [
        DailyAnalytics("a", YESTERDAY, 99),
        DailyAnalytics("b", YESTERDAY - DAY, 5),
        DailyAnalytics("a", before, 42),
    ]
    load(engine, views("pa", YESTERDAY, YESTERDAY - 2 * DAY) + views("pb", YESTERDAY), imported)
    report = rollup(engine, first=YESTERDAY - 3 * DAY, last=YESTERDAY, now=NOW)
    assert rows(engine) == [
        ("a", before, 42),
        ("a", YESTERDAY - 2 * DAY, 1),
        ("a", YESTERDAY, 1),
        ("b", YESTERDAY, 1),  # events on a deleted post count for its author
    ]
    assert (report.rows_written, report.rows_removed) == (3, 1)


def test_running_it_twice_changes_nothing(engine: Engine) -> None:
    """Idempotent: the second run writes and removes nothing."""
    load(engine, views("pa", YESTERDAY, YESTERDAY - DAY, YESTERDAY - 9 * DAY))
    first = rollup(engine, first=YESTERDAY - 10 * DAY, last=YESTERDAY, now=NOW)
    kept = rows(engine)
    second = rollup(engine, first=YESTERDAY - 10 * DAY, last=YESTERDAY, now=NOW)
    assert first.rows_written == 3
    assert (second.rows_written, second.rows_removed) == (0, 0)
    assert rows(engine) == kept


def test_late_events_show_once_their_day_is_rolled_up_again(engine: Engine) -> None:
    """A row settles its day: a late event on a rolled-up day is not counted until the next
    rollup of that day; on a day without a row it counts at once."""
    load(engine, views("pa", YESTERDAY))
    rollup(engine, now=NOW)
    late = [PostEvent("late-1", "pa", at(YESTERDAY, 20), "view")]
    late.append(PostEvent("late-2", "pa", at(YESTERDAY - 3 * DAY), "view"))
    load_records_into(engine, sources=Sources(events=late))
    chart = {p.date: p.view_count for p in _dashboard(engine).engagement_chart}
    assert (chart[YESTERDAY], chart[YESTERDAY - 3 * DAY]) == (1, 1)
    rollup(engine, now=NOW)
    chart = {p.date: p.view_count for p in _dashboard(engine).engagement_chart}
    assert chart[YESTERDAY] == 2


def _dashboard(engine: Engine, user: str = "a", now: datetime = NOW) -> ArtistDashboard:
    return build_dashboard(user, SqlStore(engine).repos, FixedClock(now))


def test_the_standing_is_read_from_the_rollup_until_a_load_changes_the_data(
    engine: Engine,
) -> None:
    """After a rollup the standing comes from its snapshot (equal to the live one); a load of
    events drops the snapshot, and the dashboard computes the standing live again."""
    liked = [PostEvent("b1", "pb", at(YESTERDAY), "like")]
    load(engine, views("pa", YESTERDAY) + liked + views("pb", YESTERDAY))
    live = _dashboard(engine).stats.score_percentage
    rollup(engine, now=NOW)
    with engine.connect() as conn:
        snapshot = conn.execute(text("SELECT count(*) FROM artist_standings")).scalar()
    assert snapshot == 2
    assert _dashboard(engine).stats.score_percentage == live
    more = [PostEvent("b2", "pb", at(YESTERDAY), "like")]
    load_records_into(engine, sources=Sources(events=more))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM artist_standings")).scalar() == 0
    assert _dashboard(engine, "b").stats.score_percentage == 100


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(dataset=analytics_datasets(), now=st.sampled_from([NOW, NOW + DAY, NOW - 10 * DAY]))
def test_without_imported_rows_a_rollup_changes_no_figure(
    engine: Engine, dataset: Dataset, now: datetime
) -> None:
    """On days without imported rows, rolling up every past day changes no dashboard figure:
    each day's row is exactly what its events gave (nothing is late here)."""
    if dataset.events is None:
        return
    tables.metadata.create_all(engine)
    with engine.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(delete(table))
    _empty(engine)
    sources = Sources(events=dataset.events, event_sources=dataset.event_sources)
    load_records_into(engine, dataset.users, dataset.posts, dataset.follows, sources=sources)
    people = [u.id for u in dataset.users]
    before = [_dashboard(engine, u, now) for u in people]
    rollup(engine, first=(now - 70 * DAY).date(), last=(now + 5 * DAY).date(), now=now)
    after = [_dashboard(engine, u, now) for u in people]
    for was, became in zip(before, after, strict=True):
        assert became.engagement_chart == was.engagement_chart
        assert became.comparison == was.comparison
        assert became.stats == was.stats
        assert became.audience == was.audience


@pytest.mark.postgres
def test_readers_see_the_days_before_or_after_a_rollup_never_between(postgres_url: str) -> None:
    """The rollup is one transaction: a dashboard read on PostgreSQL while it runs sees all
    of the old rows or all of the new ones (SQLite's one writer keeps readers out)."""
    import threading

    engine = create_engine(postgres_url)
    _empty(engine)
    days = [YESTERDAY - n * DAY for n in range(20)]
    # Imported rows say 5 views a day; the events say 1: before = 100, after = 20.
    load(engine, views("pa", *days), [DailyAnalytics("a", d, 5) for d in days])
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            chart = _dashboard(engine).engagement_chart
            seen.append(sum(p.view_count for p in chart))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(5):
        rollup(engine, first=days[-1], last=YESTERDAY, now=NOW)
    done.set()
    reader.join()
    _empty(engine)
    engine.dispose()
    assert set(seen) <= {5 * len(days), len(days)}
    assert seen[-1] == len(days)


@pytest.mark.postgres
@pytest.mark.parametrize("paused_after", ["aggregating", "writing"])
def test_a_second_rollup_waits_for_the_first_then_finds_the_days_settled(
    postgres_url: str, paused_after: str
) -> None:
    """Two rollups at once on PostgreSQL: the second, started while the first is paused
    (after aggregating the events, or after writing the daily rows), waits for it, then runs
    on a fresh snapshot — neither fails, the second changes nothing, and the rows are the
    events'."""
    import threading

    from sqlalchemy import event

    first_engine, second_engine = create_engine(postgres_url), create_engine(postgres_url)
    _empty(first_engine)
    days = [YESTERDAY - n * DAY for n in range(5)]
    load(first_engine, views("pa", *days), [DailyAnalytics("a", d, 5) for d in days])
    pause_at = {
        "aggregating": "INSERT INTO artist_dashboard_rollup_days",
        "writing": "INSERT INTO daily_artist_analytics",
    }[paused_after]
    paused, go = threading.Event(), threading.Event()

    @event.listens_for(first_engine, "after_cursor_execute")
    def pause(*args: object) -> None:
        if str(args[2]).startswith(pause_at) and not paused.is_set():
            paused.set()
            go.wait(30)

    reports: dict[str, RollupReport | Exception] = {}

    def run(name: str, engine: Engine) -> None:
        try:
            reports[name] = rollup(engine, first=days[-1], last=YESTERDAY, now=NOW)
        except Exception as exc:
            reports[name] = exc

    first = threading.Thread(target=run, args=("first", first_engine))
    first.start()
    assert paused.wait(30)
    second = threading.Thread(target=run, args=("second", second_engine))
    second.start()
    second.join(2)  # it waits for the first (or, were it not made to, runs ahead)
    go.set()
    first.join(30)
    second.join(30)
    try:
        first_report, second_report = reports["first"], reports["second"]
        assert isinstance(first_report, RollupReport), first_report
        assert isinstance(second_report, RollupReport), second_report
        assert first_report.rows_written == len(days)
        assert second_report.rows_written == 0
        assert rows(first_engine) == [("a", d, 1) for d in sorted(days)]
    finally:
        _empty(first_engine)
        first_engine.dispose()
        second_engine.dispose()
