"""SQL adapter: load a dataset folder (or records) into the tables, creating what is missing.

Everything happens in one transaction: a load that fails or is killed leaves the tables and
their indexes as they were. Rows come from `artist_dashboard.dataset.iter_rows` (straight from
the documents that need no correction, from records otherwise; a big file read by a process of
its own, a batch ahead) and go to a sink per table:
SQLite takes them through one prepared upsert with ``executemany`` (their values made ready
for it where they are read); PostgreSQL takes them with
``COPY`` into a temporary staging table, then one set-based upsert keeps the last row of each
key (a later document replaces an earlier one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

from attrs import frozen
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)

from .._core.errors import DashboardError
from .._core.records import DailyAnalytics, Earning, Follow, Post, PostEvent, User
from .._core.values import counting_corrections
from ..dataset import (
    OnProblem,
    Problem,
    check_dataset,
    configured_sources,
    warn_about_unknown_files,
)
from ..dataset._folder import batched, prepared, row_batches
from ..dataset._rows import COLUMNS, Row, RowValues, day_text, naive_utc_text, record_row
from ._catalog import begin_sqlite, existing, index_names, missing_indexes
from ._schema import DashboardTables, require_plain_tables, standings_tables, tables

#: The key of each collection's table: what an upsert matches on.
KEYS = {
    "users": ("id",),
    "posts": ("id",),
    "follows": ("follower_id", "followee_id"),
    "post_view_events": ("id",),
    "post_play_events": ("id",),
    "post_engagement_events": ("id",),
    "daily_artist_analytics": ("artist_id", "date"),
    "earnings": ("id",),
}
_EVENT_SOURCES = ("post_view_events", "post_play_events", "post_engagement_events")


@frozen
class LoadReport:
    """How many records were written, and the lines that were not."""

    users: int
    posts: int
    follows: int
    problems: tuple[Problem, ...]


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

    warn_about_unknown_files(folder)
    if strict:
        check_dataset(folder)
    names = ["users", "posts", "follows", *configured_sources(folder)]
    with counting_corrections(f"loading {folder}"):
        streams = {n: _file_stream(folder, n, report, batch_size) for n in names}
        counts = _load_batches(engine, target, streams)
    return LoadReport(counts["users"], counts["posts"], counts["follows"], tuple(problems))


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
    streams: dict[str, Iterable[Row]] = {
        name: (record_row(name, r) for r in records)
        for name, records in (("users", users), ("posts", posts), ("follows", follows))
    }
    if sources.events is not None:
        events = list(sources.events)
        names = sources.event_sources
        if names is None:
            names = frozenset(e.key[0] for e in events)
        for name in sorted(names):
            streams[name] = [record_row(name, e) for e in events if e.key[0] == name]
    if sources.daily is not None:
        rows = sources.daily
        streams["daily_artist_analytics"] = (record_row("daily_artist_analytics", r) for r in rows)
    if sources.earnings is not None:
        entries = sources.earnings
        streams["earnings"] = (record_row("earnings", e) for e in entries)
    opened = {n: _records_stream(s, batch_size) for n, s in streams.items()}
    counts = _load_batches(engine, target, opened)
    return counts["users"], counts["posts"], counts["follows"]


#: A collection's rows in batches, each row through the sink's `prepare` when it has one.
Stream = Callable[[Callable[[Row], Row] | None], Iterable[list[Row]]]


def _file_stream(folder: str | Path, name: str, on_problem: OnProblem, size: int) -> Stream:
    return lambda prepare: row_batches(folder, name, on_problem, size, prepare)


def _records_stream(rows: Iterable[Row], size: int) -> Stream:
    return lambda prepare: batched(prepared(rows, prepare), size)


def _load_batches(
    engine: Engine, target: DashboardTables, streams: Mapping[str, Stream]
) -> dict[str, int]:
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise DashboardError(f"loading supports SQLite and PostgreSQL, not {dialect}")
    require_plain_tables(target, "loading")
    wanted = [target.source(n) for n in streams if n not in ("users", "posts", "follows")]
    target.metadata.create_all(engine, tables=list(target.core), checkfirst=True)
    target.sources_metadata.create_all(engine, tables=wanted, checkfirst=True)
    counts: dict[str, int] = {}
    with engine.begin() as conn, ExitStack() as settings:
        if dialect == "postgresql":
            # A naive ``timestamp`` column of an existing schema receives UTC.
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            # Room to sort and join the staged rows in memory (this transaction only).
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        else:
            begin_sqlite(conn, immediate=True)  # else pysqlite runs the DDL outside it
            settings.enter_context(sqlite_load_settings(conn))
        _drop_indexes_of_empty_tables(conn, [*target.core[1:], *wanted])
        authored = [t for t in existing(conn, target.events) if "author_id" in t.c]
        for name, stream in streams.items():
            sink_type = _PostgresSink if dialect == "postgresql" else _SqliteSink
            sink = sink_type(conn, target, name, authored)
            counts[name] = 0
            for batch in stream(sink.prepare):
                sink.write(batch)
                counts[name] += len(batch)
            sink.finish()
        if any(n in streams for n in (*_EVENT_SOURCES, "daily_artist_analytics")):
            _forget_standings(conn)
        for index in missing_indexes(conn, target):
            index.create(conn)
        # Events got their authors as they went in: the few still without one (their posts
        # not there yet, or arrived since) are found by index.
        authored = [t for t in existing(conn, target.events) if "author_id" in t.c]
        _fill_event_authors(conn, target, authored)
    # Statistics for what this load wrote: posts move their events' authors too.
    written = [_table_of(target, name) for name, count in counts.items() if count]
    written += [t for t in authored if counts.get("posts") and t not in written]
    if written:
        _analyze(engine, written)
    return counts


#: SQLite's settings for a load's connection: room to sort the index builds in memory (64 MB
#: of page cache) and helper threads to sort them (on two cores, index builds take a fifth
#: less time).
SQLITE_LOAD_PRAGMAS = {"cache_size": -65536, "threads": min(4, os.cpu_count() or 1)}


@contextmanager
def sqlite_load_settings(conn: Connection) -> Iterator[None]:
    """`SQLITE_LOAD_PRAGMAS` on this connection for the block, then as they were (the pool
    keeps the connection)."""
    before = {k: int(conn.exec_driver_sql(f"PRAGMA {k}").scalar_one()) for k in SQLITE_LOAD_PRAGMAS}
    for name, value in SQLITE_LOAD_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        with suppress(Exception):  # a failed load's own error is the one to report
            for name, was in before.items():
                conn.exec_driver_sql(f"PRAGMA {name} = {was}")


# --- sinks -----------------------------------------------------------------------------------


def _table_of(target: DashboardTables, name: str) -> Table:
    core = {"users": target.users, "posts": target.posts, "follows": target.follows}
    return core[name] if name in core else target.source(name)


class _Sink:
    """Where one collection's rows go: its table, its columns in the database's names."""

    def __init__(
        self, conn: Connection, target: DashboardTables, name: str, authored: list[Table]
    ) -> None:
        self.conn, self.target, self.name, self.authored = conn, target, name, authored
        self.table = _table_of(target, name)
        self.keys = KEYS[name]
        # The row's columns that the table has (an event table may lack the author's copy).
        self.columns = [c for c in COLUMNS[name] if c in self.table.c]
        self.positions = [COLUMNS[name].index(c) for c in self.columns]
        q = conn.dialect.identifier_preparer
        self.quoted_table = q.format_table(self.table)
        self.quoted = [q.quote(self.table.c[c].name) for c in self.columns]
        self.quoted_keys = [q.quote(self.table.c[k].name) for k in self.keys]
        rest = [n for c, n in zip(self.columns, self.quoted, strict=True) if c not in self.keys]
        sets = ", ".join(f"{n} = excluded.{n}" for n in rest)
        action = f"UPDATE SET {sets}" if rest else "NOTHING"
        self.on_conflict = f"ON CONFLICT ({', '.join(self.quoted_keys)}) DO {action}"
        #: What the sink wants done to each row before `write` (where the rows are read).
        self.prepare: Callable[[Row], Row] | None = None

    def write(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Everything written is in the table."""


class _SqliteSink(_Sink):
    """One prepared upsert, ``executemany`` over positional rows. An event table whose rows
    carry their post's author is written through a scratch table instead (`_stage`)."""

    def __init__(
        self, conn: Connection, target: DashboardTables, name: str, authored: list[Table]
    ) -> None:
        super().__init__(conn, target, name, authored)
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        marks = ", ".join("?" * len(self.columns))
        self.staged = self.table in authored
        if self.staged:
            self.sql = self._stage(conn, target, marks)
        else:
            columns = ", ".join(self.quoted)
            self.sql = f"INSERT INTO {self.quoted_table} ({columns}) VALUES ({marks})"
            self.sql += f" {self.on_conflict}"
        # Only times, days and amounts need converting; the driver takes the rest as they are.
        converters: dict[str, Callable[[Any], Any]] = {
            "created_at": naive_utc_text,
            "date": day_text,
            "amount": str,
        }
        convert = [(i, converters[c]) for i, c in enumerate(self.columns) if c in converters]
        self.values = RowValues(self.positions, convert)
        # Posts keep their rows: their collaborators come from them too.
        self.prepare = None if name == "posts" else self.values

    def _stage(self, conn: Connection, target: DashboardTables, marks: str) -> str:
        """An event's author is its post's, looked up as the row goes in. Looked up per row in
        ``VALUES`` it costs SQLite more than the insert itself; in one ``INSERT … SELECT`` over
        a batch it costs next to nothing. So a batch goes into a scratch table of this
        connection, then into the table in one upsert, in file order — a later row with the
        same key still replaces an earlier one. The author comes from a join, not a scalar
        subquery: SQLite answers a subquery's key lookup from the key's own index and then the
        wide post row, a join from a covering index of posts (a third of a big load's time).
        Returns the scratch table's insert."""
        q = conn.dialect.identifier_preparer
        author = q.quote(self.table.c.author_id.name)
        posts = q.format_table(target.posts)
        p_id, p_author = (q.quote(target.posts.c[k].name) for k in ("id", "author_id"))
        scratch = "temp.artist_dashboard_load"
        names = ", ".join(f"c{i}" for i in range(len(self.columns)))
        picked = ", ".join(f"s.c{i}" for i in range(len(self.columns)))
        post = f"s.c{self.columns.index('post_id')}"
        self.drop_scratch = f"DROP TABLE IF EXISTS {scratch}"
        self.cursor.execute(self.drop_scratch)  # inside the load's transaction, like all else
        self.cursor.execute(f"CREATE TABLE {scratch} ({names})")
        self.copy = (
            f"INSERT INTO {self.quoted_table} ({', '.join(self.quoted)}, {author})"
            f" SELECT {picked}, p.{p_author} FROM {scratch} AS s"
            f" LEFT JOIN {posts} AS p ON p.{p_id} = {post} WHERE true ORDER BY s.rowid"
            f" {self.on_conflict}, {author} = excluded.{author}"
        )
        self.empty_scratch = f"DELETE FROM {scratch}"
        return f"INSERT INTO {scratch} VALUES ({marks})"

    def write(self, rows: list[Row]) -> None:
        bound = rows if self.prepare is not None else [self.values(row) for row in rows]
        self.cursor.executemany(self.sql, bound)
        if self.staged:
            self.cursor.execute(self.copy)
            self.cursor.execute(self.empty_scratch)
        if self.name == "posts":
            _replace_collaborators(self.conn, self.target, rows)
            _resync_event_authors(self.conn, self.target, self.authored, [r[0] for r in rows])

    def finish(self) -> None:
        if self.staged:
            self.cursor.execute(self.drop_scratch)


class _PostgresSink(_Sink):
    """``COPY`` into a staging table, then one set-based upsert of each key's last row."""

    _number = 0

    def __init__(
        self, conn: Connection, target: DashboardTables, name: str, authored: list[Table]
    ) -> None:
        super().__init__(conn, target, name, authored)
        _PostgresSink._number += 1
        self.stage = f"artist_dashboard_stage_{_PostgresSink._number}"
        dialect = conn.dialect
        defined = ", ".join(
            f"{n} {self.table.c[c].type.compile(dialect)}"
            for c, n in zip(self.columns, self.quoted, strict=True)
        )
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {self.stage} (seq bigint, {defined}) ON COMMIT DROP"
        )
        self.pairs = f"{self.stage}_pairs"
        if name == "posts":
            conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {self.pairs} (seq bigint, post_id text, user_id text)"
                " ON COMMIT DROP"
            )
        self.seq = 0
        self.raw = conn.connection.driver_connection

    def write(self, rows: list[Row]) -> None:
        positions = self.positions
        columns = ", ".join(["seq", *self.quoted])
        with self.raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {self.stage} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    self.seq += 1
                    copy.write_row((self.seq, *(row[p] for p in positions)))
            if self.name == "posts":
                start = self.seq - len(rows)
                pairs = f"COPY {self.pairs} (seq, post_id, user_id) FROM STDIN"
                with cursor.copy(pairs) as copy:
                    for n, row in enumerate(rows, start=start + 1):
                        for user in row[-1]:
                            copy.write_row((n, row[0], user))

    def finish(self) -> None:
        columns = ", ".join(self.quoted)
        keys = ", ".join(self.quoted_keys)
        # Without statistics the planner takes a million staged rows for a few hundred, and
        # looks each one's post up by key instead of joining in one pass.
        self.conn.exec_driver_sql(f"ANALYZE {self.stage}")
        last = f"SELECT DISTINCT ON ({keys}) * FROM {self.stage} ORDER BY {keys}, seq DESC"
        if self.table in self.authored:
            # An event's author is its post's, joined here rather than filled row by row.
            q = self.conn.dialect.identifier_preparer
            author = q.quote(self.table.c.author_id.name)
            posts = q.format_table(self.target.posts)
            p_id, p_author = (q.quote(self.target.posts.c[k].name) for k in ("id", "author_id"))
            picked = ", ".join(f"s.{n}" for n in self.quoted)
            post = q.quote(self.table.c.post_id.name)
            on_keys = ", ".join(f"s.{k}" for k in self.quoted_keys)
            # Joined before the last row of each key is picked, so the rows go in in key
            # order: the key's index then grows at its end instead of everywhere.
            self.conn.exec_driver_sql(
                f"INSERT INTO {self.quoted_table} ({columns}, {author})"
                f" SELECT DISTINCT ON ({on_keys}) {picked}, p.{p_author} FROM {self.stage} AS s"
                f" LEFT JOIN {posts} AS p ON p.{p_id} = s.{post} ORDER BY {on_keys}, s.seq DESC"
                f" {self.on_conflict}, {author} = excluded.{author}"
            )
            return
        self.conn.exec_driver_sql(
            f"INSERT INTO {self.quoted_table} ({columns})"
            f" SELECT {columns} FROM ({last}) AS s {self.on_conflict}"
        )
        if self.name == "posts":
            self._collaborators()

    def _collaborators(self) -> None:
        """The loaded posts' collaborators are those of each post's last row."""
        pc = self.target.post_collaborators
        q = self.conn.dialect.identifier_preparer
        name = q.format_table(pc)
        c = {col.key: q.quote(col.name) for col in pc.c}
        post_id = self.quoted[0]
        self.conn.exec_driver_sql(
            f"DELETE FROM {name} WHERE {c['post_id']} IN (SELECT {post_id} FROM {self.stage})"
        )
        author = [c["author_id"]] if "author_id" in c else []
        # Each loaded post's last row (its id, sequence and author), joined to its pairs.
        last = (
            f"SELECT DISTINCT ON ({post_id}) {post_id} AS id, seq, {self.quoted[1]} AS author"
            f" FROM {self.stage} ORDER BY {post_id}, seq DESC"
        )
        self.conn.exec_driver_sql(
            f"INSERT INTO {name} ({', '.join([c['post_id'], c['user_id'], *author])})"
            f" SELECT DISTINCT p.post_id, p.user_id{', last.author' if author else ''}"
            f" FROM {self.pairs} p JOIN ({last}) last"
            " ON last.id = p.post_id AND last.seq = p.seq"
        )
        # The loaded posts may have changed hands: their events follow.
        posts = q.format_table(self.target.posts)
        p_id, p_author = (q.quote(self.target.posts.c[k].name) for k in ("id", "author_id"))
        for events in self.authored:
            e_post, e_author = (q.quote(events.c[k].name) for k in ("post_id", "author_id"))
            self.conn.exec_driver_sql(
                f"UPDATE {q.format_table(events)} AS e SET {e_author} = p.{p_author}"
                f" FROM {posts} AS p WHERE e.{e_post} = p.{p_id}"
                f" AND p.{p_id} IN (SELECT {post_id} FROM {self.stage})"
                f" AND e.{e_author} IS DISTINCT FROM p.{p_author}"
            )


def _replace_collaborators(conn: Connection, target: DashboardTables, rows: list[Row]) -> None:
    """The batch's posts' collaborators are those of their rows (SQLite: the last row of a
    post in the batch is the one that stays, as in the posts table)."""
    pc = target.post_collaborators
    last = {row[0]: row for row in rows}
    conn.execute(delete(pc).where(pc.c.post_id.in_(_each_id())), {"ids": _json_ids(last)})
    pairs = [
        {"post_id": post_id, "user_id": user, "author_id": row[1]}
        for post_id, row in last.items()
        for user in row[-1]
    ]
    if pairs:
        if "author_id" not in pc.c:
            pairs = [{k: v for k, v in p.items() if k != "author_id"} for p in pairs]
        conn.execute(pc.insert(), pairs)


def _each_id() -> Any:
    """(SQLite) The ids of a batch, given as one JSON array: one parameter where an ``IN``
    list would have thousands, each rendered and bound anew by every statement."""
    return select(func.json_each(bindparam("ids")).table_valued("value").c.value)


def _json_ids(ids: Iterable[Any]) -> str:
    return json.dumps(list(ids))


def _author_of(target: DashboardTables, events: Table) -> Any:
    p = target.posts.c
    return select(p.author_id).where(p.id == events.c.post_id).scalar_subquery()


def _fill_event_authors(conn: Connection, target: DashboardTables, found: list[Table]) -> None:
    """Each event's ``author_id`` is its post's author, NULL when the post does not exist:
    fill it for the events just written (and any whose post has arrived since)."""
    for table in found:
        author = _author_of(target, table)
        conn.execute(update(table).where(table.c.author_id.is_(None)).values(author_id=author))


def _resync_event_authors(
    conn: Connection, target: DashboardTables, found: list[Table], post_ids: list[str]
) -> None:
    """The posts just written may have changed hands: their events follow (by post id)."""
    for table in found:
        author = _author_of(target, table)
        e = table.c
        conn.execute(
            update(table)
            .where(e.post_id.in_(_each_id()), e.author_id.is_distinct_from(author))
            .values(author_id=author),
            {"ids": _json_ids(post_ids)},
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


def _analyze(engine: Engine, written: list[Table]) -> None:
    """Fresh planner statistics for the tables a load wrote — the others' are as good as they
    were, and analysing a large database whole costs a tenth of a load — and on PostgreSQL
    the visibility map for index-only scans."""
    names = [engine.dialect.identifier_preparer.format_table(t) for t in written]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(names)}")
    else:
        with engine.begin() as conn:
            for name in names:
                conn.exec_driver_sql(f"ANALYZE {name}")
