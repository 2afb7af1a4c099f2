"""SQL adapter, bottom: column types, the core's rules as SQL expressions, and the tables.

Everything above it — the store, the loader, the maintained aggregates — addresses columns by
the library's keys (``posts.c.author_id``) whatever they are called in the database.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs
from attrs import field, frozen
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
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
    cast,
    collate,
    select,
    type_coerce,
    union,
)
from sqlalchemy.dialects.postgresql import UUID as PostgresUuid
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CompoundSelect, FromClause
from sqlalchemy.types import TypeEngine

from .._core import rules
from .._core.errors import DashboardError
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

_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INTEGER_TEXT = re.compile(r"0|-?[1-9][0-9]{0,18}")


class UuidId(TypeDecorator[str]):
    """An id kept in a native ``uuid`` column (PostgreSQL), a string in Python.

    A parameter is bound as ``uuid``, so the column's own indexes serve the lookup. Only the
    canonical text of a UUID (lowercase, hyphenated) names one: any other string binds NULL,
    which matches nothing, so an id that cannot exist is "no such user", never an error.
    """

    impl = PostgresUuid(as_uuid=False)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value if isinstance(value, str) and _UUID_TEXT.fullmatch(value) else None

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)


class IntegerId(TypeDecorator[str]):
    """An id kept in an integer column, a string (its decimal digits) in Python.

    Only the canonical decimal text of a 64-bit integer (no sign but minus, no leading zero)
    names one; any other string binds NULL, which matches nothing.
    """

    impl = BigInteger()
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> int | None:
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
            number = int(value)
            if -(2**63) <= number < 2**63:
                return number
        return None

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)


#: The column types an id may have, by the name a mapping gives them.
ID_TYPES: dict[str, TypeEngine[Any]] = {"text": _ID, "uuid": UuidId(), "integer": IntegerId()}


def id_order(column: ColumnElement[Any], postgres: bool) -> ColumnElement[Any]:
    """An id column as SPEC §4 orders ids: as strings, by code point. Text needs PostgreSQL's
    "C" collation; a canonical UUID's text orders as its bytes do, so a uuid column orders
    itself; integers order as their decimal text, which only a cast gives (an index still
    serves the ranking before it: ids break ties only)."""
    if isinstance(column.type, IntegerId):
        text = cast(column, Text)
        return collate(text, "C") if postgres else text
    if isinstance(column.type, UuidId):
        return column
    return collate(column, "C") if postgres else column


@frozen
class TableMap:
    """Where one of the library's tables lives: its name, and column names that differ.

    `columns` maps the library's column names (``author_id``, ``play_count``…) to yours. The
    one optional column, ``post_collaborators.author_id``, maps to None when your table has no
    such column. For the core tables, `derived`, `where` and `extra_columns` say what a view
    would otherwise have to: a key computed from your columns (a liveness rule, a value
    translated), or only some rows (the credits of one role).
    """

    name: str
    columns: Mapping[str, str | None] = field(factory=dict)
    schema: str | None = None
    #: Columns of your table that no library key names, for `derived` and `where` to use:
    #: their names and SQLAlchemy types (``{"hidden_until": DateTime(timezone=True)}``).
    extra_columns: Mapping[str, Any] = field(factory=dict)
    #: Library keys your table has no column for, computed from its columns: each key's
    #: function of the `Table` gives a SQL expression (ids cannot be derived).
    derived: Mapping[str, Callable[[Table], ColumnElement[Any]]] = field(factory=dict)
    #: Only the rows this condition (a function of the `Table`) keeps are read.
    where: Callable[[Table], ColumnElement[bool]] | None = None


class MappingError(DashboardError):
    """A mapping that cannot be used: an unknown key, a missing table or column, a column of a
    type the store cannot read. Raised when the tables or the store are made, never later."""


def require_plain_tables(target: DashboardTables, work: str) -> None:
    """`MappingError` unless the tables are plain (text ids, read as they are): `work` does
    not handle native keys, derived keys or filtered rows."""
    if target.id_type != "text":
        raise MappingError(f"{work} needs text ids; these tables' ids are {target.id_type}")
    if target.read_as:
        raise MappingError(
            f"{work} needs tables read as they are; these derive keys or filter rows "
            f"({', '.join(sorted(target.read_as))})"
        )


#: The columns a table may go without (map them to None).
OPTIONAL_KEYS = frozenset({"author_id"})


def _check_keys(role: str, where: TableMap, table: Table) -> None:
    """Every key `where` maps or derives is one of the library table's (or an optional one),
    mapped to a name; no id is derived; no extra column takes a mapped column's name."""
    extra = set(where.extra_columns)
    known = sorted({*table.c.keys(), *where.derived, *(OPTIONAL_KEYS & set(where.columns))} - extra)
    for key in where.derived:
        # The library's own keys of the table (derived keys have no column in `table`); the
        # default tables exist by then, as no mapping derives anything while they are made.
        library = set(getattr(tables, role).c.keys())
        if key not in library:
            close = difflib.get_close_matches(key, sorted(library), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise MappingError(
                f"{role} ({where.name}): derived {key!r} is not a key of the library's {role} "
                f"table{hint}"
            )
        if key == "id" or key.endswith("_id"):
            raise MappingError(f"{role} ({where.name}): {key!r} is an id; ids cannot be derived")
        if key in where.columns:
            raise MappingError(f"{role} ({where.name}): {key!r} is both mapped and derived")
    taken = {c.name for k, c in table.c.items() if k not in extra}
    for clash in sorted(extra & taken):
        raise MappingError(f"{role} ({where.name}): extra column {clash!r} is a mapped column")
    for key, name in where.columns.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise MappingError(
                f"{role} ({where.name}): {key!r} is not a column key of the library's {role} "
                f"table (its keys: {', '.join(known)}){hint}"
            )
        if name is None and key not in OPTIONAL_KEYS:
            raise MappingError(f"{role} ({where.name}): {key!r} cannot be mapped to nothing")
        if name is not None and (not isinstance(name, str) or not name):
            raise MappingError(f"{role} ({where.name}): {key!r} must map to a column name")


@frozen
class DashboardTables:
    """The tables the store reads, addressed by the library's column names: the four core
    ones, and the five analytics sources (each used only where the database has it)."""

    metadata: MetaData
    users: Table
    posts: Table
    post_collaborators: Table
    follows: Table
    view_events: Table
    play_events: Table
    engagement_events: Table
    daily: Table
    earnings: Table
    #: The analytics sources' tables, apart from `metadata`: a source is configured when its
    #: table exists, so a team creates only the ones it has.
    sources_metadata: MetaData
    #: The type of the core tables' id columns: "text" (the library's own), "uuid" or
    #: "integer" (a team's native keys; see `dashboard_tables`).
    id_type: str = "text"
    #: The core tables read through a query rather than as they are: those whose mapping
    #: derives keys, filters rows or names extra columns (see `readable`).
    read_as: Mapping[str, FromClause] = field(factory=dict)

    def readable(self, role: str) -> FromClause:
        """What the store reads for a core table (``"posts"``…): the table itself, or the
        query that derives its keys and keeps its rows, with the library's keys as columns."""
        found: FromClause = self.read_as.get(role, getattr(self, role))
        return found

    @property
    def plain(self) -> bool:
        """True when every table is read as it is, ids are text: what `load`, the rollup,
        the maintained aggregates and the analytics sources need."""
        return self.id_type == "text" and not self.read_as

    @property
    def core(self) -> tuple[Table, Table, Table, Table]:
        """The tables every database has: `load` always creates them."""
        return self.users, self.posts, self.post_collaborators, self.follows

    @property
    def events(self) -> tuple[Table, Table, Table]:
        return self.view_events, self.play_events, self.engagement_events

    def source(self, name: str) -> Table:
        """An analytics source's table by its collection's name (``"post_view_events"``…)."""
        return {
            "post_view_events": self.view_events,
            "post_play_events": self.play_events,
            "post_engagement_events": self.engagement_events,
            "daily_artist_analytics": self.daily,
            "earnings": self.earnings,
        }[name]


def dashboard_tables(
    metadata: MetaData | None = None,
    *,
    users: TableMap = TableMap("users"),
    posts: TableMap = TableMap("posts"),
    post_collaborators: TableMap = TableMap("post_collaborators"),
    follows: TableMap = TableMap("follows"),
    view_events: TableMap = TableMap("post_view_events"),
    play_events: TableMap = TableMap("post_play_events"),
    engagement_events: TableMap = TableMap("post_engagement_events"),
    daily: TableMap = TableMap("daily_artist_analytics"),
    earnings: TableMap = TableMap("earnings"),
    sources_metadata: MetaData | None = None,
    id_type: str = "text",
) -> DashboardTables:
    """Describe the tables, under their default names or the ones an existing schema uses.

    The `Table`s always expose the library's column names as keys (``posts.c.author_id``);
    the names in the database are the mapped ones. Indexes for the dashboard's queries are
    declared too; ``metadata.create_all`` (or your migrations) creates them. The analytics
    sources' tables go to `sources_metadata`, apart: a source is configured when its table
    exists, so create only those you have (``sources_metadata.create_all(engine,
    tables=[t.daily])``).

    `id_type` is the type of the core tables' id columns: ``"text"``, or a team's native
    ``"uuid"`` (PostgreSQL) or ``"integer"`` keys, which the store binds in their own type so
    the team's indexes serve every lookup (the analytics sources, the maintained aggregates and
    `load` need text ids).
    """
    if id_type not in ID_TYPES:
        raise MappingError(f"id_type is one of {', '.join(ID_TYPES)}, not {id_type!r}")
    ident = ID_TYPES[id_type]
    metadata = metadata if metadata is not None else MetaData()
    sources_metadata = sources_metadata if sources_metadata is not None else MetaData()

    def col(where: TableMap, key: str, *args: Any, **kwargs: Any) -> Column[Any]:
        return Column(where.columns.get(key) or key, *args, key=key, **kwargs)

    def core(where: TableMap, *parts: Any) -> Table:
        """One core table: its columns but the derived ones, and its extra columns."""
        kept = [
            part for part in parts if not (isinstance(part, Column) and part.key in where.derived)
        ]
        extras = [Column(name, kind, key=name) for name, kind in where.extra_columns.items()]
        return Table(where.name, metadata, *kept, *extras, schema=where.schema)

    def text(where: TableMap, key: str) -> Column[Any]:
        return col(where, key, Text, server_default="")

    def counter(key: str) -> Column[Any]:
        return col(posts, key, BigInteger, server_default="0")

    user_table = core(
        users,
        col(users, "id", ident, primary_key=True),
        *(text(users, k) for k in ("name", "stage_name", "bio", "avatar", "cover_image")),
        col(users, "is_verified", Boolean, server_default="0"),
    )
    post_table = core(
        posts,
        col(posts, "id", ident, primary_key=True),
        col(posts, "author_id", ident, nullable=False),
        *(text(posts, k) for k in ("post_type", "content", "thumbnail_url", "display_url")),
        *(counter(k) for k in rules.POST_COUNTERS),
        col(posts, "created_at", UtcDateTime, nullable=False),
        col(posts, "is_deleted", Boolean, server_default="0"),
    )
    # The post's author, repeated beside each collaborator, lets count_collaborations read
    # only the artist's own collaborator rows instead of probing every post of the artist.
    knows_author = post_collaborators.columns.get("author_id", "author_id") is not None
    collaborator_table = core(
        post_collaborators,
        col(post_collaborators, "post_id", ident, nullable=False),
        col(post_collaborators, "user_id", ident, nullable=False),
        *([col(post_collaborators, "author_id", ident, nullable=False)] if knows_author else []),
        PrimaryKeyConstraint("post_id", "user_id"),
    )
    follow_table = core(
        follows,
        col(follows, "follower_id", ident, nullable=False),
        col(follows, "followee_id", ident, nullable=False),
        col(follows, "created_at", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("follower_id", "followee_id"),
    )
    p, c, f = post_table.c, collaborator_table.c, follow_table.c
    # Each index over the columns its table has: one over a derived key is not declared.
    # post_totals: the whole aggregate is answered from this index, without the table.
    _declare(
        f"ix_{posts.name}_author_totals",
        lambda: (p.author_id, p.is_deleted, p.created_at, *(p[k] for k in rules.POST_COUNTERS)),
    )
    # top_posts: the author's posts already in ranking order.
    _declare(
        f"ix_{posts.name}_author_rank",
        lambda: (p.author_id, score_expression(post_table), p.created_at, p.id),
    )
    # count_collaborations: probing a shared post by id reads its author and liveness from
    # the index alone (PostgreSQL: index-only; the heap fetch was most of the probe's cost).
    _declare(f"ix_{posts.name}_id_live", lambda: (p.id, p.author_id, p.is_deleted, p.created_at))
    # recent_posts: the author's posts by time.
    _declare(f"ix_{posts.name}_author_created", lambda: (p.author_id, p.created_at, p.id))
    # count_collaborations: the posts that list a user, and the collaborators of an author.
    Index(f"ix_{post_collaborators.name}_user", c.user_id, c.post_id)
    if knows_author:
        Index(f"ix_{post_collaborators.name}_author", c.author_id, c.post_id, c.user_id)
    # followers, new followers, recent followers: a range of one followee's follows by time.
    _declare(
        f"ix_{follows.name}_followee_created",
        lambda: (f.followee_id, f.created_at, f.follower_id),
    )
    sources = _source_tables(sources_metadata, col, view_events, play_events, engagement_events)
    made = DashboardTables(
        metadata,
        user_table,
        post_table,
        collaborator_table,
        follow_table,
        *sources,
        _daily_table(sources_metadata, col, daily),
        _earnings_table(sources_metadata, col, earnings),
        sources_metadata,
        id_type,
    )
    maps = [users, posts, post_collaborators, follows, view_events, play_events]
    maps += [engagement_events, daily, earnings]
    read_as: dict[str, FromClause] = {}
    for role, where in zip(TABLE_ROLES, maps, strict=True):
        table = getattr(made, role)
        _check_keys(role, where, table)
        if where.derived or where.where is not None or where.extra_columns:
            if role not in TABLE_ROLES[:4]:
                raise MappingError(
                    f"{role} ({where.name}): derived keys, filters and extra columns are for "
                    "the core tables (users, posts, post_collaborators, follows)"
                )
            read_as[role] = _read_as(role, where, table)
    return attrs.evolve(made, read_as=read_as) if read_as else made


def _declare(name: str, parts: Callable[[], tuple[Any, ...]]) -> None:
    """Declare an index, unless one of its columns is a derived key (no column to index)."""
    with contextlib.suppress(KeyError, AttributeError):
        Index(name, *parts())


def _read_as(role: str, where: TableMap, table: Table) -> FromClause:
    """The query the store reads for a table with derived keys, a filter or extra columns:
    the library's keys as its columns, only the rows `where.where` keeps."""
    keys = [column.key for column in table.c if column.key not in where.extra_columns]
    parts: list[ColumnElement[Any]] = [table.c[k].label(k) for k in keys]
    for key, make in where.derived.items():
        try:
            expression = make(table)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise MappingError(
                f"{role} ({where.name}): derived {key!r} cannot be made: {exc!r}"
            ) from None
        # Typed as the library's own column, so its values read back the same way.
        parts.append(type_coerce(expression, getattr(tables, role).c[key].type).label(key))
    query = select(*parts)
    if where.where is not None:
        try:
            query = query.where(where.where(table))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise MappingError(
                f"{role} ({where.name}): the filter cannot be made: {exc!r}"
            ) from None
    return query.subquery(f"{where.name}_read")


#: `dashboard_tables`' arguments, which are `DashboardTables`' fields: each library table.
TABLE_ROLES = (
    "users",
    "posts",
    "post_collaborators",
    "follows",
    "view_events",
    "play_events",
    "engagement_events",
    "daily",
    "earnings",
)


_Col = Any  # (TableMap, key, *args, **kwargs) -> Column: a column under its mapped name


def _source_tables(metadata: MetaData, col: _Col, *maps: TableMap) -> tuple[Table, Table, Table]:
    """The three event tables. ``author_id`` is the author of the event's post (NULL when the
    post does not exist), which `load` keeps; map it to None to have the store join posts."""
    made = []
    for where in maps:
        engagements = where is maps[2]
        knows_author = where.columns.get("author_id", "author_id") is not None
        table = Table(
            where.name,
            metadata,
            col(where, "id", _ID, primary_key=True),
            col(where, "post_id", _ID, nullable=False),
            *([col(where, "author_id", _ID)] if knows_author else []),
            col(where, "user_id", _ID),
            col(where, "created_at", UtcDateTime, nullable=False),
            *([col(where, "type", String(16), nullable=False)] if engagements else []),
            schema=where.schema,
        )
        e = table.c
        detail = e.type if engagements else e.user_id
        if knows_author:
            # event_days and count_non_followers: an artist's events in a time range, from the
            # index alone (the engagement type, or the viewer, carried in it).
            Index(f"ix_{where.name}_author_created", e.author_id, e.created_at, detail)
            # rollup and the standing: every artist's events of some days, by time.
            Index(f"ix_{where.name}_created", e.created_at, e.author_id, detail)
        # load: the events of a post whose author changed.
        Index(f"ix_{where.name}_post", e.post_id)
        made.append(table)
    return made[0], made[1], made[2]


def _daily_table(metadata: MetaData, col: _Col, where: TableMap) -> Table:
    table = Table(
        where.name,
        metadata,
        col(where, "artist_id", _ID, nullable=False),
        col(where, "date", Date, nullable=False),
        *(col(where, k, BigInteger, server_default="0") for k in rules.POST_COUNTERS),
        PrimaryKeyConstraint("artist_id", "date"),
        schema=where.schema,
    )
    # The standing: every artist's rows of some days (the key serves one artist's range).
    Index(f"ix_{where.name}_date", table.c.date, table.c.artist_id)
    return table


def _earnings_table(metadata: MetaData, col: _Col, where: TableMap) -> Table:
    table = Table(
        where.name,
        metadata,
        col(where, "id", _ID, primary_key=True),
        col(where, "artist_id", _ID, nullable=False),
        # Exact: NUMERIC on PostgreSQL; the amount's own text on SQLite, summed exactly.
        col(where, "amount", Text().with_variant(Numeric(), "postgresql"), nullable=False),
        col(where, "currency", String(3), nullable=False),
        col(where, "created_at", UtcDateTime, nullable=False),
        schema=where.schema,
    )
    # revenue: an artist's entries in a time range.
    Index(f"ix_{where.name}_artist_created", table.c.artist_id, table.c.created_at)
    return table


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


def score_expression(posts: FromClause) -> ColumnElement[Any]:
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


def audience_table(metadata: MetaData, name: str = "artist_audience") -> Table:
    """Per artist, each person who follows them or viewed or played one of their posts: when
    last seen (NULL: never) and whether they follow. Kept by the triggers of `maintain`."""
    table = Table(
        name,
        metadata,
        Column("artist_id", _ID, primary_key=True),
        Column("user_id", _ID, primary_key=True),
        Column("last_seen", UtcDateTime),
        Column("follower", Boolean, nullable=False),
    )
    # count_non_followers: the artist's non-followers seen in a window, one index range.
    Index(f"ix_{name}_seen", table.c.artist_id, table.c.follower, table.c.last_seen)
    return table


def standings_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The standing of every ranked artist over one window, as the rollup last computed it
    (`artist_standings`), and the windows it computed (`artist_standing_windows`, with how
    many artists were ranked): a dashboard reads its standing with one key lookup."""
    windows = Table(
        "artist_standing_windows",
        metadata,
        Column("last_day", Date, primary_key=True),
        Column("first_day", Date, nullable=False),
        Column("ranked", BigInteger, nullable=False),
    )
    standings = Table(
        "artist_standings",
        metadata,
        Column("last_day", Date, primary_key=True),
        Column("artist_id", _ID, primary_key=True),
        Column("at_or_below", BigInteger, nullable=False),
        Column("ranked", BigInteger, nullable=False),
    )
    return windows, standings


def post_credits_table(metadata: MetaData, name: str = "artist_post_credits") -> Table:
    """The `credit_pairs` the maintained ``collaborations`` figures were counted from."""
    return Table(
        name,
        metadata,
        Column("post_id", _ID, primary_key=True),
        Column("user_id", _ID, primary_key=True),
    )


class utc_day(FunctionElement[Any]):
    """The UTC calendar day of a stored time: an instant belongs to its UTC date. The store and
    the rollup read in a UTC session on PostgreSQL, so the cast is the UTC date for both
    ``timestamptz`` and naive UTC ``timestamp`` columns; SQLite keeps naive UTC text."""

    type = Date()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


#: The default tables, for a team's migrations (``target_metadata = metadata``).
tables = dashboard_tables()
metadata = tables.metadata
#: The analytics sources' default tables (create the ones you have).
sources_metadata = tables.sources_metadata
