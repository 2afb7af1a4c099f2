"""SQL adapter: load a dataset folder into the tables, creating what is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar, cast

from attrs import frozen
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    delete,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from .._core.errors import DashboardError
from .._core.records import DailyAnalytics, Earning, Follow, Post, PostEvent, User
from .._core.rules import POST_COUNTERS
from ..dataset import (
    OnProblem,
    Problem,
    check_dataset,
    configured_sources,
    iter_records,
)
from ._catalog import begin_sqlite, existing, index_names, missing_indexes
from ._schema import DashboardTables, standings_tables, tables

_T = TypeVar("_T")


@frozen
class LoadReport:
    """How many records were written, and the lines that were not."""

    users: int
    posts: int
    follows: int
    problems: tuple[Problem, ...]


def _batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _upsert(table: Table, keys: list[str], dialect: str) -> ClauseElement:
    """INSERT … ON CONFLICT (keys) DO UPDATE every other column: a rerun changes nothing."""
    if dialect == "sqlite":
        lite = sqlite.insert(table)
        return lite.on_conflict_do_update(
            index_elements=keys, set_={c.key: lite.excluded[c.key] for c in _rest(table, keys)}
        )
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=keys, set_={c.key: pg.excluded[c.key] for c in _rest(table, keys)}
        )
    raise DashboardError(f"loading supports SQLite and PostgreSQL, not {dialect}")


def _rest(table: Table, keys: list[str]) -> list[Column[Any]]:
    return [c for c in table.c if c.key not in keys]


# Rows are spelled out rather than made with attrs.asdict: on the load path a dict literal is
# about ten times cheaper, which is a sixth of the whole load time.


def _user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "stage_name": user.stage_name,
        "bio": user.bio,
        "avatar": user.avatar,
        "cover_image": user.cover_image,
        "is_verified": user.is_verified,
    }


def _post_row(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "author_id": post.author_id,
        "post_type": post.post_type,
        "content": post.content,
        "thumbnail_url": post.thumbnail_url,
        "display_url": post.display_url,
        "view_count": post.view_count,
        "play_count": post.play_count,
        "likes_count": post.likes_count,
        "comments_count": post.comments_count,
        "saves_count": post.saves_count,
        "shares_count": post.shares_count,
        "created_at": post.created_at,
        "is_deleted": post.is_deleted,
    }


def _follow_row(follow: Follow) -> dict[str, Any]:
    return {
        "follower_id": follow.follower_id,
        "followee_id": follow.followee_id,
        "created_at": follow.created_at,
    }


def _event_row(event: PostEvent) -> dict[str, Any]:
    # The author is filled from the post once the load's posts and events are all written.
    row = {
        "id": event.id,
        "post_id": event.post_id,
        "author_id": None,
        "user_id": event.user_id,
        "created_at": event.created_at,
    }
    if event.key[0] == "post_engagement_events":
        row["type"] = event.kind
    return row


def _daily_row(row: DailyAnalytics) -> dict[str, Any]:
    return {
        "artist_id": row.artist_id,
        "date": row.day,
        **{k: getattr(row, k) for k in POST_COUNTERS},
    }


def _earning_row(entry: Earning, exact_text: bool) -> dict[str, Any]:
    return {
        "id": entry.id,
        "artist_id": entry.artist_id,
        # SQLite keeps the amount as its exact text; PostgreSQL as NUMERIC.
        "amount": str(entry.amount) if exact_text else entry.amount,
        "currency": entry.currency,
        "created_at": entry.created_at,
    }


@frozen
class Sources:
    """The analytics sources to load: each one given (even empty) is configured — its table
    is created — and the others are left as they are. `events` go to the table of their
    collection; `event_sources` names the event collections configured (by default those of
    the events given)."""

    events: Iterable[PostEvent] | None = None
    event_sources: frozenset[str] | None = None
    daily: Iterable[DailyAnalytics] | None = None
    earnings: Iterable[Earning] | None = None


def load_dataset_into(
    engine: Engine,
    folder: str | Path,
    target: DashboardTables = tables,
    *,
    batch_size: int = 5000,
    strict: bool = False,
    on_problem: OnProblem | None = None,
) -> LoadReport:
    """Create the tables that are missing and upsert the dataset, all in one transaction.

    The core tables are always created; an analytics source's table only when the dataset has
    its file (that is what makes the source configured), and the other sources are left as
    they are. Loading the same dataset twice changes nothing; a record whose key exists is
    replaced (a post's collaborators with it). Bad lines go to `on_problem` and are skipped;
    with ``strict=True`` the whole dataset is read and checked first, and nothing is written
    if any line is bad. A load that fails or is killed leaves the tables as they were.
    """
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        problems.append(problem)
        if on_problem is not None:
            on_problem(problem)

    if strict:
        check_dataset(folder)
    present = set(configured_sources(folder))
    event_sources = frozenset(present - {"daily_artist_analytics", "earnings"})

    def read(name: str) -> Iterator[Any]:
        return iter_records(folder, name, report)

    sources = Sources(
        events=(e for n in sorted(event_sources) for e in read(n)) if event_sources else None,
        event_sources=event_sources,
        daily=read("daily_artist_analytics") if "daily_artist_analytics" in present else None,
        earnings=read("earnings") if "earnings" in present else None,
    )
    counts = load_records_into(
        engine,
        read("users"),
        read("posts"),
        read("follows"),
        target,
        batch_size=batch_size,
        sources=sources,
    )
    return LoadReport(*counts, problems=tuple(problems))


def load_records_into(
    engine: Engine,
    users: Iterable[User] = (),
    posts: Iterable[Post] = (),
    follows: Iterable[Follow] = (),
    target: DashboardTables = tables,
    *,
    batch_size: int = 5000,
    sources: Sources = Sources(),
) -> tuple[int, int, int]:
    """Create missing tables and upsert records; returns how many users, posts, follows.

    One transaction: the secondary indexes of empty tables are dropped, the rows written in
    batches of `batch_size`, and every declared index (re)built before it commits — so a load
    killed at any point leaves the tables and their indexes as they were, and any load
    restores an index an earlier failure left missing. `sources` are loaded the same way.
    """
    dialect = engine.dialect.name
    events = list(sources.events) if sources.events is not None else None
    event_sources = sources.event_sources
    if events is not None and event_sources is None:
        event_sources = frozenset(e.key[0] for e in events)
    wanted = [target.source(n) for n in sorted(event_sources or ())]
    if sources.daily is not None:
        wanted.append(target.daily)
    if sources.earnings is not None:
        wanted.append(target.earnings)
    target.metadata.create_all(engine, tables=list(target.core), checkfirst=True)
    target.sources_metadata.create_all(engine, tables=wanted, checkfirst=True)
    with engine.begin() as conn:
        if dialect == "postgresql":
            # A naive ``timestamp`` column of an existing schema receives UTC.
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        else:
            begin_sqlite(conn, immediate=True)  # else pysqlite runs the DDL outside it
        _drop_indexes_of_empty_tables(conn, [*target.core[1:], *wanted])
        written_users = _write(conn, target.users, ["id"], users, _user_row, batch_size)
        with_authors = [t for t in existing(conn, target.events) if "author_id" in t.c]
        written_posts = _write_posts(conn, target, posts, batch_size, with_authors)
        keys = ["follower_id", "followee_id"]
        written_follows = _write(conn, target.follows, keys, follows, _follow_row, batch_size)
        for name in sorted(event_sources or ()):
            table = target.source(name)
            mine = (e for e in events or () if e.key[0] == name)
            _write(conn, table, ["id"], mine, _event_row, batch_size)
        if sources.daily is not None:
            keys = ["artist_id", "date"]
            _write(conn, target.daily, keys, sources.daily, _daily_row, batch_size)
        if sources.earnings is not None:
            exact_text = dialect != "postgresql"
            _write(
                conn,
                target.earnings,
                ["id"],
                sources.earnings,
                lambda entry: _earning_row(entry, exact_text),
                batch_size,
            )
        filled = [t for t in existing(conn, target.events) if "author_id" in t.c]
        _fill_event_authors(conn, target, filled)
        if events is not None or sources.daily is not None:
            _forget_standings(conn)
        for index in missing_indexes(conn, target):
            index.create(conn)
    _analyze(engine, target)
    return written_users, written_posts, written_follows


def _author_of(target: DashboardTables, events: Table) -> Any:
    p = target.posts.c
    return select(p.author_id).where(p.id == events.c.post_id).scalar_subquery()


def _fill_event_authors(conn: Connection, target: DashboardTables, tables: list[Table]) -> None:
    """Each event's ``author_id`` is its post's author, NULL when the post does not exist:
    fill it for the events just written (and any whose post has arrived since)."""
    for table in tables:
        author = _author_of(target, table)
        conn.execute(update(table).where(table.c.author_id.is_(None)).values(author_id=author))


def _resync_event_authors(
    conn: Connection, target: DashboardTables, tables: list[Table], post_ids: list[str]
) -> None:
    """The posts just written may have changed hands: their events follow (by post id)."""
    for table in tables:
        author = _author_of(target, table)
        e = table.c
        conn.execute(
            update(table)
            .where(e.post_id.in_(post_ids), e.author_id.is_distinct_from(author))
            .values(author_id=author)
        )


def _forget_standings(conn: Connection) -> None:
    """The rollup's standings were computed from what this load changed: drop them, so the
    dashboards compute the standing live until the next rollup."""
    windows, standings = standings_tables(MetaData())
    for table in existing(conn, (standings, windows)):
        conn.execute(delete(table))


def _drop_indexes_of_empty_tables(conn: Connection, candidates: Iterable[Table]) -> None:
    """Drop the secondary indexes of tables that are empty now, to build them once at the end.

    One sorted index build is several times cheaper than keeping an index up to date row by
    row; tables that already hold data keep their indexes.
    """
    for table in candidates:
        if conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
            continue
        present = index_names(conn, table)
        for index in table.indexes:
            if index.name in present:
                index.drop(conn)


def _analyze(engine: Engine, target: DashboardTables) -> None:
    """Fresh planner statistics, and on PostgreSQL the visibility map for index-only scans."""
    with engine.connect() as conn:
        present = existing(conn, (*target.core, *target.events, target.daily, target.earnings))
    names = [engine.dialect.identifier_preparer.format_table(t) for t in present]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(names)}")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def _write(
    conn: Connection,
    table: Table,
    keys: list[str],
    records: Iterable[_T],
    to_row: Callable[[_T], dict[str, Any]],
    batch_size: int,
) -> int:
    write = _Writer(conn, _upsert(table, keys, conn.dialect.name), table)
    written = 0
    for batch in _batches(records, batch_size):
        write(conn, [to_row(r) for r in batch])
        written += len(batch)
    return written


def _write_posts(
    conn: Connection,
    target: DashboardTables,
    posts: Iterable[Post],
    batch_size: int,
    event_tables: list[Table],
) -> int:
    write = _Writer(conn, _upsert(target.posts, ["id"], conn.dialect.name), target.posts)
    collaborators = target.post_collaborators
    add_pairs = _Writer(conn, collaborators.insert(), collaborators)
    written = 0
    for batch in _batches(posts, batch_size):
        pairs = [
            {"post_id": p.id, "user_id": u, "author_id": p.author_id}
            for p in batch
            for u in p.collaborator_ids
        ]
        write(conn, [_post_row(p) for p in batch])
        conn.execute(
            delete(collaborators).where(collaborators.c.post_id.in_([p.id for p in batch]))
        )
        if pairs:
            add_pairs(conn, pairs)
        _resync_event_authors(conn, target, event_tables, [p.id for p in batch])
        written += len(batch)
    return written


class _Writer:
    """Executes one statement for many rows at the driver's speed.

    The statement is compiled once by SQLAlchemy for the engine's dialect, and each value goes
    through its column type's own bind processor, so storage formats (UTC times on SQLite,
    booleans…) stay defined by the tables; only SQLAlchemy's per-row bookkeeping is skipped.
    """

    def __init__(self, conn: Connection, statement: ClauseElement, table: Table) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=conn.dialect))
        self.sql = str(compiled)
        self.names: list[str] = list(compiled.positiontup or compiled.params)
        by_name = {c.key: c for c in table.c}
        # dialect_impl: the type as this database stores it (SQLite's DATETIME writes fixed-width
        # text with microseconds; the driver's own adapter would drop ".000000", and such a
        # time would sort before the same instant written by a query).
        self.processors = [
            by_name[n].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            for n in self.names
        ]
        self.positional = compiled.positiontup is not None

    def __call__(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        converted = [
            [
                row[name] if process is None else process(row[name])
                for name, process in zip(self.names, self.processors, strict=True)
            ]
            for row in rows
        ]
        if self.positional:
            conn.exec_driver_sql(self.sql, [tuple(values) for values in converted])
        else:
            conn.exec_driver_sql(
                self.sql, [dict(zip(self.names, v, strict=True)) for v in converted]
            )
