"""SQL adapter: a whole dashboard in one statement (the optional `WholeDashboardRepo`).

The statement is the ports' own statements (`Queries`, `AnalyticsQueries`) put together: each
count a scalar subquery, each list a JSON array of its rows, every time parameter renamed per
use. It is compiled once per store and run on the driver's own connection — no SQLAlchemy
per-execute work — in one round trip: on PostgreSQL prepared, and pipelined with the
``BEGIN READ ONLY`` and ``SET LOCAL`` statements of its transaction; on SQLite as one read.
One statement reads one snapshot, so the answers are as consistent as the ports' in a
transaction.

It declines (`read` returns None, and the core asks the ports) where the ports would do more
than one statement can: SQLite counters holding text or fractions, sums past 2^63, a standing
not yet computed by the rollup, a maintained audience that must ask the events.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, reduce
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from .._core import rules
from .._core.records import (
    DashboardAsk,
    DashboardReads,
    DayFigures,
    Follow,
    Post,
    PostTotals,
    Standing,
)
from .._core.values import as_utc
from ._analytics import (
    AnalyticsQueries,
    currency_totals,
    daily_figures_of,
    day_of,
    summed_totals,
)
from ._queries import Queries, maintained_window, post_of, user_of
from ._schema import _ID, STATS_FIGURES, DashboardTables, clamped_fast, utc_day

try:  # optional: the `fast` extra
    import orjson

    _loads: Callable[[str | bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _loads = json.loads


__all__ = ["WholeRead"]

#: The parameters a port's statement takes besides the user, renamed per use.
_RENAMED = {"limit", "after", "until", "start", "end", "first", "last", "first_day", "last_day"}
_DAY = timedelta(days=1)


def _renamed(statement: Any, suffix: str, **replace: ColumnElement[Any]) -> Any:
    """The statement with its parameters renamed ``name_suffix`` (so that one statement can
    hold the same port's query for several windows), or replaced by an expression."""

    def swap(element: Any, **_kw: Any) -> Any:
        if isinstance(element, BindParameter) and element.key in _RENAMED:
            if element.key in replace:
                return replace[element.key]
            return bindparam(f"{element.key}_{suffix}", type_=element.type)
        return None

    return visitors.replacement_traverse(statement, {}, swap)


class WholeRead:
    """The whole-dashboard statement of one store, and how to read its one row."""

    def __init__(
        self,
        engine: Engine,
        tables: DashboardTables,
        queries: Queries,
        analytics: AnalyticsQueries,
        configured: tuple[bool, bool, bool],
        *,
        statement_timeout_ms: int | None,
        naive_times: bool = False,
    ) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.configured = configured
        self.maintained = queries.stats is not None
        self.timeout_ms = statement_timeout_ms
        #: PostgreSQL: whether the read needs a transaction of its own — a UTC session for
        #: naive ``timestamp`` columns, or a statement timeout. Otherwise it is one statement
        #: in autocommit, its days computed in UTC whatever the session's zone.
        self.transaction = self.postgres and (naive_times or statement_timeout_ms is not None)
        self.windows = 4 if configured[0] else 2
        #: False when no read can be answered (the standing has never been stored).
        self.answers = True
        self.user_columns = [str(c.key) for c in queries.user.selected_columns]
        self.post_columns = [str(c.key) for c in queries.top_posts.selected_columns]
        self.stats_columns = (
            [str(c.key) for c in queries.stats.selected_columns]
            if queries.stats is not None
            else []
        )
        parts = self._parts(tables, queries, analytics)
        self.names = list(parts)
        statement: Any = select(*(part.label(name) for name, part in parts.items()))
        if self.postgres and not self.transaction:
            statement = visitors.replacement_traverse(statement, {}, _utc_days)
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        dialect = engine.dialect
        # Literals carry their values; only the ask's parameters change from read to read.
        self.static: dict[str, Any] = {}
        self.processors: dict[str, Callable[[Any], Any] | None] = {}
        for key, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.value is None and bind.callable is None:
                self.processors[key] = process
            else:
                self.static[key] = process(bind.value) if process else bind.value
        self.positions = list(compiled.positiontup or ())
        if self.postgres:
            # $1, $2…: the driver then sends the statement as it is, without parsing a query
            # far too long for its cache on every read.
            self.sql, self.positions = _numbered(self.sql)

    # --- the statement ---------------------------------------------------------------------

    def _array(self, *columns: Any) -> ColumnElement[Any]:
        return func.json_build_array(*columns) if self.postgres else func.json_array(*columns)

    def _text(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """JSON as text (PostgreSQL's driver would decode it with the standard library's
        decoder; `_fetch` uses orjson where it can)."""
        return cast(value, Text) if self.postgres else value

    def _rows(self, statement: Select[Any], name: str) -> ColumnElement[Any]:
        """Every row of the statement as one JSON array of arrays (columns in order)."""
        sub = statement.subquery(name)
        row = self._array(*sub.c)
        rows = func.json_agg(row) if self.postgres else func.json_group_array(row)
        return select(self._text(rows)).select_from(sub).scalar_subquery()

    def _row(self, statement: Select[Any], name: str) -> ColumnElement[Any]:
        """The statement's one row as a JSON array (NULL when there is none)."""
        sub = statement.subquery(name)
        return select(self._text(self._array(*sub.c))).select_from(sub).scalar_subquery()

    def _parts(
        self, tables: DashboardTables, q: Queries, a: AnalyticsQueries
    ) -> dict[str, ColumnElement[Any]]:
        parts: dict[str, ColumnElement[Any]] = {"user": self._row(q.user, "w_user")}
        if q.stats is not None:
            parts["stats"] = self._row(q.stats, "w_stats")
        else:
            parts["totals"] = self._row(q.totals[clamped_fast], "w_totals")
            parts["collaborations"] = q.collaborations.scalar_subquery()
            parts["followers"] = q.followers.scalar_subquery()
            parts["following"] = q.following.scalar_subquery()
        for i in range(self.windows):
            count = _renamed(q.new_followers, f"w{i}").scalar_subquery()
            if q.whole_days is not None:
                # Maintained: whole days from the day counts, the two edge days counted.
                tail = _renamed(q.new_followers, f"t{i}").scalar_subquery()
                middle = _renamed(q.whole_days, f"w{i}").scalar_subquery()
                count = count + middle + tail
            parts[f"new_followers_{i}"] = count
        parts["top"] = self._rows(_renamed(q.top_posts, "top"), "w_top")
        parts["recent_posts"] = self._rows(_renamed(q.recent_posts, "recent"), "w_recent")
        followers = _renamed(q.recent_followers, "recent").subquery("w_followers")
        users = tables.users
        people = select(
            followers.c.follower_id,
            followers.c.created_at,
            *(users.c[k] for k in self.user_columns),
        ).select_from(followers.outerjoin(users, users.c.id == followers.c.follower_id))
        parts["recent_followers"] = self._rows(people, "w_people")
        days, audience, revenue = self.configured
        if days:
            self._day_parts(parts, tables, a)
        if audience:
            assert a.non_followers is not None
            if a.audience_count is not None:
                parts["audience"] = self._row(_renamed(a.audience_count, "a"), "w_audience")
            else:
                parts["non_followers"] = _renamed(a.non_followers, "a").scalar_subquery()
        if revenue:
            entries = a.revenue_sums if self.postgres else a.revenue_entries
            if self.postgres:
                sub = _renamed(entries, "m").subquery("w_sums")
                entries = select(sub.c[0], cast(sub.c[1], String), sub.c[2])
                parts["revenue"] = self._rows(entries, "w_revenue")
            else:
                parts["revenue"] = self._rows(_renamed(entries, "m"), "w_revenue")
        return parts

    def _day_parts(
        self, parts: dict[str, ColumnElement[Any]], tables: DashboardTables, a: AnalyticsQueries
    ) -> None:
        d = tables.daily.c
        bounds: dict[str, ColumnElement[Any]] = {}
        if "daily_artist_analytics" in a.present:
            parts["daily"] = self._rows(_renamed(a.daily_rows, "d"), "w_daily")
            # The wanted days without a row: only their events count (a row is its day's
            # figure).
            wanted = bindparam("days", type_=String)
            if self.postgres:
                each = func.json_array_elements_text(cast(wanted, JSON)).table_valued("value")
                day: ColumnElement[Any] = cast(each.c.value, Date)
            else:
                each = func.json_each(wanted).table_valued("value")
                day = each.c.value
            user = bindparam("user", type_=_ID)
            has_row = select(d.date).where(d.artist_id == user, d.date == day).exists()
            rowless = select(day.label("day")).select_from(each).where(~has_row).subquery("w_open")
            parts["events_from"] = select(func.min(rowless.c.day)).scalar_subquery()
            if self.postgres:
                if a.event_counts:
                    parts["events"] = self._counted_days(rowless.c.day, a)
            else:
                # The events of those days alone, each day one range read of the index.
                start, end = self._day_bounds(rowless.c.day)
                bounds = {"start": start, "end": end}
        if a.event_days is not None and "events" not in parts:
            parts["events"] = self._rows(_renamed(a.event_days, "e", **bounds), "w_events")
        self._standings(parts, a)

    def _counted_days(self, day: ColumnElement[Any], a: AnalyticsQueries) -> ColumnElement[Any]:
        """(PostgreSQL) Each of the days' counters: each event table's counts of one day as a
        ``LATERAL`` subquery, so that each is one range read of the events' index (a join of
        the days and the events is planned as a scan of all the artist's events)."""
        start, end = self._day_bounds(day)
        counted = [
            _renamed(counts, "e", start=start, end=end).lateral(f"w_counts_{i}")
            for i, counts in enumerate(a.event_counts)
        ]
        days: Any = day.table
        for each in counted:
            days = days.join(each, true())
        sums = (
            reduce(operator.add, (func.coalesce(each.c[k], 0) for each in counted)).label(k)
            for k in rules.POST_COUNTERS
        )
        return self._rows(select(day, *sums).select_from(days), "w_events")

    def _day_bounds(self, day: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        """The first instant of a day and of the next, as the event columns hold instants
        (PostgreSQL: UTC ``timestamptz``; SQLite: UTC text)."""
        if self.postgres:
            midnight = cast(day, DateTime(timezone=False))
            return func.timezone("UTC", midnight), func.timezone("UTC", midnight + _DAY)
        clock = literal(" 00:00:00.000000")
        return day.op("||")(clock), func.date(day, "+1 day").op("||")(clock)

    def _standings(self, parts: dict[str, ColumnElement[Any]], a: AnalyticsQueries) -> None:
        if a.snapshot_window is None or a.snapshot_standing is None:
            # No standings stored: every dashboard must rank every artist (the ports do).
            self.answers = False
        else:
            parts["ranked"] = _renamed(a.snapshot_window, "s").scalar_subquery()
            parts["standing"] = self._row(_renamed(a.snapshot_standing, "s"), "w_standing")

    # --- one read --------------------------------------------------------------------------

    def params(self, ask: DashboardAsk) -> dict[str, Any]:
        values: dict[str, Any] = {
            "user": ask.user_id,
            "limit_top": ask.top_limit,
            "after_recent": ask.recent_after,
            "until_recent": ask.now,
            "limit_recent": ask.recent_limit,
        }
        for i, (after, until) in enumerate(ask.follower_windows):
            if self.maintained:
                head, (first_day, last_day), tail = maintained_window(after, until)
                values |= {f"after_w{i}": head[0], f"until_w{i}": head[1]}
                values |= {f"first_day_w{i}": first_day, f"last_day_w{i}": last_day}
                values |= {f"after_t{i}": tail[0], f"until_t{i}": tail[1]}
            else:
                values |= {f"after_w{i}": after, f"until_w{i}": until}
        if ask.days is not None:
            first, last = ask.days[0], ask.days[-1]
            values |= {
                "first_d": first,
                "last_d": last,
                "days": _days_json(ask.days),
            }
            values |= {
                "start_e": datetime.combine(first, datetime.min.time(), UTC),
                "end_e": datetime.combine(last + _DAY, datetime.min.time(), UTC),
                "until_e": ask.now,
            }
        if ask.standing_days is not None:
            values |= {"first_s": ask.standing_days[0], "last_s": ask.standing_days[1]}
        if ask.audience_window is not None:
            values |= {"after_a": ask.audience_window[0], "until_a": ask.audience_window[1]}
        if ask.revenue_window is not None:
            values |= {"after_m": ask.revenue_window[0], "until_m": ask.revenue_window[1]}
        return values

    def read(self, ask: DashboardAsk) -> DashboardReads | None:
        asked = (
            ask.days is not None,
            ask.audience_window is not None,
            ask.revenue_window is not None,
        )
        if not self.answers or len(ask.follower_windows) != self.windows:
            return None
        if asked != self.configured:
            return None
        values = self.params(ask)
        bound = dict(self.static)
        done: dict[tuple[type, Any], Any] = {}
        for key, process in self.processors.items():
            value = values[key]
            if process is None:
                bound[key] = value
                continue
            # The same instants recur (now, above all): each converted once.
            memo = (type(value), value)
            if memo not in done:
                done[memo] = process(value)
            bound[key] = done[memo]
        try:
            row = self._fetch(bound)
        except OperationalError as exc:
            if "integer overflow" in str(exc.orig):
                return None  # sums past 2^63 on SQLite: the ports sum them in halves
            raise
        return self._decode(dict(zip(self.names, row, strict=True)), ask)

    def _fetch(self, bound: dict[str, Any]) -> Sequence[Any]:
        with self._driver() as driver:
            row = self._run(driver, bound)
        return tuple(_parsed(name, v) for name, v in zip(self.names, row, strict=True))

    def _run(self, driver: Any, bound: dict[str, Any]) -> Sequence[Any]:
        """The statement's one row, its JSON parts as text."""
        if not self.postgres:
            row: Sequence[Any] = driver.execute(
                self.sql, tuple(bound[k] for k in self.positions)
            ).fetchone()
            return row
        import psycopg

        cursor = psycopg.RawCursor(driver)
        numbered = [bound[k] for k in self.positions]
        if not self.transaction:
            cursor.execute(self.sql, numbered, prepare=True)
        else:
            with driver.pipeline():
                driver.execute(b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                driver.execute(b"SET LOCAL TIME ZONE 'UTC'")
                if self.timeout_ms is not None:
                    timeout = f"SET LOCAL statement_timeout = {self.timeout_ms}"
                    driver.execute(timeout.encode())
                cursor.execute(self.sql, numbered, prepare=True)
                driver.execute(b"COMMIT")
        found = cursor.fetchone()
        assert found is not None
        return tuple(found)

    @contextmanager
    def _driver(self) -> Iterator[Any]:
        """The driver's own connection, from the engine's pool. PostgreSQL's is switched to
        autocommit for the read (it begins and commits its own transaction), so that no
        ROLLBACK drops the prepared statement, and switched back before it is returned."""
        pooled = self.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            if not self.postgres:
                yield driver
                return
            assert driver is not None
            driver.autocommit = True
            try:
                yield driver
            finally:
                if driver.info.transaction_status != 0:  # not IDLE: the read failed inside
                    driver.execute(b"ROLLBACK")
                driver.autocommit = False
        except BaseException:
            pooled.invalidate()
            raise
        finally:
            pooled.close()

    # --- the row, decoded as the ports would answer ----------------------------------------

    def _decode(self, found: dict[str, Any], ask: DashboardAsk) -> DashboardReads | None:
        users = self.user_columns
        user = (
            None if found["user"] is None else user_of(dict(zip(users, found["user"], strict=True)))
        )
        if self.maintained:
            stats = dict(zip(self.stats_columns, found["stats"] or (), strict=False))
            figures = {k: int(stats.get(k) or 0) for k in STATS_FIGURES}
            totals = PostTotals(**{k: figures[k] for k in ("posts", *rules.POST_COUNTERS)})
            collaborations, followers_count, following = (
                figures["collaborations"],
                figures["followers"],
                figures["following"],
            )
        else:
            sums = found["totals"]
            if any(isinstance(v, float) for v in sums):
                return None  # text or fractions in SQLite counters: the ports recount
            totals = PostTotals(*(int(v) for v in sums))
            collaborations = int(found["collaborations"])
            followers_count, following = int(found["followers"]), int(found["following"])
        new_followers = {
            window: int(found[f"new_followers_{i}"])
            for i, window in enumerate(ask.follower_windows)
        }
        days, audience, revenue = self.configured
        extra: dict[str, Any] = {}
        if days:
            if found.get("ranked") is None:
                return None  # no standing stored for this window: the ports rank live
            stored = found.get("standing")
            extra["standing"] = (
                Standing(0, int(found["ranked"]))
                if stored is None
                else Standing(int(stored[0]), int(stored[1]))
            )
            extra["daily_rows"] = daily_figures_of(ask.user_id, found.get("daily") or ())
            assert ask.days is not None
            start = found.get("events_from", str(ask.days[0]))
            extra["events_from"] = None if start is None else day_of(start)
            extra["event_days"] = [
                DayFigures(day_of(day), *map(int, counts))
                for day, *counts in found.get("events") or ()
            ]
        if audience:
            if "audience" in found:
                inside, maybe = found["audience"]
                if maybe:
                    return None  # someone last seen after now: the ports ask the events
                extra["non_followers"] = int(inside)
            else:
                extra["non_followers"] = int(found["non_followers"])
        if revenue:
            rows = found["revenue"] or ()
            extra["revenue"] = currency_totals(rows) if self.postgres else summed_totals(rows)
        followers = found["recent_followers"] or ()
        return DashboardReads(
            user=user,
            totals=totals,
            collaborations=collaborations,
            followers=followers_count,
            following=following,
            new_followers=new_followers,
            top_posts=[
                _post(dict(zip(self.post_columns, r, strict=True))) for r in found["top"] or ()
            ],
            recent_posts=[
                _post(dict(zip(self.post_columns, r, strict=True)))
                for r in found["recent_posts"] or ()
            ],
            recent_followers=[
                Follow(follower_id=str(r[0]), followee_id=ask.user_id, created_at=_time(r[1]))
                for r in followers
            ],
            people={
                str(r[0]): user_of(dict(zip(users, r[2:], strict=True)))
                for r in followers
                if r[2] is not None
            },
            **extra,
        )


#: The parts read by orjson where installed: all but the sums, which PostgreSQL may carry past
#: 64 bits (orjson reads such a number as a float; the standard library keeps it exact).
_FAST = frozenset(("user", "top", "recent_posts", "recent_followers", "daily", "events"))
#: The parts that are JSON (returned as text).
_JSON_PARTS = frozenset(
    (
        "user",
        "stats",
        "totals",
        "top",
        "recent_posts",
        "recent_followers",
        "daily",
        "events",
        "standing",
        "audience",
        "revenue",
    )
)


@lru_cache(maxsize=16)
def _days_json(days: tuple[date, ...]) -> str:
    """The wanted days as a JSON array of ``YYYY-MM-DD`` (the same for a whole day's reads)."""
    return json.dumps([str(d) for d in days])


def _numbered(sql: str) -> tuple[str, list[str]]:
    """psycopg's ``%(name)s`` placeholders as PostgreSQL's own ``$n`` (a name used twice is
    one number), and the names in number order."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    numbered = re.sub(r"%\(([^)]+)\)s", number, sql)
    return numbered.replace("%%", "%"), order


def _utc_days(element: Any, **_kw: Any) -> Any:
    """(PostgreSQL) A ``timestamptz``'s UTC day that does not depend on the session's zone."""
    if isinstance(element, utc_day):
        (moment,) = element.clauses
        return cast(func.timezone("UTC", moment), Date)
    return None


def _parsed(name: str, value: Any) -> Any:
    """A part of the row as the ports would have it: its JSON text decoded."""
    if value is None or name not in _JSON_PARTS:
        return value
    return (_loads if name in _FAST else json.loads)(value)


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value)))


def _post(row: Mapping[str, Any]) -> Post:
    return post_of(row, created_at=_time(row["created_at"]))
