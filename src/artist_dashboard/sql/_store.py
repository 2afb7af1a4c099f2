"""SQL adapter: `SqlStore`, the ports answered in SQL, each dashboard in one read transaction.

Every figure is one indexed query: one aggregate for an artist's post sums, counts from
indexes, the top N ordered by the core's score with ``LIMIT``, the recent N with ``LIMIT``.
With the maintained aggregates installed, the figures that grow with the artist are key
lookups in ``artist_stats`` instead.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from attrs import field, frozen
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Row,
    Table,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.functions import FunctionElement

from .._core import rules
from .._core.build import Repos
from .._core.records import (
    CurrencyTotal,
    DashboardAsk,
    DashboardReads,
    DayFigures,
    Follow,
    Post,
    PostTotals,
    Standing,
    User,
)
from .._core.values import log
from ._analytics import AnalyticsQueries, AnalyticsReader
from ._catalog import (
    TRIGGER_PREFIX,
    begin_sqlite,
    existing,
    index_ddl,
    installed,
    library_triggers,
    missing_indexes,
    naive_times,
)
from ._mapping import schema_problems
from ._queries import HALF, Queries, maintained_window, post_of, user_of
from ._schema import (
    STATS_FIGURES,
    DashboardTables,
    MappingError,
    audience_table,
    clamped,
    clamped_fast,
    follow_days_table,
    standings_tables,
    stats_table,
    tables,
)
from ._whole import WholeRead

__all__ = ["SqlStore"]


@frozen
class _Reader:
    """The ports, answered on one connection inside one transaction."""

    conn: Connection
    queries: Queries
    _maintained: dict[str, dict[str, int]] = field(factory=dict)

    def _scalar(self, statement: Any, **params: Any) -> int:
        return int(self.conn.execute(statement, params).scalar_one())

    def _stats(self, user_id: str) -> dict[str, int] | None:
        """The user's maintained figures (one lookup per build), or None in live mode."""
        if self.queries.stats is None:
            return None
        if user_id not in self._maintained:
            row = self.conn.execute(self.queries.stats, {"user": user_id}).first()
            figures = {} if row is None else dict(row._mapping)
            self._maintained[user_id] = {k: int(figures.get(k) or 0) for k in STATS_FIGURES}
        return self._maintained[user_id]

    # UserRepo

    def get_user(self, user_id: str) -> User | None:
        row = self.conn.execute(self.queries.user, {"user": user_id}).first()
        return None if row is None else user_of(row._mapping)

    def get_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        if not user_ids:
            return {}
        rows = self.conn.execute(self.queries.users, {"ids": list(user_ids)})
        return {str(row.id): user_of(row._mapping) for row in rows}

    # PostRepo

    def post_totals(self, author_id: str) -> PostTotals:
        maintained = self._stats(author_id)
        if maintained is not None:
            return PostTotals(**{k: maintained[k] for k in ("posts", *rules.POST_COUNTERS)})
        try:
            row = self._totals(author_id, clamped_fast)
            if any(isinstance(value, float) for value in row.values()):
                # Only SQLite gets here: text or a fraction in a counter column. Recompute.
                row = self._totals(author_id, clamped)
        except OperationalError as exc:
            if "integer overflow" not in str(exc.orig):
                raise
            row = self._split_totals(author_id)
        return PostTotals(**{k: int(v) for k, v in row.items()})

    def _totals(self, author_id: str, clamp: type[FunctionElement[int]]) -> dict[str, Any]:
        statement = self.queries.totals[clamp]
        return dict(self.conn.execute(statement, {"user": author_id}).one()._mapping)

    def _split_totals(self, author_id: str) -> dict[str, Any]:
        """The sums past 2^63 on SQLite, put together exactly from their two halves."""
        halves = self.conn.execute(self.queries.split_totals, {"user": author_id}).one()._mapping
        row: dict[str, Any] = {"posts": halves["posts"]}
        for k in rules.POST_COUNTERS:
            row[k] = int(halves[f"{k}_high"]) * HALF + int(halves[f"{k}_low"])
        return row

    def count_collaborations(self, user_id: str) -> int:
        maintained = self._stats(user_id)
        if maintained is not None:
            return maintained["collaborations"]
        return self._scalar(self.queries.collaborations, user=user_id)

    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        params = {"user": author_id, "limit": limit}
        return self._posts(self.conn.execute(self.queries.top_posts, params).all())

    def recent_posts(
        self, author_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Post]:
        params = {"user": author_id, "after": after, "until": until, "limit": limit}
        return self._posts(self.conn.execute(self.queries.recent_posts, params).all())

    def _posts(self, rows: Sequence[Row[Any]]) -> list[Post]:
        # Without their collaborators: no figure of a dashboard reads them (see `PostRepo`).
        return [post_of(row._mapping) for row in rows]

    # FollowRepo

    def count_followers(self, user_id: str) -> int:
        maintained = self._stats(user_id)
        if maintained is not None:
            return maintained["followers"]
        return self._scalar(self.queries.followers, user=user_id)

    def count_following(self, user_id: str) -> int:
        maintained = self._stats(user_id)
        if maintained is not None:
            return maintained["following"]
        return self._scalar(self.queries.following, user=user_id)

    def count_new_followers(self, user_id: str, after: datetime, until: datetime) -> int:
        count = self.queries.new_followers
        if self.queries.whole_days is None:
            return self._scalar(count, user=user_id, after=after, until=until)
        # Whole UTC days inside the window come from the maintained day counts; only the
        # window's first and last (partial) days are counted from the follows themselves.
        head, (first_day, last_day), tail = maintained_window(after, until)
        found = self._scalar(count, user=user_id, after=head[0], until=head[1])
        if tail[0] < tail[1]:
            found += self._scalar(count, user=user_id, after=tail[0], until=tail[1])
            found += self._scalar(
                self.queries.whole_days, user=user_id, first_day=first_day, last_day=last_day
            )
        return found

    def recent_followers(
        self, user_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Follow]:
        params = {"user": user_id, "after": after, "until": until, "limit": limit}
        return [
            Follow(follower_id=str(a), followee_id=str(b), created_at=t)
            for a, b, t in self.conn.execute(self.queries.recent_followers, params)
        ]


class SqlStore:
    """The ports over SQL tables, reading through the caller's `Engine`.

    Use `repos` with `build_dashboard`: every read of one dashboard then happens in one
    transaction — REPEATABLE READ and READ ONLY on PostgreSQL, a deferred read transaction on
    SQLite. Each port method called directly on the store runs in a transaction of its own.
    `statement_timeout` (seconds) bounds each query on PostgreSQL.

    With the maintained aggregates installed (`maintain`), post totals, follower, following and
    collaboration counts are read from ``artist_stats`` instead of aggregated; `maintained`
    forces either mode, and by default the store looks once, when it is created.
    """

    def __init__(
        self,
        engine: Engine,
        tables: DashboardTables = tables,
        *,
        statement_timeout: float | None = None,
        maintained: bool | None = None,
    ) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._file = _sqlite_file(engine)
        self._identity = _identity(self._file)
        metadata = MetaData()
        snapshot = standings_tables(metadata)
        with engine.connect() as conn:
            if maintained is None:
                maintained = installed(conn)
            sources = existing(conn, (*tables.events, tables.daily, tables.earnings))
            problems = schema_problems(conn, tables, (*tables.core, *sources))
            if problems:
                raise MappingError(
                    "the database does not match the tables the store was given: "
                    + "; ".join(problems)
                )
            if not tables.plain and (sources or maintained):
                raise MappingError(
                    "the analytics sources and the maintained aggregates need plain tables: "
                    "text ids, no derived keys or filters (docs/sql.md)"
                )
            _warn_missing_indexes(conn, tables)
            snapshot_there = len(existing(conn, snapshot)) == len(snapshot)
            audience = _kept_audience(conn, tables, sources) if maintained else None
            # Any time column of an existing schema kept as naive ``timestamp`` (UTC).
            naive = self._postgres and any(
                naive_times(conn, t, "created_at")
                for t in (tables.posts, tables.follows, *sources)
                if "created_at" in t.c
            )
        kept = (stats_table(metadata), follow_days_table(metadata)) if maintained else None
        self.maintained = maintained
        #: The analytics sources the database has (SPEC §6.3: a source is configured when its
        #: table exists), looked at once, when the store is created.
        self.sources = frozenset(t.name for t in sources)
        self._queries = Queries(tables, self._postgres, kept)
        present = {_name_of(tables, t) for t in sources}
        self._analytics = AnalyticsQueries(
            tables, present, snapshot if snapshot_there else None, audience
        )
        #: Whether non-followers are counted from the maintained audience (`maintain` with
        #: view or play events), rather than from the events.
        self.audience_maintained = audience is not None
        events = present & {"post_view_events", "post_play_events", "post_engagement_events"}
        #: Which optional ports the store answers: day figures, the audience, revenue.
        self._configured = (
            bool(events) or "daily_artist_analytics" in present,
            bool(events & {"post_view_events", "post_play_events"}),
            "earnings" in present,
        )
        self._timeout_ms = None if statement_timeout is None else int(statement_timeout * 1000)
        #: One statement for a whole dashboard, where the database can run it.
        self._whole = (
            WholeRead(
                engine,
                tables,
                self._queries,
                self._analytics,
                self._configured,
                statement_timeout_ms=self._timeout_ms,
                naive_times=naive,
            )
            if engine.dialect.name in ("sqlite", "postgresql") and tables.plain
            else None
        )

    @property
    def repos(self) -> Repos:
        """The ports for `build_dashboard`: each dashboard reads in one snapshot, which also
        answers the analytics sources the database has."""
        days, audience, revenue = self._configured
        return Repos(
            users=self,
            posts=self,
            follows=self,
            open_snapshot=self.snapshot,
            check=self.check,
            days=self if days else None,
            audience=self if audience else None,
            revenue=self if revenue else None,
            whole=self if self._whole is not None else None,
        )

    def read_dashboard(self, ask: DashboardAsk) -> DashboardReads | None:
        """Every read of one dashboard in one statement (see `WholeDashboardRepo`); None
        where it declines and the ports must be asked."""
        if self._whole is None:
            return None
        self._watch_file()
        return self._whole.read(ask)

    def check(self) -> None:
        """Raise unless the store can answer now: the database is reachable, its tables are
        there, and (SQLite) its file is where it was."""
        with self.snapshot() as repos:
            repos.users.get_user("artist-dashboard-readiness-probe")

    def _watch_file(self) -> None:
        """A SQLite file deleted or replaced under a running service: pooled connections would
        go on reading the old one. Let them go, so the next connection opens what is there now,
        and fail while nothing is."""
        if self._file is None:
            return
        identity = _identity(self._file)
        if identity != self._identity:
            self._engine.dispose()
            self._identity = identity
        if identity is None:
            raise FileNotFoundError(f"the database file {self._file} is gone")

    @contextmanager
    def snapshot(self) -> Iterator[Repos]:
        """Repos bound to one read transaction, which writes nothing."""
        self._watch_file()
        with self._engine.connect() as conn:
            if self._postgres:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin() as transaction:
                if self._postgres:
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                    if self._timeout_ms is not None:
                        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {self._timeout_ms}")
                else:
                    begin_sqlite(conn)
                yield self._ports(conn)
                if self._postgres:
                    # READ ONLY: a COMMIT ends it as a ROLLBACK would, but keeps the driver's
                    # prepared statements (the whole read's), which a ROLLBACK drops.
                    transaction.commit()
                else:
                    transaction.rollback()

    def _ports(self, conn: Connection) -> Repos:
        """The ports, and each configured analytics source, bound to one connection."""
        reader = AnalyticsReader(conn, self._analytics)
        days, audience, revenue = self._configured
        return Repos.of(
            _Reader(conn, self._queries),
            days=reader if days else None,
            audience=reader if audience else None,
            revenue=reader if revenue else None,
        )

    # The ports, each in a transaction of its own.

    def get_user(self, user_id: str) -> User | None:
        with self.snapshot() as r:
            return r.users.get_user(user_id)

    def get_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        with self.snapshot() as r:
            return r.users.get_users(user_ids)

    def post_totals(self, author_id: str) -> PostTotals:
        with self.snapshot() as r:
            return r.posts.post_totals(author_id)

    def count_collaborations(self, user_id: str) -> int:
        with self.snapshot() as r:
            return r.posts.count_collaborations(user_id)

    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        with self.snapshot() as r:
            return r.posts.top_posts(author_id, limit)

    def recent_posts(
        self, author_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Post]:
        with self.snapshot() as r:
            return r.posts.recent_posts(author_id, after, until, limit)

    def count_followers(self, user_id: str) -> int:
        with self.snapshot() as r:
            return r.follows.count_followers(user_id)

    def count_following(self, user_id: str) -> int:
        with self.snapshot() as r:
            return r.follows.count_following(user_id)

    def count_new_followers(self, user_id: str, after: datetime, until: datetime) -> int:
        with self.snapshot() as r:
            return r.follows.count_new_followers(user_id, after, until)

    def recent_followers(
        self, user_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Follow]:
        with self.snapshot() as r:
            return r.follows.recent_followers(user_id, after, until, limit)

    def _analytics_reader(self) -> AbstractContextManager[AnalyticsReader]:
        return _reader_of(self.snapshot())

    def daily_rows(self, artist_id: str, first: date, last: date) -> Sequence[DayFigures]:
        with self._analytics_reader() as r:
            return r.daily_rows(artist_id, first, last)

    def event_days(
        self, artist_id: str, first: date, last: date, until: datetime
    ) -> Sequence[DayFigures]:
        with self._analytics_reader() as r:
            return r.event_days(artist_id, first, last, until)

    def standing(self, artist_id: str, first: date, last: date) -> Standing:
        with self._analytics_reader() as r:
            return r.standing(artist_id, first, last)

    def count_non_followers(self, artist_id: str, after: datetime, until: datetime) -> int:
        with self._analytics_reader() as r:
            return r.count_non_followers(artist_id, after, until)

    def revenue(self, artist_id: str, after: datetime, until: datetime) -> Sequence[CurrencyTotal]:
        with self._analytics_reader() as r:
            return r.revenue(artist_id, after, until)


def _sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database (None for memory databases and other databases)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if database.startswith("file:"):  # a URI filename: file:path?mode=ro
        database = database[len("file:") :].split("?", 1)[0]
    if not database or database == ":memory:" or "mode=memory" in str(engine.url):
        return None
    return Path(database).resolve()


def _identity(file: Path | None) -> tuple[int, int] | None:
    if file is None:
        return None
    try:
        status = file.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _warn_missing_indexes(conn: Connection, target: DashboardTables) -> None:
    """Say which indexes the dashboard's queries lack (each makes a query scan its table), with
    the DDL to create them; `load` and `artist-dashboard check` restore them."""
    missing = missing_indexes(conn, target)
    if missing:
        log.warning(
            "%d index(es) the dashboard's queries need are missing; create them: %s",
            len(missing),
            "; ".join(index_ddl(conn, index) for index in missing),
        )


def _kept_audience(
    conn: Connection, target: DashboardTables, sources: Sequence[Table]
) -> Table | None:
    """The maintained audience, when its triggers cover every view and play table there is."""
    kinds = {"view": target.view_events, "play": target.play_events}
    viewed = {kind: t for kind, t in kinds.items() if any(t is s for s in sources)}
    if not viewed:
        return None
    kept = audience_table(MetaData())
    triggers = {name for name, _ in library_triggers(conn)}
    uncovered = [
        t.name for kind, t in viewed.items() if f"{TRIGGER_PREFIX}_{kind}_insert" not in triggers
    ]
    if uncovered or not existing(conn, [kept]):
        log.warning(
            "the maintained aggregates do not cover %s yet, so non-followers are counted from"
            " the events; run `artist-dashboard aggregates install` again to cover them",
            ", ".join(uncovered or [t.name for t in viewed.values()]),
        )
        return None
    return kept


def _name_of(target: DashboardTables, table: Table) -> str:
    """The collection a source table holds (its default name), whatever it is called."""
    for name in (
        "post_view_events",
        "post_play_events",
        "post_engagement_events",
        "daily_artist_analytics",
        "earnings",
    ):
        if target.source(name) is table:
            return name
    raise ValueError(f"{table.name} is not an analytics source")


@contextmanager
def _reader_of(snapshot: AbstractContextManager[Repos]) -> Iterator[AnalyticsReader]:
    """The analytics reader of a snapshot (every store method runs in one of its own)."""
    with snapshot as repos:
        for source in (repos.days, repos.audience, repos.revenue):
            if isinstance(source, AnalyticsReader):
                yield source
                return
        raise LookupError("this database has no analytics source")
