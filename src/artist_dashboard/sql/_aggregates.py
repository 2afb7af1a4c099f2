"""SQL adapter: maintained aggregates, per-artist figures kept exact by database triggers.

`artist_stats` holds, per user, the post count and counter sums over their live posts, their
follower and following counts, and their collaborations — the figures whose live aggregation
grows with the artist — and `artist_follow_days` the new follows per artist and UTC day. The
triggers (`_triggers`) keep them exact as the team's own application writes posts,
collaborators and follows, so a dashboard reads them with a key lookup.

`maintain` installs everything in one transaction and fills the figures; `reconcile`
recomputes them from the source rows, with writers' commits held for the moment, and reports
(and fixes) any drift; `stop_maintaining` removes it all.
"""

from __future__ import annotations

from typing import Any

import attrs
from attrs import frozen
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    Select,
    String,
    Table,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from .._core import rules
from ._audience import AudienceSql, create_viewer_index, drop_viewer_index
from ._catalog import begin_sqlite, drop_library_triggers, existing, naive_times
from ._schema import (
    _ID,
    _SUM,
    STATS_FIGURES,
    DashboardTables,
    audience_table,
    clamped,
    credit_pairs,
    follow_days_table,
    live_post,
    post_credits_table,
    require_plain_tables,
    stats_table,
    tables,
)
from ._triggers import (
    STASHED,
    Aux,
    Fragments,
    author_copy_repair,
    postgres_program,
    sqlite_program,
    stale_author_copies,
    utc_day,
)


@frozen
class ReconcileReport:
    """What `reconcile` found: users checked, how many had drifted, and up to 50 of them."""

    checked: int
    drifted: int
    sample: tuple[str, ...]


_VIEWED_KINDS = {"post_view_events": "view", "post_play_events": "play"}


def _viewed(conn: Connection | None, target: DashboardTables) -> tuple[Table, ...]:
    """The view and play tables the database has (all that could be, without `conn`)."""
    candidates = (target.view_events, target.play_events)
    return tuple(candidates if conn is None else existing(conn, candidates))


def _aux(
    target: DashboardTables, postgres: bool, stats_name: str, viewed: tuple[Table, ...]
) -> Aux:
    """The library's own tables, for one database with the `viewed` event tables."""
    metadata = MetaData()
    stats, days = stats_table(metadata, stats_name), follow_days_table(metadata)
    credits = post_credits_table(metadata)
    kinds = tuple(
        kind for name, kind in _VIEWED_KINDS.items() if target.source(name) in set(viewed)
    )
    viewed = tuple(target.source(name) for name in _VIEWED_KINDS if target.source(name) in viewed)
    audience = audience_table(metadata) if viewed else None
    if postgres:
        pending = Table(
            "artist_pending",
            metadata,
            Column("xid", BigInteger, nullable=False),
            Column("source", String(1), nullable=False),
            Column("user_id", _ID),
            Column("day", String(10)),
            Column("post_id", _ID),
            Column("viewer_id", _ID),
            *(
                Column(k, _SUM if k in rules.POST_COUNTERS else BigInteger, server_default="0")
                for k in (*STATS_FIGURES, "follows")
            ),
        )
        Index("ix_artist_pending_xid", pending.c.xid)
        guard = Table(
            "artist_post_guard",
            metadata,
            Column("post_id", _ID, primary_key=True),
            Column("settled", BigInteger, nullable=False, server_default="0"),
        )
        settle = Table("artist_settle", metadata, Column("xid", BigInteger, primary_key=True))
        return Aux(
            stats,
            days,
            credits,
            pending=pending,
            guard=guard,
            settle=settle,
            viewed=viewed,
            viewed_kinds=kinds,
            audience=audience,
        )
    posts, follows = target.posts, target.follows

    def stash(name: str, source: Table, keys: tuple[str, ...], key: tuple[str, ...]) -> Table:
        return Table(
            name,
            metadata,
            *(Column(k, source.c[k].type, primary_key=k in key) for k in keys),
        )

    return Aux(
        stats,
        days,
        credits,
        stash_posts=stash("artist_stash_posts", posts, STASHED["posts"], ("id",)),
        stash_follows=stash(
            "artist_stash_follows", follows, STASHED["follows"], ("follower_id", "followee_id")
        ),
        stash_viewed=tuple(
            stash(f"artist_stash_{kind}_events", table, ("id", "post_id", "user_id"), ("id",))
            for kind, table in zip(kinds, viewed, strict=True)
        ),
        viewed=viewed,
        viewed_kinds=kinds,
        audience=audience,
    )


def _tables(aux: Aux) -> list[Table]:
    return [
        t
        for t in (
            aux.stats,
            aux.days,
            aux.credits,
            aux.pending,
            aux.guard,
            aux.settle,
            aux.stash_posts,
            aux.stash_follows,
            aux.audience,
            *aux.stash_viewed,
        )
        if t is not None
    ]


def maintain(
    engine: Engine, target: DashboardTables = tables, *, stats_name: str = "artist_stats"
) -> ReconcileReport:
    """Create the tables, install the triggers, and fill the figures from the source rows.

    All in one transaction, with writes to the source tables held until it commits: either
    the figures are complete and kept, or nothing changed. Running it again rebuilds
    everything (so an older version's tables and triggers are replaced).
    """
    require_plain_tables(target, "the maintained aggregates")
    target.metadata.create_all(engine, checkfirst=True)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        aux = _aux(target, postgres, stats_name, _viewed(conn, target))
        if postgres:
            names = ", ".join(
                conn.dialect.identifier_preparer.format_table(t)
                for t in (target.posts, target.post_collaborators, target.follows, *aux.viewed)
            )
            conn.exec_driver_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        else:
            begin_sqlite(conn, immediate=True)
        drop_library_triggers(conn)
        for table in reversed(_tables(_aux(target, postgres, stats_name, _viewed(None, target)))):
            table.drop(conn, checkfirst=True)
        for table in _tables(aux):
            table.create(conn)
        for table in aux.viewed:
            create_viewer_index(conn, table)
        program = postgres_program if postgres else sqlite_program
        for ddl in program(conn, target, aux):
            conn.exec_driver_sql(ddl)
        return _reconcile(conn, target, aux, fix=True)


def stop_maintaining(
    engine: Engine, target: DashboardTables = tables, *, stats_name: str = "artist_stats"
) -> None:
    """Remove the triggers and the library's tables; the store goes back to live figures."""
    postgres = engine.dialect.name == "postgresql"
    aux = _aux(target, postgres, stats_name, _viewed(None, target))
    with engine.begin() as conn:
        if not postgres:
            begin_sqlite(conn, immediate=True)
        drop_library_triggers(conn)
        for table in reversed(_tables(aux)):
            table.drop(conn, checkfirst=True)
        for table in existing(conn, aux.viewed):
            drop_viewer_index(conn, table)


def reconcile(
    engine: Engine,
    target: DashboardTables = tables,
    *,
    stats_name: str = "artist_stats",
    fix: bool = True,
) -> ReconcileReport:
    """Recompute every user's figures from the source rows; report (and fix) any drift.

    Safe while the application writes: on PostgreSQL it first takes the library's tables in
    EXCLUSIVE mode (in the order the triggers take them), so writers' statements go on but
    their commits wait until the recount is done and nothing committed in between is lost;
    SQLite's one writer is held by ``BEGIN IMMEDIATE``. The work happens in the database
    (temporary tables, EXCEPT both ways), whatever the number of users.
    """
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        aux = _aux(target, postgres, stats_name, _viewed(conn, target))
        if aux.audience is not None and not existing(conn, [aux.audience]):
            # Installed before the database had events: there is no audience to check.
            aux = attrs.evolve(aux, viewed=(), viewed_kinds=(), audience=None, stash_viewed=())
        if postgres:
            held = [aux.guard, aux.credits, aux.audience, aux.stats, aux.days]
            names = ", ".join(
                conn.dialect.identifier_preparer.format_table(t) for t in held if t is not None
            )
            conn.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
        else:
            begin_sqlite(conn, immediate=True)
        return _reconcile(conn, target, aux, fix=fix)


def _expected(target: DashboardTables) -> Select[Any]:
    """Every user's figures recounted from the source rows, with the live rules, in SQL."""
    posts, follows = target.posts, target.follows
    p, f = posts.c, follows.c
    live = live_post(p.is_deleted, p.created_at)
    zero: ColumnElement[int] = literal_column("0")

    def row(user: Any, **values: Any) -> list[Any]:
        return [user.label("user_id"), *(values.get(k, zero).label(k) for k in STATS_FIGURES)]

    sums = {k: func.sum(clamped(p[k])) for k in rules.POST_COUNTERS}
    pairs = credit_pairs(target).subquery("pairs")
    parts = union_all(
        select(*row(p.author_id, posts=func.count(), **sums)).where(live).group_by(p.author_id),
        select(*row(f.followee_id, followers=func.count())).group_by(f.followee_id),
        select(*row(f.follower_id, following=func.count())).group_by(f.follower_id),
        select(*row(pairs.c.user_id, collaborations=func.count())).group_by(pairs.c.user_id),
    ).subquery("parts")
    return select(
        parts.c.user_id, *(func.sum(parts.c[k]).label(k) for k in STATS_FIGURES)
    ).group_by(parts.c.user_id)


def _reconcile(
    conn: Connection, target: DashboardTables, aux: Aux, *, fix: bool
) -> ReconcileReport:
    q = conn.dialect.identifier_preparer
    stats, days, credits = (q.format_table(t) for t in (aux.stats, aux.days, aux.credits))
    figures = ", ".join(STATS_FIGURES)
    nonzero = " OR ".join(f"{k} <> 0" for k in STATS_FIGURES)

    def compiled(statement: Any) -> str:
        return str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))

    follows = target.follows
    f = follows.c
    created = f"{conn.dialect.identifier_preparer.format_table(follows)}.{f.created_at.name}"
    naive = naive_times(conn, follows, "created_at")
    day: ColumnElement[str] = literal_column(utc_day(conn.dialect.name, created, naive=naive))
    expected_days = (
        select(f.followee_id.label("user_id"), day.label("day"), func.count().label("follows"))
        .where(f.created_at.is_not(None))
        .group_by(f.followee_id, day)
    )
    work = {
        "artist_dashboard_expected": compiled(_expected(target)),
        "artist_dashboard_expected_days": compiled(expected_days),
        "artist_dashboard_expected_credits": compiled(credit_pairs(target)),
    }
    audience = AudienceSql(conn, target, aux.viewed) if aux.audience is not None else None
    if audience is not None:
        work["artist_dashboard_expected_audience"] = audience.expected()
    for name, query in work.items():
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS {query}")

    def both_ways(columns: str, left: str, right: str) -> str:
        """Users in rows of one side that the other lacks (a row of zeros is no row)."""
        return (
            f"SELECT DISTINCT user_id FROM (SELECT {columns} FROM {left}"
            f" EXCEPT SELECT {columns} FROM {right}) AS a"
            f" UNION SELECT DISTINCT user_id FROM (SELECT {columns} FROM {right}"
            f" EXCEPT SELECT {columns} FROM {left}) AS b"
        )

    program = Fragments(conn, target, aux)
    stale = stale_author_copies(program) if program.knows_author else None
    conn.exec_driver_sql("DROP TABLE IF EXISTS artist_dashboard_drift")
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE artist_dashboard_drift AS "
        + both_ways(
            f"user_id, {figures}",
            f"(SELECT * FROM artist_dashboard_expected WHERE {nonzero}) AS e",
            f"(SELECT * FROM {stats} WHERE {nonzero}) AS s",
        )
        + " UNION "
        + both_ways(
            "user_id, day, follows",
            "artist_dashboard_expected_days",
            f"(SELECT * FROM {days} WHERE follows <> 0) AS d",
        )
        + " UNION "
        + both_ways("post_id, user_id", "artist_dashboard_expected_credits", credits)
        + (f" UNION SELECT author_id FROM ({stale}) AS stale" if stale else "")
        + (
            " UNION "
            + both_ways(
                "artist_id AS user_id, user_id AS person, last_seen, follower",
                "artist_dashboard_expected_audience",
                f"(SELECT * FROM {q.format_table(aux.audience)}"
                " WHERE last_seen IS NOT NULL OR follower) AS a",
            )
            if audience is not None and aux.audience is not None
            else ""
        )
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
            f" UNION SELECT user_id FROM {stats}) AS everyone"
        ).scalar_one()
    )
    if fix and drifted:
        drift = "SELECT user_id FROM artist_dashboard_drift"
        conn.exec_driver_sql(f"DELETE FROM {stats} WHERE user_id IN ({drift})")
        conn.exec_driver_sql(
            f"INSERT INTO {stats} (user_id, {figures}) SELECT user_id, {figures}"
            f" FROM artist_dashboard_expected WHERE user_id IN ({drift})"
        )
        conn.exec_driver_sql(f"DELETE FROM {days} WHERE user_id IN ({drift})")
        conn.exec_driver_sql(
            f"INSERT INTO {days} (user_id, day, follows) SELECT user_id, day, follows"
            f" FROM artist_dashboard_expected_days WHERE user_id IN ({drift})"
        )
        conn.exec_driver_sql(f"DELETE FROM {credits}")
        conn.exec_driver_sql(
            f"INSERT INTO {credits} (post_id, user_id)"
            " SELECT post_id, user_id FROM artist_dashboard_expected_credits"
        )
        if stale:
            conn.exec_driver_sql(author_copy_repair(program))
        if aux.audience is not None:
            kept = q.format_table(aux.audience)
            conn.exec_driver_sql(f"DELETE FROM {kept} WHERE artist_id IN ({drift})")
            conn.exec_driver_sql(
                f"INSERT INTO {kept} (artist_id, user_id, last_seen, follower)"
                " SELECT artist_id, user_id, last_seen, follower"
                f" FROM artist_dashboard_expected_audience WHERE artist_id IN ({drift})"
            )
    if fix and aux.audience is not None:
        # People who neither follow nor were seen any more (the triggers leave their rows).
        conn.exec_driver_sql(
            f"DELETE FROM {q.format_table(aux.audience)} WHERE last_seen IS NULL AND NOT follower"
        )
    for name in ("artist_dashboard_drift", *reversed(work)):
        conn.exec_driver_sql(f"DROP TABLE {name}")
    return ReconcileReport(checked=checked, drifted=drifted, sample=tuple(str(u) for u in sample))
