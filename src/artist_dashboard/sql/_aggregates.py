"""SQL adapter: maintained aggregates, per-artist figures kept exact by database triggers.

`artist_stats` holds, per user, the post count and counter sums over their live posts, their
follower and following counts, and their collaborations — the figures whose live aggregation
grows with the artist. Triggers on posts, post collaborators and follows keep them exact as the
team's own application inserts, updates and deletes rows, so a dashboard reads them with a key
lookup. Time windows, the top N and the recent N stay live: they are already index range reads.

Every expression comes from the same constructs as the live queries (`clamped`, the live-post
condition), compiled for the database, so the two modes cannot disagree; `reconcile` recomputes
the figures from the source rows and reports and fixes any drift (rows written while the
triggers were absent, a restore from backup…). Primary keys are not expected to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attrs import frozen
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Select,
    Table,
    and_,
    distinct,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from .._core import rules
from ._catalog import TRIGGER_PREFIX, begin_sqlite, drop_library_triggers
from ._schema import (
    STATS_FIGURES,
    DashboardTables,
    clamped,
    follow_days_table,
    live_post,
    stats_table,
    tables,
)


@frozen
class ReconcileReport:
    """What `reconcile` found: users checked, how many had drifted, and up to 50 of them."""

    checked: int
    drifted: int
    sample: tuple[str, ...]


class _Sql:
    """Trigger statements for one dialect, written with the tables' real names."""

    def __init__(
        self, conn: Connection, target: DashboardTables, stats: Table, days: Table
    ) -> None:
        self.dialect = conn.dialect
        self.postgres = conn.dialect.name == "postgresql"
        q = conn.dialect.identifier_preparer
        self.stats = q.format_table(stats)
        self.days = q.format_table(days)
        self.posts = q.format_table(target.posts)
        self.pc = q.format_table(target.post_collaborators)
        self.follows = q.format_table(target.follows)
        self.p = {c.key: q.quote(c.name) for c in target.posts.c}
        self.c = {c.key: q.quote(c.name) for c in target.post_collaborators.c}
        self.f = {c.key: q.quote(c.name) for c in target.follows.c}
        self.knows_author = "author_id" in target.post_collaborators.c

    def render(self, element: ColumnElement[Any]) -> str:
        return str(element.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True}))

    def clamp(self, row: str, key: str) -> str:
        return self.render(clamped(literal_column(f"{row}.{self.p[key]}")))

    def live(self, row: str) -> str:
        deleted: ColumnElement[Any] = literal_column(f"{row}.{self.p['is_deleted']}")
        created: ColumnElement[Any] = literal_column(f"{row}.{self.p['created_at']}")
        return f"({self.render(live_post(deleted, created))})"

    def ensure(self, user: str) -> str:
        if self.postgres:
            return f"INSERT INTO {self.stats} (user_id) VALUES ({user}) ON CONFLICT DO NOTHING;"
        return f"INSERT OR IGNORE INTO {self.stats} (user_id) VALUES ({user});"

    def ensure_from(self, query: str) -> str:
        if self.postgres:
            return f"INSERT INTO {self.stats} (user_id) {query} ON CONFLICT DO NOTHING;"
        return f"INSERT OR IGNORE INTO {self.stats} (user_id) {query};"

    def post_sums(self, row: str, sign: str) -> str:
        sets = [f"posts = posts {sign} 1"]
        sets += [f"{k} = {k} {sign} {self.clamp(row, k)}" for k in rules.POST_COUNTERS]
        author = f"{row}.{self.p['author_id']}"
        return f"UPDATE {self.stats} SET {', '.join(sets)} WHERE user_id = {author};"

    def post_credits(self, row: str, sign: str) -> list[str]:
        """Collaboration credits of one (live) post: its other collaborators, and its author
        when it has one."""
        post_id, author = f"{row}.{self.p['id']}", f"{row}.{self.p['author_id']}"
        others = (
            f"SELECT {self.c['user_id']} FROM {self.pc} WHERE {self.c['post_id']} = {post_id}"
            f" AND {self.c['user_id']} <> {author}"
        )
        statements = [self.ensure_from(others)] if sign == "+" else []
        statements += [
            f"UPDATE {self.stats} SET collaborations = collaborations {sign} 1"
            f" WHERE user_id IN ({others});",
            f"UPDATE {self.stats} SET collaborations = collaborations {sign} 1"
            f" WHERE user_id = {author} AND EXISTS ({others});",
        ]
        return statements

    def collaborator_credit(
        self, row: str, sign: str, others_then: int, *, replacing: str | None = None
    ) -> list[str]:
        """Credits when one collaborator row appears (+) or disappears (-).

        Run BEFORE the row changes: on PostgreSQL an AFTER ROW trigger of a multi-row
        statement sees the whole statement done, a BEFORE ROW trigger sees the rows before it
        (on SQLite both fire row by row). The author gains a credit with the post's first other
        collaborator and loses it with the last: `others_then` is the count of the post's other
        collaborators, as the trigger sees them, at which that happens; `replacing` names a row
        (OLD in an update) to leave out of that count.
        """
        post, user = f"{row}.{self.c['post_id']}", f"{row}.{self.c['user_id']}"
        p, c = self.p, self.c
        post_of = (
            f"SELECT {p['author_id']} FROM {self.posts} AS p WHERE p.{p['id']} = {post}"
            f" AND {self.live('p')} AND p.{p['author_id']} <> {user}"
        )
        besides = (
            f" AND NOT (c.{c['post_id']} = {replacing}.{c['post_id']}"
            f" AND c.{c['user_id']} = {replacing}.{c['user_id']})"
            if replacing
            else ""
        )
        others_left = (
            f"(SELECT count(*) FROM {self.pc} AS c WHERE c.{c['post_id']} = {post}"
            f" AND c.{c['user_id']} <> ({post_of}){besides}) = {others_then}"
        )
        statements = (
            [self.ensure_from(f"SELECT {user} WHERE EXISTS ({post_of})")] if sign == "+" else []
        )
        statements += [
            f"UPDATE {self.stats} SET collaborations = collaborations {sign} 1"
            f" WHERE user_id = {user} AND EXISTS ({post_of});",
            f"UPDATE {self.stats} SET collaborations = collaborations {sign} 1"
            f" WHERE user_id = ({post_of}) AND {others_left};",
        ]
        return statements

    def day(self, created_at: str) -> str:
        """The UTC day (YYYY-MM-DD) of a stored time."""
        if self.postgres:
            return f"to_char({created_at} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        return f"substr({created_at}, 1, 10)"

    def follow_day(self, row: str, sign: str) -> str:
        """One follow more (+) or less (-) on its followee's day."""
        followee, day = f"{row}.{self.f['followee_id']}", self.day(f"{row}.{self.f['created_at']}")
        if sign == "-":
            return (
                f"UPDATE {self.days} SET follows = follows - 1"
                f" WHERE user_id = {followee} AND day = {day};"
            )
        return (
            f"INSERT INTO {self.days} (user_id, day, follows) SELECT {followee}, {day}, 1"
            f" WHERE {row}.{self.f['created_at']} IS NOT NULL"
            " ON CONFLICT (user_id, day) DO UPDATE SET follows = "
            f"{self.days}.follows + 1;"
        )

    def follow(self, row: str, sign: str) -> list[str]:
        followee, follower = f"{row}.{self.f['followee_id']}", f"{row}.{self.f['follower_id']}"
        statements = [self.ensure(followee), self.ensure(follower)] if sign == "+" else []
        return [
            *statements,
            f"UPDATE {self.stats} SET followers = followers {sign} 1 WHERE user_id = {followee};",
            f"UPDATE {self.stats} SET following = following {sign} 1 WHERE user_id = {follower};",
        ]

    def triggers(self) -> dict[str, tuple[str, str, str, str | None, list[str]]]:
        """name -> (timing, event, table, condition, statements)."""
        p, c = self.p, self.c
        same_post = (
            f"OLD.{p['author_id']} = NEW.{p['author_id']}"
            f" AND {self.live('OLD')} = {self.live('NEW')}"
        )
        counter_deltas = ", ".join(
            f"{k} = {k} - {self.clamp('OLD', k)} + {self.clamp('NEW', k)}"
            for k in rules.POST_COUNTERS
        )
        # Keeping post_collaborators.author_id in step when a post changes hands.
        sync = (
            [
                f"UPDATE {self.pc} SET {c['author_id']} = NEW.{p['author_id']}"
                f" WHERE {c['post_id']} = NEW.{p['id']};"
            ]
            if self.knows_author
            else []
        )
        # A collaborator row counts only through post_id and user_id (not the author copy).
        pair_changed = (
            f"OLD.{c['post_id']} <> NEW.{c['post_id']} OR OLD.{c['user_id']} <> NEW.{c['user_id']}"
        )
        add_post = [
            self.ensure(f"NEW.{p['author_id']}"),
            self.post_sums("NEW", "+"),
            *self.post_credits("NEW", "+"),
        ]
        remove_post = [self.post_sums("OLD", "-"), *self.post_credits("OLD", "-")]
        return {
            "post_insert": ("AFTER", "INSERT", self.posts, self.live("NEW"), add_post),
            "post_delete": ("AFTER", "DELETE", self.posts, self.live("OLD"), remove_post),
            "post_update_counters": (
                "AFTER",
                "UPDATE",
                self.posts,
                f"{same_post} AND {self.live('NEW')}",
                [f"UPDATE {self.stats} SET {counter_deltas} WHERE user_id = NEW.{p['author_id']};"],
            ),
            "post_update_moved": (
                "AFTER",
                "UPDATE",
                self.posts,
                f"NOT ({same_post})",
                [
                    *sync,
                    *self._when(self.live("OLD"), remove_post),
                    *self._when(self.live("NEW"), add_post),
                ],
            ),
            # BEFORE: the row is not inserted yet (first other: none before it), still there
            # when deleted (last other: itself).
            "collaborator_insert": (
                "BEFORE",
                "INSERT",
                self.pc,
                None,
                self.collaborator_credit("NEW", "+", 0),
            ),
            "collaborator_delete": (
                "BEFORE",
                "DELETE",
                self.pc,
                None,
                self.collaborator_credit("OLD", "-", 1),
            ),
            "collaborator_update": (
                "BEFORE",
                "UPDATE",
                self.pc,
                pair_changed,
                [
                    *self.collaborator_credit("OLD", "-", 1),
                    *self.collaborator_credit("NEW", "+", 0, replacing="OLD"),
                ],
            ),
            "follow_insert": (
                "AFTER",
                "INSERT",
                self.follows,
                None,
                [*self.follow("NEW", "+"), self.follow_day("NEW", "+")],
            ),
            "follow_delete": (
                "AFTER",
                "DELETE",
                self.follows,
                None,
                [*self.follow("OLD", "-"), self.follow_day("OLD", "-")],
            ),
            "follow_update_day": (
                "AFTER",
                "UPDATE",
                self.follows,
                f"OLD.{self.f['followee_id']} <> NEW.{self.f['followee_id']}"
                f" OR {self.day('OLD.' + self.f['created_at'])}"
                f" IS DISTINCT FROM {self.day('NEW.' + self.f['created_at'])}"
                if self.postgres
                else f"OLD.{self.f['followee_id']} <> NEW.{self.f['followee_id']}"
                f" OR {self.day('OLD.' + self.f['created_at'])}"
                f" IS NOT {self.day('NEW.' + self.f['created_at'])}",
                [self.follow_day("OLD", "-"), self.follow_day("NEW", "+")],
            ),
            "follow_update": (
                "AFTER",
                "UPDATE",
                self.follows,
                f"OLD.{self.f['follower_id']} <> NEW.{self.f['follower_id']}"
                f" OR OLD.{self.f['followee_id']} <> NEW.{self.f['followee_id']}",
                [*self.follow("OLD", "-"), *self.follow("NEW", "+")],
            ),
        }

    def _when(self, condition: str, statements: list[str]) -> list[str]:
        """Statements that run only when `condition` holds on the trigger's row."""
        if self.postgres:
            return [f"IF {condition} THEN", *statements, "END IF;"]
        # SQLite trigger bodies have no IF: each statement is guarded by the condition instead.
        return [_guard(s, condition) for s in statements]


def _guard(statement: str, condition: str) -> str:
    """Add `condition` to an INSERT … SELECT / UPDATE … WHERE statement (SQLite bodies)."""
    body = statement.rstrip(";")
    if body.startswith("UPDATE"):
        return f"{body} AND {condition};"
    if " VALUES (" in body:
        head, values = body.split(" VALUES (", 1)
        return f"{head} SELECT {values[:-1]} WHERE {condition};"
    return f"{body} AND {condition};" if " WHERE " in body else f"{body} WHERE {condition};"


def _trigger_names(sql: _Sql) -> Iterator[tuple[str, str, str, str, str | None, list[str]]]:
    for name, (timing, event, table, condition, statements) in sql.triggers().items():
        yield f"{TRIGGER_PREFIX}_{name}", timing, event, table, condition, statements


def maintain(
    engine: Engine, target: DashboardTables = tables, *, stats_name: str = "artist_stats"
) -> ReconcileReport:
    """Create `artist_stats`, install the triggers, and fill the figures from the source rows.

    All in one transaction: either the figures are complete and kept, or nothing changed.
    Idempotent: running it again replaces the triggers and reconciles.
    """
    metadata = MetaData()
    stats, days = stats_table(metadata, stats_name), follow_days_table(metadata)
    target.metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            begin_sqlite(conn)  # else pysqlite runs the DDL outside the transaction
        metadata.create_all(conn, checkfirst=True)
        sql = _Sql(conn, target, stats, days)
        drop_library_triggers(conn)
        for name, timing, event, table, condition, statements in _trigger_names(sql):
            for ddl in _trigger_ddl(sql, name, timing, event, table, condition, statements):
                conn.exec_driver_sql(ddl)
        return _reconcile(conn, target, stats, days, fix=True)


def stop_maintaining(
    engine: Engine, target: DashboardTables = tables, *, stats_name: str = "artist_stats"
) -> None:
    """Remove the triggers and the `artist_stats` table; the store goes back to live figures."""
    metadata = MetaData()
    stats_table(metadata, stats_name), follow_days_table(metadata)
    with engine.begin() as conn:
        drop_library_triggers(conn)
    metadata.drop_all(engine, checkfirst=True)


def _trigger_ddl(
    sql: _Sql,
    name: str,
    timing: str,
    event: str,
    table: str,
    condition: str | None,
    statements: list[str],
) -> list[str]:
    if sql.postgres:
        body = "\n".join(statements)
        if condition:
            body = f"IF {condition} THEN\n{body}\nEND IF;"
        returns = "OLD" if event == "DELETE" else "NEW"
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}\nRETURN {returns};\nEND;\n$$",
            f"CREATE TRIGGER {name} {timing} {event} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    when = f" WHEN {condition}" if condition else ""
    return [
        f"CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH ROW{when}\nBEGIN\n"
        + "\n".join(statements)
        + "\nEND"
    ]


def _expected(target: DashboardTables) -> Select[Any]:
    """Every user's figures recounted from the source rows, with the live rules, in SQL."""
    posts, pc, follows = target.posts, target.post_collaborators, target.follows
    p, c, f = posts.c, pc.c, follows.c
    live = live_post(p.is_deleted, p.created_at)
    zero: ColumnElement[int] = literal_column("0")

    def row(user: Any, **values: Any) -> list[Any]:
        return [user.label("user_id"), *(values.get(k, zero).label(k) for k in STATS_FIGURES)]

    sums = {k: func.sum(clamped(p[k])) for k in rules.POST_COUNTERS}
    shared = pc.join(posts, p.id == c.post_id)
    others = and_(live, c.user_id != p.author_id)
    parts = union_all(
        select(*row(p.author_id, posts=func.count(), **sums)).where(live).group_by(p.author_id),
        select(*row(f.followee_id, followers=func.count())).group_by(f.followee_id),
        select(*row(f.follower_id, following=func.count())).group_by(f.follower_id),
        select(*row(p.author_id, collaborations=func.count(distinct(p.id))))
        .select_from(shared)
        .where(others)
        .group_by(p.author_id),
        select(*row(c.user_id, collaborations=func.count()))
        .select_from(shared)
        .where(others)
        .group_by(c.user_id),
    ).subquery("parts")
    return select(
        parts.c.user_id, *(func.sum(parts.c[k]).label(k) for k in STATS_FIGURES)
    ).group_by(parts.c.user_id)


def reconcile(
    engine: Engine,
    target: DashboardTables = tables,
    *,
    stats_name: str = "artist_stats",
    fix: bool = True,
) -> ReconcileReport:
    """Recompute every user's figures from the source rows; report (and fix) any drift.

    The work happens in the database — the recount goes to a temporary table, drift is found
    with EXCEPT both ways, and fixed with two statements — so it needs no memory in Python
    whatever the number of users.
    """
    metadata = MetaData()
    stats, days = stats_table(metadata, stats_name), follow_days_table(metadata)
    with engine.begin() as conn:
        return _reconcile(conn, target, stats, days, fix=fix)


def _reconcile(
    conn: Connection, target: DashboardTables, stats: Table, days: Table, *, fix: bool
) -> ReconcileReport:
    figures = ", ".join(STATS_FIGURES)
    nonzero = " OR ".join(f"{k} <> 0" for k in STATS_FIGURES)
    q = conn.dialect.identifier_preparer
    stored = q.format_table(stats)
    expected = _expected(target).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}
    )
    conn.exec_driver_sql("DROP TABLE IF EXISTS artist_dashboard_expected")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE artist_dashboard_expected AS {expected}")
    sql = _Sql(conn, target, stats, days)
    follows, created, followee = sql.follows, sql.f["created_at"], sql.f["followee_id"]
    conn.exec_driver_sql("DROP TABLE IF EXISTS artist_dashboard_expected_days")
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE artist_dashboard_expected_days AS"
        f" SELECT {followee} AS user_id, {sql.day(created)} AS day, count(*) AS follows"
        f" FROM {follows} WHERE {created} IS NOT NULL GROUP BY {followee}, {sql.day(created)}"
    )
    conn.exec_driver_sql("DROP TABLE IF EXISTS artist_dashboard_drift")
    # A stored row of zeros is the same as no row (an artist who lost every follower).
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE artist_dashboard_drift AS SELECT DISTINCT user_id FROM ("
        f" SELECT user_id, {figures} FROM artist_dashboard_expected WHERE {nonzero}"
        f" EXCEPT SELECT user_id, {figures} FROM {stored} WHERE {nonzero}"
        ") AS missing UNION SELECT DISTINCT user_id FROM ("
        f" SELECT user_id, {figures} FROM {stored} WHERE {nonzero}"
        f" EXCEPT SELECT user_id, {figures} FROM artist_dashboard_expected WHERE {nonzero}"
        ") AS wrong UNION SELECT DISTINCT user_id FROM ("
        " SELECT user_id, day, follows FROM artist_dashboard_expected_days"
        f" EXCEPT SELECT user_id, day, follows FROM {sql.days} WHERE follows <> 0"
        ") AS missing_days UNION SELECT DISTINCT user_id FROM ("
        f" SELECT user_id, day, follows FROM {sql.days} WHERE follows <> 0"
        " EXCEPT SELECT user_id, day, follows FROM artist_dashboard_expected_days"
        ") AS wrong_days"
    )
    drifted = int(conn.exec_driver_sql("SELECT count(*) FROM artist_dashboard_drift").scalar_one())
    sample = (
        conn.exec_driver_sql("SELECT user_id FROM artist_dashboard_drift ORDER BY user_id LIMIT 50")
        .scalars()
        .all()
    )
    checked = int(
        conn.exec_driver_sql(
            f"SELECT count(*) FROM (SELECT user_id FROM artist_dashboard_expected"
            f" UNION SELECT user_id FROM {stored}) AS everyone"
        ).scalar_one()
    )
    if fix and drifted:
        drift = "SELECT user_id FROM artist_dashboard_drift"
        conn.exec_driver_sql(f"DELETE FROM {stored} WHERE user_id IN ({drift})")
        conn.exec_driver_sql(
            f"INSERT INTO {stored} (user_id, {figures}) SELECT user_id, {figures}"
            f" FROM artist_dashboard_expected WHERE user_id IN ({drift})"
        )
        conn.exec_driver_sql(f"DELETE FROM {sql.days} WHERE user_id IN ({drift})")
        conn.exec_driver_sql(
            f"INSERT INTO {sql.days} (user_id, day, follows) SELECT user_id, day, follows"
            f" FROM artist_dashboard_expected_days WHERE user_id IN ({drift})"
        )
    conn.exec_driver_sql("DROP TABLE artist_dashboard_expected_days")
    conn.exec_driver_sql("DROP TABLE artist_dashboard_drift")
    conn.exec_driver_sql("DROP TABLE artist_dashboard_expected")
    return ReconcileReport(checked=checked, drifted=drifted, sample=tuple(str(u) for u in sample))
