"""SQL adapter, bottom: column types, the core's rules as SQL expressions, and the tables.

Everything above it — the store, the loader, the maintained aggregates — addresses columns by
the library's keys (``posts.c.author_id``) whatever they are called in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    select,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CompoundSelect

from .._core import rules
from .._core.values import as_utc


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


#: Ids compare as strings by code point: SQLite's BINARY does; PostgreSQL needs the "C" collation.
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
        f"ix_{posts.name}_author_rank",
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


class wide(FunctionElement[Any]):
    """An integer in arithmetic that cannot overflow: NUMERIC on PostgreSQL, where BIGINT
    arithmetic raises "bigint out of range" (SQLite turns an overflowing sum into a REAL)."""

    type = Numeric()
    inherit_cache = True
    name = "wide"


@compiles(wide)
def _wide_default(element: wide, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(wide, "postgresql")
def _wide_postgres(element: wide, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS NUMERIC)"


def score_expression(posts: Table) -> ColumnElement[Any]:
    """``rules.engagement_score`` in SQL: the sum of the clamped `rules.SCORE_COUNTERS`.

    Summed in NUMERIC on PostgreSQL, so four counters near 2^63 never make a write to
    ``posts`` fail through the index built on this expression.
    """
    total: ColumnElement[Any] = wide(clamped(posts.c[rules.SCORE_COUNTERS[0]]))
    for name in rules.SCORE_COUNTERS[1:]:
        total = total + wide(clamped(posts.c[name]))
    return total


def credit_pairs(
    target: DashboardTables,
    which_posts: Callable[[ColumnElement[Any]], ColumnElement[bool]] | None = None,
) -> CompoundSelect[Any]:
    """``rules.is_collaboration`` in SQL: every (post_id, user_id) whose post counts in the
    user's ``collaborationsCount`` — each other collaborator of a live post, and its author
    when it has one — for the posts where `post_ids` (an IN-able expression) holds, or all.

    The maintained aggregates keep these pairs (`artist_post_credits`) and recompute them for
    the posts a write touched; `reconcile` recounts them all.
    """
    posts, collaborators = target.posts, target.post_collaborators
    p, c = posts.c, collaborators.c
    shared = collaborators.join(posts, p.id == c.post_id)
    counts = and_(live_post(p.is_deleted, p.created_at), c.user_id != p.author_id)
    if which_posts is not None:
        counts = and_(counts, which_posts(p.id))
    guests = select(c.post_id.label("post_id"), c.user_id.label("user_id"))
    hosts = select(p.id.label("post_id"), p.author_id.label("user_id"))
    return union(guests.select_from(shared).where(counts), hosts.select_from(shared).where(counts))


#: The figures `artist_stats` keeps per user (see `artist_dashboard.sql.maintain`).
STATS_FIGURES = ("posts", *rules.POST_COUNTERS, "followers", "following", "collaborations")
#: A sum of counters, which can pass 2^63: NUMERIC on PostgreSQL (exact, never overflows).
_SUM = BigInteger().with_variant(Numeric(), "postgresql")


def stats_table(metadata: MetaData, name: str = "artist_stats") -> Table:
    """Maintained figures per user (`STATS_FIGURES`), kept by the triggers of `maintain`."""
    return Table(
        name,
        metadata,
        Column("user_id", _ID, primary_key=True),
        *(
            Column(
                figure,
                _SUM if figure in rules.POST_COUNTERS else BigInteger,
                nullable=False,
                server_default="0",
            )
            for figure in STATS_FIGURES
        ),
    )


def follow_days_table(metadata: MetaData, name: str = "artist_follow_days") -> Table:
    """New follows per followee and UTC day: what makes window counts cheap for big artists."""
    return Table(
        name,
        metadata,
        Column("user_id", _ID, primary_key=True),
        Column("day", String(10), primary_key=True),
        Column("follows", BigInteger, nullable=False, server_default="0"),
    )


def post_credits_table(metadata: MetaData, name: str = "artist_post_credits") -> Table:
    """The `credit_pairs` the maintained ``collaborations`` figures were counted from."""
    return Table(
        name,
        metadata,
        Column("post_id", _ID, primary_key=True),
        Column("user_id", _ID, primary_key=True),
    )


#: The default tables, for a team's migrations (``target_metadata = metadata``).
tables = dashboard_tables()
metadata = tables.metadata
