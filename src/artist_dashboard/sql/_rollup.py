"""SQL adapter: the rollup (SPEC §6.2) — ``daily_artist_analytics`` recomputed from the events
for whole days, set-based and atomic, and the standing of every artist computed once for the
window that ends yesterday, so no dashboard has to rank every artist.

After a rollup every (artist, day) of the range has exactly the row its events give and none
where it has none; rows a team imported for those days are replaced or removed. Running it
twice changes nothing. It never touches today or later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from attrs import frozen
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)

from .._core import analytics
from .._core.errors import DashboardError, InvalidOptions
from .._core.rules import POST_COUNTERS
from ._analytics import AnalyticsQueries, AnalyticsReader
from ._catalog import begin_sqlite, existing
from ._schema import DashboardTables, require_plain_tables, standings_tables, tables

__all__ = ["RollupReport", "rollup"]

_DAY = timedelta(days=1)
_EVENT_SOURCES = ("post_view_events", "post_play_events", "post_engagement_events")


@frozen
class RollupReport:
    """What a rollup did: the days it covered (None when the range was empty), the daily rows
    it wrote (new or changed) and removed, and how many artists it ranked for the standing."""

    first: date | None
    last: date | None
    days: int
    rows_written: int
    rows_removed: int
    ranked: int


def rollup(
    engine: Engine,
    target: DashboardTables = tables,
    *,
    first: date | None = None,
    last: date | None = None,
    now: datetime | None = None,
) -> RollupReport:
    """Recompute ``daily_artist_analytics`` from the events for the whole days
    `first` … `last` (by default yesterday, UTC; `first` defaults to `last`).

    A range reaching today or later stops at yesterday; one that this leaves empty does
    nothing. `first` after `last` is `InvalidOptions`. Without an event table it refuses
    (`DashboardError`) and changes nothing, so imported rows are never wiped by mistake. It
    creates the daily table when missing. One transaction: readers see the days before or
    after, never between; then the standing of every artist for the window ending yesterday.
    """
    require_plain_tables(target, "the rollup")
    now = now if now is not None else datetime.now(UTC)
    yesterday = analytics.utc_day(now) - _DAY
    last = last if last is not None else yesterday
    first = first if first is not None else last
    if first > last:
        raise InvalidOptions(f"the first day {first} is after the last day {last}")
    with engine.connect() as conn:
        present = {n for n in _EVENT_SOURCES if existing(conn, [target.source(n)])}
    if not present:
        raise DashboardError(
            "the rollup needs an event source (post_view_events, post_play_events or "
            "post_engagement_events) and the database has none; nothing was changed"
        )
    target.sources_metadata.create_all(engine, tables=[target.daily], checkfirst=True)
    windows, standings = standings_tables(MetaData())
    for table in (windows, standings):
        table.create(engine, checkfirst=True)
    last = min(last, yesterday)
    queries = AnalyticsQueries(target, {*present, "daily_artist_analytics"}, snapshot=None)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                # One rollup at a time: a second waits here, before its snapshot is taken, so
                # it sees the first's days. Readers take no conflicting lock; other writers of
                # the daily rows wait for the rollup, as they would for its row locks.
                daily = conn.dialect.identifier_preparer.format_table(target.daily)
                conn.exec_driver_sql(f"LOCK TABLE {daily} IN SHARE ROW EXCLUSIVE MODE")
            else:
                begin_sqlite(conn, immediate=True)
            written = removed = 0
            if first <= last:
                written, removed = _settle_days(conn, target, queries, first, last)
            window_first, window_last = analytics.standing_days(now)
            if first <= window_first and window_last <= last:
                # Every day of the window was just settled: its daily rows are its events.
                queries = AnalyticsQueries(target, {"daily_artist_analytics"}, snapshot=None)
            ranked = _rank_everyone(conn, queries, now, windows, standings)
    days = (last - first).days + 1 if first <= last else 0
    return RollupReport(
        first if days else None, last if days else None, days, written, removed, ranked
    )


def _settle_days(
    conn: Connection, target: DashboardTables, queries: AnalyticsQueries, first: date, last: date
) -> tuple[int, int]:
    """Make the days' rows exactly what their events give; (written, removed)."""
    assert queries.every_event_day is not None
    daily = target.daily
    d = daily.c
    span = {
        "start": analytics.day_start(first),
        "end": analytics.day_start(last + _DAY),
    }
    # The events are aggregated once, into a scratch table both statements below read.
    computed = _scratch(conn, daily)
    conn.execute(
        insert(computed).from_select(
            [c.name for c in computed.c], queries.every_event_day.subquery("ev").select()
        ),
        span,
    )
    c = computed.c
    same_key = (c.artist == d.artist_id) & (c.day == d.date)
    removed = conn.execute(
        delete(daily).where(d.date >= first, d.date <= last, ~exists().where(same_key))
    ).rowcount
    # The rows that differ are updated, the new ones inserted (an upsert of every row cost
    # PostgreSQL half as much again: a speculative insertion per row).
    differs = or_(*(d[k].is_distinct_from(c[k]) for k in POST_COUNTERS))
    changed = update(daily).where(same_key, differs).values({k: c[k] for k in POST_COUNTERS})
    new = select(c.artist, c.day, *(c[k] for k in POST_COUNTERS)).where(~exists().where(same_key))
    columns = ["artist_id", "date", *POST_COUNTERS]
    written = conn.execute(changed).rowcount
    # SQLAlchemy keeps an INSERT's row count only when asked to.
    added = insert(daily).from_select(columns, new).execution_options(preserve_rowcount=True)
    written += conn.execute(added).rowcount
    computed.drop(conn)
    return max(written, 0), max(removed, 0)


def _scratch(conn: Connection, daily: Table) -> Table:
    """A temporary table for one run's computed days, on this connection only."""
    computed = Table(
        "artist_dashboard_rollup_days",
        MetaData(),
        Column("artist", daily.c.artist_id.type, nullable=False),
        Column("day", Date, nullable=False),
        *(Column(k, BigInteger, nullable=False) for k in POST_COUNTERS),
        PrimaryKeyConstraint("artist", "day"),
        prefixes=["TEMPORARY"],
    )
    # A pooled connection may still hold one from a run that failed before dropping it.
    computed.drop(conn, checkfirst=True)
    computed.create(conn)
    return computed


def _rank_everyone(
    conn: Connection, queries: AnalyticsQueries, now: datetime, windows: Table, standings: Table
) -> int:
    """The standing of every artist over the window ending yesterday, ranked by the core's
    rule, replacing any earlier window's."""
    first, last = analytics.standing_days(now)
    totals = AnalyticsReader(conn, queries).standing_totals(first, last)
    everyone = analytics.rank_all(totals)
    conn.execute(delete(standings))
    conn.execute(delete(windows))
    conn.execute(insert(windows), [{"last_day": last, "first_day": first, "ranked": len(everyone)}])
    rows = [
        {"last_day": last, "artist_id": a, "at_or_below": s.at_or_below, "ranked": s.ranked}
        for a, s in everyone.items()
    ]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(standings), rows[start : start + 5000])
    return len(everyone)
