"""SQL storage with SQLAlchemy Core: the tables, and a store that answers the ports in SQL.

- `dashboard_tables()` describes users, posts, post collaborators and follows as SQLAlchemy
  `Table`s; `metadata` holds the default ones, ready for a team's own migrations (Alembic's
  ``target_metadata``). Pass `TableMap`s to point at an existing schema with other names.
- `SqlStore(engine)` implements `UserRepo`, `PostRepo` and `FollowRepo`. Every figure is one
  indexed query: one aggregate for an artist's post sums, counts from indexes, the top N ordered
  by the core's score with ``LIMIT``, the recent N with ``LIMIT``. Each dashboard reads in one
  transaction (REPEATABLE READ on PostgreSQL), so its figures come from one snapshot.
- `load_dataset_into(engine, folder)` creates missing tables and upserts a dataset in batches.

Needs the ``sql`` extra (SQLAlchemy 2); PostgreSQL also needs ``postgres`` (psycopg 3). The
connections come from the caller's `Engine`; the library keeps no global state.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from attrs import field, frozen
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Row,
    Select,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    bindparam,
    collate,
    exists,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from . import rules
from ._build import Repos
from ._records import Follow, Post, PostTotals, User
from .rules import as_utc

__all__ = [
    "DashboardTables",
    "SqlStore",
    "TableMap",
    "UtcDateTime",
    "dashboard_tables",
    "metadata",
    "tables",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC datetime in Python.

    Stored as ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL and as naive UTC text on SQLite. A
    naive value read back (an existing ``timestamp without time zone`` column, SQLite) is UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class clamped(FunctionElement[int]):
    """``rules.clamp_counter`` in SQL: the counter when it is a positive number, else 0."""

    type = BigInteger()
    inherit_cache = True
    name = "clamped"


@compiles(clamped)
def _clamped_default(element: clamped, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"(CASE WHEN {value} > 0 THEN {value} ELSE 0 END)"


@compiles(clamped, "sqlite")
def _clamped_sqlite(element: clamped, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps whatever was stored: text in an integer column counts 0, a real truncates.
    value = compiler.process(element.clauses, **kw)
    return (
        f"(CASE WHEN typeof({value}) IN ('integer', 'real') AND {value} > 0 "
        f"THEN CAST({value} AS INTEGER) ELSE 0 END)"
    )


class clamped_fast(FunctionElement[int]):
    """The clamp as ``CASE WHEN c > 0 THEN c ELSE 0 END`` on every database.

    Exact for integers, and about twice as fast on SQLite as `clamped`. SQLite alone can hold
    text or a fractional number in an integer column; summing one makes the SUM a REAL, which
    `SqlStore` takes as the sign to recompute with `clamped`.
    """

    type = BigInteger()
    inherit_cache = True
    name = "clamped_fast"


compiles(clamped_fast)(_clamped_default)


# Ids compare as strings by code point: SQLite's BINARY does; PostgreSQL needs the "C" collation.
_ID = String().with_variant(String(collation="C"), "postgresql")


@frozen
class TableMap:
    """Where one of the library's tables lives: its name, and column names that differ.

    `columns` maps the library's column names (``author_id``, ``play_count``…) to yours. The
    one optional column, ``post_collaborators.author_id``, maps to None when your table has no
    such column.
    """

    name: str
    columns: Mapping[str, str | None] = field(factory=dict)
    schema: str | None = None


@frozen
class DashboardTables:
    """The four tables the store reads, addressed by the library's column names."""

    metadata: MetaData
    users: Table
    posts: Table
    post_collaborators: Table
    follows: Table


def dashboard_tables(
    metadata: MetaData | None = None,
    *,
    users: TableMap = TableMap("users"),
    posts: TableMap = TableMap("posts"),
    post_collaborators: TableMap = TableMap("post_collaborators"),
    follows: TableMap = TableMap("follows"),
) -> DashboardTables:
    """Describe the tables, under their default names or the ones an existing schema uses.

    The `Table`s always expose the library's column names as keys (``posts.c.author_id``);
    the names in the database are the mapped ones. Indexes for the dashboard's queries are
    declared too; ``metadata.create_all`` (or your migrations) creates them.
    """
    metadata = metadata if metadata is not None else MetaData()

    def col(where: TableMap, key: str, *args: Any, **kwargs: Any) -> Column[Any]:
        return Column(where.columns.get(key) or key, *args, key=key, **kwargs)

    def text(where: TableMap, key: str) -> Column[Any]:
        return col(where, key, Text, server_default="")

    def counter(key: str) -> Column[Any]:
        return col(posts, key, BigInteger, server_default="0")

    user_table = Table(
        users.name,
        metadata,
        col(users, "id", _ID, primary_key=True),
        *(text(users, k) for k in ("name", "stage_name", "bio", "avatar", "cover_image")),
        col(users, "is_verified", Boolean, server_default="0"),
        schema=users.schema,
    )
    post_table = Table(
        posts.name,
        metadata,
        col(posts, "id", _ID, primary_key=True),
        col(posts, "author_id", _ID, nullable=False),
        *(text(posts, k) for k in ("post_type", "content", "thumbnail_url", "display_url")),
        *(counter(k) for k in rules.POST_COUNTERS),
        col(posts, "created_at", UtcDateTime, nullable=False),
        col(posts, "is_deleted", Boolean, server_default="0"),
        schema=posts.schema,
    )
    # The post's author, repeated beside each collaborator, lets count_collaborations read
    # only the artist's own collaborator rows instead of probing every post of the artist.
    knows_author = post_collaborators.columns.get("author_id", "author_id") is not None
    collaborator_table = Table(
        post_collaborators.name,
        metadata,
        col(post_collaborators, "post_id", _ID, nullable=False),
        col(post_collaborators, "user_id", _ID, nullable=False),
        *([col(post_collaborators, "author_id", _ID, nullable=False)] if knows_author else []),
        PrimaryKeyConstraint("post_id", "user_id"),
        schema=post_collaborators.schema,
    )
    follow_table = Table(
        follows.name,
        metadata,
        col(follows, "follower_id", _ID, nullable=False),
        col(follows, "followee_id", _ID, nullable=False),
        col(follows, "created_at", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("follower_id", "followee_id"),
        schema=follows.schema,
    )
    p, c, f = post_table.c, collaborator_table.c, follow_table.c
    # post_totals: the whole aggregate is answered from this index, without the table.
    Index(
        f"ix_{posts.name}_author_totals",
        p.author_id,
        p.is_deleted,
        p.created_at,
        *(p[k] for k in rules.POST_COUNTERS),
    )
    # top_posts: the author's posts already in ranking order.
    Index(
        f"ix_{posts.name}_author_score",
        p.author_id,
        score_expression(post_table),
        p.created_at,
        p.id,
    )
    # count_collaborations: probing a shared post by id reads its author and liveness from
    # the index alone (PostgreSQL: index-only; the heap fetch was most of the probe's cost).
    Index(f"ix_{posts.name}_id_live", p.id, p.author_id, p.is_deleted, p.created_at)
    # recent_posts: the author's posts by time.
    Index(f"ix_{posts.name}_author_created", p.author_id, p.created_at, p.id)
    # count_collaborations: the posts that list a user, and the collaborators of an author.
    Index(f"ix_{post_collaborators.name}_user", c.user_id, c.post_id)
    if knows_author:
        Index(f"ix_{post_collaborators.name}_author", c.author_id, c.post_id, c.user_id)
    # followers, new followers, recent followers: a range of one followee's follows by time.
    Index(f"ix_{follows.name}_followee_created", f.followee_id, f.created_at, f.follower_id)
    return DashboardTables(metadata, user_table, post_table, collaborator_table, follow_table)


def live_post(
    is_deleted: ColumnElement[Any], created_at: ColumnElement[Any]
) -> ColumnElement[bool]:
    """A post that counts: not deleted or hidden (NULL means live) and placed in time."""
    return and_(is_deleted.is_not(True), created_at.is_not(None))


def score_expression(posts: Table) -> ColumnElement[int]:
    """``rules.engagement_score`` in SQL: the sum of the clamped `rules.SCORE_COUNTERS`."""
    total: ColumnElement[int] = clamped(posts.c[rules.SCORE_COUNTERS[0]])
    for name in rules.SCORE_COUNTERS[1:]:
        total = total + clamped(posts.c[name])
    return total


_STATS_FIGURES = ("posts", *rules.POST_COUNTERS, "followers", "following", "collaborations")

#: The default tables, for a team's migrations (``target_metadata = metadata``).
tables = dashboard_tables()
metadata = tables.metadata


# --- the store -----------------------------------------------------------------------------


class _Queries:
    """Every statement of the store, built once per store with bound parameters.

    Building a SQLAlchemy statement costs far more than running a small indexed query, so the
    request path only executes these.
    """

    def __init__(
        self, tables: DashboardTables, postgres: bool, maintained: tuple[Table, Table] | None
    ) -> None:
        #: Maintained figures by user, and new follows by whole UTC days between two days, when
        #: the aggregates are installed (see `maintain`).
        self.stats: Select[Any] | None = None
        self.whole_days: Select[Any] | None = None
        if maintained is not None:
            stats, days = maintained
            self.stats = select(stats).where(stats.c.user_id == bindparam("user"))
            self.whole_days = select(func.coalesce(func.sum(days.c.follows), 0)).where(
                days.c.user_id == bindparam("user"),
                days.c.day > bindparam("first_day"),
                days.c.day < bindparam("last_day"),
            )
        users, posts, collaborators, follows = (
            tables.users,
            tables.posts,
            tables.post_collaborators,
            tables.follows,
        )
        u, p, c, f = users.c, posts.c, collaborators.c, follows.c

        def id_order(column: ColumnElement[str]) -> ColumnElement[str]:
            return collate(column, "C") if postgres else column

        live = live_post(p.is_deleted, p.created_at)
        user: BindParameter[str] = bindparam("user", type_=_ID)
        limit: BindParameter[int] = bindparam("limit", type_=BigInteger)
        after, until = bindparam("after", type_=UtcDateTime), bindparam("until", type_=UtcDateTime)

        self.user = select(users).where(u.id == user)
        self.users = select(users).where(u.id.in_(bindparam("ids", expanding=True)))
        self.totals: dict[type[FunctionElement[int]], Select[*tuple[Any, ...]]] = {
            clamp: select(
                func.count().label("posts"),
                *(func.coalesce(func.sum(clamp(p[k])), 0).label(k) for k in rules.POST_COUNTERS),
            ).where(p.author_id == user, live)
            for clamp in (clamped_fast, clamped)
        }
        # Two disjoint halves, each driven by an index: posts the user wrote with someone else,
        # and posts of others that list the user.
        if "author_id" in c:
            # From the author's own collaborator rows to their posts: work in proportion to the
            # artist's collaborations, not to all of the artist's posts.
            shared = (
                select(c.post_id)
                .where(c.author_id == user, c.user_id != user)
                .distinct()
                .subquery("shared")
            )
            alive = select(literal(1)).where(p.id == shared.c.post_id, p.author_id == user, live)
            if postgres:
                # LATERAL … LIMIT 1 keeps PostgreSQL probing posts by key for each shared post;
                # left to itself it hash-joins against a scan of every post.
                probe = alive.limit(1).lateral("alive")
                source = shared.join(probe, true())
                authored = select(func.count()).select_from(source).scalar_subquery()
            else:
                authored = (
                    select(func.count())
                    .select_from(shared)
                    .where(exists(alive.select_from(posts)))
                    .scalar_subquery()
                )
        else:
            authored = (
                select(func.count())
                .select_from(posts)
                .where(p.author_id == user, live)
                .where(exists().where(c.post_id == p.id, c.user_id != user))
                .scalar_subquery()
            )
        listed = (
            select(func.count())
            .select_from(collaborators.join(posts, p.id == c.post_id))
            .where(c.user_id == user, p.author_id != user, live)
            .scalar_subquery()
        )
        self.collaborations = select(authored + listed)
        self.top_posts = (
            select(posts)
            .where(p.author_id == user, live)
            .order_by(score_expression(posts).desc(), p.created_at.desc(), id_order(p.id).desc())
            .limit(limit)
        )
        self.recent_posts = (
            select(posts)
            .where(p.author_id == user, live, p.created_at > after, p.created_at <= until)
            .order_by(p.created_at.desc(), id_order(p.id).desc())
            .limit(limit)
        )
        self.collaborators_of = select(c.post_id, c.user_id).where(
            c.post_id.in_(bindparam("ids", expanding=True))
        )
        # A follow without a time is still a follow; it only falls in no window.
        count = select(func.count()).select_from(follows)
        self.followers = count.where(f.followee_id == user)
        self.following = count.where(f.follower_id == user)
        self.new_followers = count.where(
            f.followee_id == user, f.created_at > after, f.created_at <= until
        )
        self.recent_followers = (
            select(f.follower_id, f.followee_id, f.created_at)
            .where(f.followee_id == user, f.created_at > after, f.created_at <= until)
            .order_by(f.created_at.desc(), id_order(f.follower_id).desc())
            .limit(limit)
        )


@frozen
class _Reader:
    """The ports, answered on one connection inside one transaction."""

    conn: Connection
    queries: _Queries
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
            self._maintained[user_id] = {k: int(figures.get(k) or 0) for k in _STATS_FIGURES}
        return self._maintained[user_id]

    # UserRepo

    def get_user(self, user_id: str) -> User | None:
        row = self.conn.execute(self.queries.user, {"user": user_id}).first()
        return None if row is None else _user(row)

    def get_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        if not user_ids:
            return {}
        rows = self.conn.execute(self.queries.users, {"ids": list(user_ids)})
        return {str(row.id): _user(row) for row in rows}

    # PostRepo

    def post_totals(self, author_id: str) -> PostTotals:
        maintained = self._stats(author_id)
        if maintained is not None:
            return PostTotals(**{k: maintained[k] for k in ("posts", *rules.POST_COUNTERS)})
        row = self._totals(author_id, clamped_fast)
        if any(isinstance(value, float) for value in row.values()):
            # Only SQLite gets here: text or a fraction in a counter column. Recompute exactly.
            row = self._totals(author_id, clamped)
        return PostTotals(**{k: int(v) for k, v in row.items()})

    def _totals(self, author_id: str, clamp: type[FunctionElement[int]]) -> dict[str, Any]:
        statement = self.queries.totals[clamp]
        return dict(self.conn.execute(statement, {"user": author_id}).one()._mapping)

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
        if not rows:
            return []
        pairs = self.conn.execute(self.queries.collaborators_of, {"ids": [r.id for r in rows]})
        collaborators: dict[str, list[str]] = {}
        for post_id, user_id in pairs:
            collaborators.setdefault(post_id, []).append(str(user_id))
        return [_post(row, collaborators.get(row.id, [])) for row in rows]

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
        if self.queries.whole_days is None or until <= after:
            return self._scalar(self.queries.new_followers, user=user_id, after=after, until=until)
        # Whole UTC days inside the window come from the maintained day counts; only the
        # window's first and last (partial) days are counted from the follows themselves.
        first, last = _utc_midnight(after), _utc_midnight(until)
        if first == last:
            return self._scalar(self.queries.new_followers, user=user_id, after=after, until=until)
        tick = timedelta(microseconds=1)
        head = self._scalar(
            self.queries.new_followers, user=user_id, after=after, until=first + _DAY - tick
        )
        tail = self._scalar(
            self.queries.new_followers, user=user_id, after=last - tick, until=until
        )
        middle = self._scalar(
            self.queries.whole_days,
            user=user_id,
            first_day=first.strftime("%Y-%m-%d"),
            last_day=last.strftime("%Y-%m-%d"),
        )
        return head + middle + tail

    def recent_followers(
        self, user_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Follow]:
        params = {"user": user_id, "after": after, "until": until, "limit": limit}
        return [
            Follow(follower_id=str(a), followee_id=str(b), created_at=t)
            for a, b, t in self.conn.execute(self.queries.recent_followers, params)
        ]


_DAY = timedelta(days=1)


def _utc_midnight(moment: datetime) -> datetime:
    utc = as_utc(moment)
    return utc.replace(hour=0, minute=0, second=0, microsecond=0)


def _user(row: Row[Any]) -> User:
    return User(
        id=str(row.id),
        name=row.name,
        stage_name=row.stage_name,
        bio=row.bio,
        avatar=row.avatar,
        cover_image=row.cover_image,
        is_verified=False if row.is_verified is None else bool(row.is_verified),
    )


def _post(row: Row[Any], collaborator_ids: list[str]) -> Post:
    return Post(
        id=str(row.id),
        author_id=str(row.author_id),
        created_at=row.created_at,
        collaborator_ids=collaborator_ids,
        post_type=row.post_type,
        content=row.content,
        thumbnail_url=row.thumbnail_url,
        display_url=row.display_url,
        view_count=row.view_count,
        play_count=row.play_count,
        likes_count=row.likes_count,
        comments_count=row.comments_count,
        saves_count=row.saves_count,
        shares_count=row.shares_count,
        is_deleted=bool(row.is_deleted),
    )


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
        from . import _aggregates

        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        if maintained is None:
            with engine.connect() as conn:
                maintained = _aggregates.installed(conn)
        metadata = MetaData()
        kept = (
            (_aggregates.stats_table(metadata), _aggregates.follow_days_table(metadata))
            if maintained
            else None
        )
        self.maintained = maintained
        self._queries = _Queries(tables, self._postgres, kept)
        self._timeout_ms = None if statement_timeout is None else int(statement_timeout * 1000)

    @property
    def repos(self) -> Repos:
        return Repos(users=self, posts=self, follows=self, open_snapshot=self.snapshot)

    @contextmanager
    def snapshot(self) -> Iterator[Repos]:
        """Repos bound to one read transaction, rolled back at the end (nothing is written)."""
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
                    _begin_sqlite(conn)
                yield Repos.of(_Reader(conn, self._queries))
                transaction.rollback()

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


def _begin_sqlite(conn: Connection) -> None:
    """Open SQLite's read transaction now: pysqlite only begins one before writing."""
    driver = conn.connection.driver_connection
    if driver is not None and not getattr(driver, "in_transaction", True):
        conn.exec_driver_sql("BEGIN")


from ._sql_load import (  # noqa: E402 - the loader builds on the tables above
    LoadReport,
    load_dataset_into,
    load_records_into,
)

__all__ += ["LoadReport", "load_dataset_into", "load_records_into"]

from ._aggregates import ReconcileReport, maintain, reconcile, stop_maintaining  # noqa: E402

__all__ += ["ReconcileReport", "maintain", "reconcile", "stop_maintaining"]
