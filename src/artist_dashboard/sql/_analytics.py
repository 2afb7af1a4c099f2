"""SQL adapter: the analytics sources' ports in SQL — an artist's daily rows and event counts
over a day range, distinct non-follower viewers, revenue per currency, and the standing.

Each answer is one range read by artist and day (or time) from an index; nothing of an
artist's events reaches Python but their counts. The standing is read from the rollup's
snapshot when one exists for the window, and otherwise computed live: every artist's totals
over the window in one grouped query, ranked by the core's rule (`analytics.rank_standing`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    select,
    union,
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.elements import ColumnElement

from .._core import analytics
from .._core.numbers import exact_sum
from .._core.records import CurrencyTotal, DailyAnalytics, DayFigures, Standing
from .._core.rules import MAX_COUNTER, POST_COUNTERS
from ._schema import _ID, DashboardTables, UtcDateTime, clamped, utc_day

_DAY = timedelta(days=1)
#: What an event of each source adds to a day, as (counter, SQL condition on the row).
_ENGAGEMENT_COUNTERS = {
    "likes_count": "like",
    "comments_count": "comment",
    "saves_count": "save",
    "shares_count": "share",
}


class AnalyticsQueries:
    """The analytics statements of one store, built once, for the sources its database has."""

    def __init__(
        self,
        tables: DashboardTables,
        present: set[str],
        snapshot: tuple[Table, Table] | None,
        audience: Table | None = None,
    ) -> None:
        self.tables = tables
        self.present = present
        p = tables.posts.c
        user = bindparam("user", type_=_ID)
        start, end = bindparam("start", type_=UtcDateTime), bindparam("end", type_=UtcDateTime)
        until = bindparam("until", type_=UtcDateTime)
        after = bindparam("after", type_=UtcDateTime)
        first, last = bindparam("first", type_=Date), bindparam("last", type_=Date)
        d = tables.daily.c

        self.daily_rows = (
            select(d.date, *(d[k] for k in POST_COUNTERS))
            .where(d.artist_id == user, d.date >= first, d.date <= last)
            .order_by(d.date)
        )

        events = [t for t in tables.events if t.name in present]

        def author(table: Table) -> tuple[ColumnElement[Any], Any]:
            """The event's artist, and where to read it from: the event's copy, or its post."""
            if "author_id" in table.c:
                return table.c.author_id, table
            return p.author_id, table.join(tables.posts, p.id == table.c.post_id)

        def counts(table: Table) -> list[ColumnElement[Any]]:
            """The six day counters one event of `table` adds to."""
            zero: ColumnElement[Any] = literal(0, BigInteger)
            if table is tables.engagement_events:
                by_type = {
                    k: func.sum(case((table.c.type == kind, 1), else_=0))
                    for k, kind in _ENGAGEMENT_COUNTERS.items()
                }
                return [by_type.get(k, zero).label(k) for k in POST_COUNTERS]
            counter = "view_count" if table is tables.view_events else "play_count"
            return [(func.count() if k == counter else zero).label(k) for k in POST_COUNTERS]

        # event_days: the artist's events, per day, up to `until`.
        per_day = []
        #: Each event table's six counters over [start, end) up to `until` (one day, where the
        #: whole read asks each day without a row on its own).
        self.event_counts: list[Select[Any]] = []
        for table in events:
            artist, source = author(table)
            day = utc_day(table.c.created_at).label("day")
            counted = (
                select(*counts(table))
                .select_from(source)
                .where(
                    artist == user,
                    table.c.created_at >= start,
                    table.c.created_at < end,
                    table.c.created_at <= until,
                )
            )
            self.event_counts.append(counted)
            per_day.append(counted.add_columns(day).group_by(day))
        self.event_days: Select[Any] | None = None
        if per_day:
            both = union_all(*per_day).subquery("per_day")
            self.event_days = (
                select(both.c.day, *(func.sum(both.c[k]).label(k) for k in POST_COUNTERS))
                .group_by(both.c.day)
                .order_by(both.c.day)
            )

        # count_non_followers: distinct viewers of the window, but the artist and followers.
        viewers = []
        for table in (t for t in events if t is not tables.engagement_events):
            artist, source = author(table)
            viewers.append(
                select(table.c.user_id.label("viewer"))
                .select_from(source)
                .where(
                    artist == user,
                    table.c.created_at > after,
                    table.c.created_at <= until,
                    table.c.user_id.is_not(None),
                    table.c.user_id != "",
                    table.c.user_id != user,
                )
            )
        self.non_followers: Select[Any] | None = None
        if viewers:
            # Each viewer once (UNION), then the followers taken out: one probe per person,
            # not per event.
            # (UNION of one query is that query: DISTINCT then, else a person counts per event.)
            once = union(*viewers) if len(viewers) > 1 else viewers[0].distinct()
            seen = once.subquery("seen")
            f = tables.follows.c
            self.non_followers = (
                select(func.count())
                .select_from(seen)
                .where(~exists().where(f.followee_id == user, f.follower_id == seen.c.viewer))
            )

        # count_non_followers from the maintained audience: the artist's non-followers last
        # seen after the window opened, split by whether that was after its end too — those
        # may have been seen inside it as well, which only the events can tell.
        self.audience_count: Select[Any] | None = None
        if audience is not None:
            a = audience.c
            self.audience_count = select(
                func.coalesce(func.sum(case((a.last_seen <= until, 1), else_=0)), 0),
                func.coalesce(func.sum(case((a.last_seen > until, 1), else_=0)), 0),
            ).where(
                a.artist_id == user,
                a.follower == false(),
                a.last_seen > after,
                a.user_id != user,
            )

        # revenue: per currency over the window (summed in SQL where the amount is NUMERIC).
        e = tables.earnings.c
        in_window = and_(e.artist_id == user, e.created_at > after, e.created_at <= until)
        self.revenue_sums = (
            select(e.currency, func.sum(e.amount), func.count())
            .where(in_window)
            .group_by(e.currency)
            .order_by(e.currency)
        )
        self.revenue_entries = select(e.currency, e.amount).where(in_window)

        # The standing, live: every artist's totals over the window's days.
        reach: ColumnElement[Any] = clamped(d.view_count) + clamped(d.play_count)
        engaged: ColumnElement[Any] = clamped(d.likes_count)
        for k in ("comments_count", "saves_count", "shares_count"):
            engaged = engaged + clamped(d[k])
        parts: list[Select[Any]] = []
        if "daily_artist_analytics" in present:
            parts.append(
                select(
                    d.artist_id.label("artist"), reach.label("reach"), engaged.label("engaged")
                ).where(d.date >= first, d.date <= last)
            )
        # Every artist's events per day, with the six counters: the rollup writes these rows,
        # and the live standing takes them where a day has no row.
        self.every_event_day: Select[Any] | None = None
        if per_day:
            every = []
            for table in events:
                artist, source = author(table)
                day = utc_day(table.c.created_at).label("day")
                every.append(
                    select(artist.label("artist"), day, *counts(table))
                    .select_from(source)
                    .where(
                        table.c.created_at >= start,
                        table.c.created_at < end,
                        artist.is_not(None),
                    )
                    .group_by(artist, day)
                )
            ev = union_all(*every).subquery("ev")
            self.every_event_day = select(
                ev.c.artist, ev.c.day, *(func.sum(ev.c[k]).label(k) for k in POST_COUNTERS)
            ).group_by(ev.c.artist, ev.c.day)
            days = self.every_event_day.subquery("days")
            by_day = select(
                days.c.artist,
                days.c.day,
                (days.c.view_count + days.c.play_count).label("reach"),
                (
                    days.c.likes_count
                    + days.c.comments_count
                    + days.c.saves_count
                    + days.c.shares_count
                ).label("engaged"),
            ).subquery("by_day")
            rowless = select(by_day.c.artist, by_day.c.reach, by_day.c.engaged)
            if "daily_artist_analytics" in present:
                # A daily row wins over its day's events (`analytics.day_figures`).
                rowless = rowless.where(
                    ~exists().where(d.artist_id == by_day.c.artist, d.date == by_day.c.day)
                )
            parts.append(rowless)
        self.standing_totals: Select[Any] | None = None
        self.standing_figures: Select[Any] | None = None
        if parts:
            figures = union_all(*parts).subquery("figures")
            self.standing_figures = select(figures.c.artist, figures.c.engaged, figures.c.reach)
            self.standing_totals = (
                select(
                    figures.c.artist,
                    func.sum(figures.c.engaged).label("engaged"),
                    func.sum(figures.c.reach).label("reach"),
                )
                .group_by(figures.c.artist)
                .having(func.sum(figures.c.reach) > 0)
            )
        self.snapshot_window: Select[Any] | None = None
        self.snapshot_standing: Select[Any] | None = None
        if snapshot is not None:
            windows, standings = snapshot
            self.snapshot_window = select(windows.c.ranked).where(
                windows.c.last_day == last, windows.c.first_day == first
            )
            self.snapshot_standing = select(standings.c.at_or_below, standings.c.ranked).where(
                standings.c.last_day == last, standings.c.artist_id == user
            )


#: The same few days come back on every read: each text is parsed once.
_day_from_text = lru_cache(maxsize=4096)(date.fromisoformat)


def day_of(value: Any) -> date:
    """A day as the database returns it (SQLite: text; JSON: text)."""
    return value if isinstance(value, date) else _day_from_text(str(value)[:10])


def daily_figures(artist_id: str, row: Sequence[Any]) -> DayFigures:
    """A daily row (day, then the six counters) as the day's figures, its counters read like a
    post's: negative, NULL or odd values clamp to 0, and are logged."""
    day, *counters = row
    kept = DailyAnalytics(artist_id, day_of(day), *counters)
    return DayFigures(kept.day, *(getattr(kept, k) for k in POST_COUNTERS))


def daily_figures_of(artist_id: str, rows: Iterable[Sequence[Any]]) -> list[DayFigures]:
    """Daily rows as `daily_figures` reads them, the common case — six counters that need no
    clamping — checked inline (a dashboard reads up to 60 rows; this is half their cost)."""
    figures: list[DayFigures] = []
    add = figures.append
    top = MAX_COUNTER
    for row in rows:
        day, v, p, li, c, s, sh = row
        if (
            type(v) is int
            and type(p) is int
            and type(li) is int
            and type(c) is int
            and type(s) is int
            and type(sh) is int
            and 0 <= v <= top
            and 0 <= p <= top
            and 0 <= li <= top
            and 0 <= c <= top
            and 0 <= s <= top
            and 0 <= sh <= top
        ):
            add(DayFigures(day_of(day), v, p, li, c, s, sh))
        else:
            add(daily_figures(artist_id, row))
    return figures


def currency_totals(rows: Iterable[Sequence[Any]]) -> list[CurrencyTotal]:
    """(currency, exact sum as text or NUMERIC, entries) rows, by currency."""
    totals = (CurrencyTotal(str(c), Decimal(str(a)), int(n)) for c, a, n in rows)
    return sorted(totals, key=lambda t: t.currency)


def summed_totals(entries: Iterable[Sequence[Any]]) -> list[CurrencyTotal]:
    """(currency, amount) entries summed exactly per currency (SQLite keeps each amount's
    exact text: the sums are made here, streaming)."""
    sums: dict[str, tuple[Decimal, int]] = {}
    for currency, amount in entries:
        total, count = sums.get(str(currency), (Decimal(0), 0))
        sums[str(currency)] = (exact_sum((total, Decimal(str(amount)))), count + 1)
    return [CurrencyTotal(c, a, n) for c, (a, n) in sorted(sums.items())]


def _bounds(first: date, last: date) -> dict[str, datetime]:
    return {"start": analytics.day_start(first), "end": analytics.day_start(last + _DAY)}


class AnalyticsReader:
    """The analytics ports on one connection, inside the dashboard's transaction."""

    def __init__(self, conn: Connection, queries: AnalyticsQueries) -> None:
        self.conn, self.queries = conn, queries

    # DayFiguresRepo

    def daily_rows(self, artist_id: str, first: date, last: date) -> Sequence[DayFigures]:
        if "daily_artist_analytics" not in self.queries.present:
            return []
        params = {"user": artist_id, "first": first, "last": last}
        rows = self.conn.execute(self.queries.daily_rows, params)
        return daily_figures_of(artist_id, rows)

    def event_days(
        self, artist_id: str, first: date, last: date, until: datetime
    ) -> Sequence[DayFigures]:
        if self.queries.event_days is None:
            return []
        params = {"user": artist_id, "until": until, **_bounds(first, last)}
        return [
            DayFigures(day_of(row[0]), *(int(v) for v in row[1:]))
            for row in self.conn.execute(self.queries.event_days, params)
        ]

    def standing(self, artist_id: str, first: date, last: date) -> Standing:
        q = self.queries
        if q.snapshot_window is not None and q.snapshot_standing is not None:
            window = self.conn.execute(q.snapshot_window, {"first": first, "last": last}).first()
            if window is not None:
                mine = self.conn.execute(
                    q.snapshot_standing, {"user": artist_id, "last": last}
                ).first()
                if mine is None:
                    return Standing(0, int(window[0]))
                return Standing(int(mine[0]), int(mine[1]))
        totals = self.standing_totals(first, last)
        return analytics.rank_standing(artist_id, totals)

    def standing_totals(self, first: date, last: date) -> dict[str, tuple[int, int]]:
        """Every ranked artist's (engagements, reach) over the days: the live computation."""
        if self.queries.standing_totals is None:
            return {}
        params = {"first": first, "last": last, **_bounds(first, last)}
        try:
            rows = [tuple(row) for row in self.conn.execute(self.queries.standing_totals, params)]
        except OperationalError as exc:
            if "integer overflow" not in str(exc.orig):
                raise
            # SQLite's sum() stops at 2^63: only imported rows can get there. Sum exactly here.
            rows = list(self._summed_in_python(params))
        return {str(a): (int(e), int(r)) for a, e, r in rows}

    def _summed_in_python(self, params: dict[str, Any]) -> list[tuple[str, int, int]]:
        figures = self.queries.standing_figures
        assert figures is not None
        sums: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        for artist, engaged, reach in self.conn.execute(figures, params):
            sums[str(artist)][0] += int(engaged)
            sums[str(artist)][1] += int(reach)
        return [(a, e, r) for a, (e, r) in sums.items() if r > 0]

    # AudienceRepo

    def count_non_followers(self, artist_id: str, after: datetime, until: datetime) -> int:
        if self.queries.non_followers is None:
            return 0
        params = {"user": artist_id, "after": after, "until": until}
        if self.queries.audience_count is not None:
            inside, maybe = self.conn.execute(self.queries.audience_count, params).one()
            if not maybe:
                return int(inside)
        return int(self.conn.execute(self.queries.non_followers, params).scalar_one())

    # RevenueRepo

    def revenue(self, artist_id: str, after: datetime, until: datetime) -> Sequence[CurrencyTotal]:
        params = {"user": artist_id, "after": after, "until": until}
        if self.conn.dialect.name == "postgresql":
            return currency_totals(self.conn.execute(self.queries.revenue_sums, params))
        return summed_totals(self.conn.execute(self.queries.revenue_entries, params))
