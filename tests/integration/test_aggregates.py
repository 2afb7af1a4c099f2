"""The maintained aggregates under random writes, as a team's own application makes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, create_engine, delete, insert, select, update
from sqlalchemy.pool import StaticPool

from artist_dashboard.sql import (
    SqlStore,
    TableMap,
    dashboard_tables,
    maintain,
    reconcile,
    stop_maintaining,
    tables,
)

NOW = datetime(2026, 6, 8, tzinfo=UTC)
USERS = ["a", "b", "c", "d"]
POSTS = [f"p{n}" for n in range(6)]
users = st.sampled_from(USERS)
post_ids = st.sampled_from(POSTS)
counter = st.one_of(st.integers(0, 50), st.integers(-3, -1), st.none())
deleted = st.one_of(st.booleans(), st.none())
P, C, F = tables.posts, tables.post_collaborators, tables.follows
#: The events without their copy of the post's author (the store joins posts instead), so
#: that posts changing hands here need no help from the application.
JOINED = dashboard_tables(
    view_events=TableMap("post_view_events", {"author_id": None}),
    play_events=TableMap("post_play_events", {"author_id": None}),
)
VIEWED = {"view": JOINED.view_events, "play": JOINED.play_events}
viewers = st.sampled_from([*USERS, "z", "", None])
event_ids = st.sampled_from([f"e{n}" for n in range(8)])
HOUR = timedelta(hours=1)
#: Windows with edges on and off midnight, spanning no, one and many whole days.
WINDOWS = [
    (NOW - timedelta(days=7), NOW),
    (NOW - timedelta(days=30), NOW),
    (NOW - timedelta(days=3) - 5 * HOUR, NOW - HOUR),
    (NOW - 20 * HOUR, NOW - 2 * HOUR),
    (NOW - timedelta(days=1), NOW - timedelta(microseconds=1)),
]


def machine(engine: Engine) -> type[RuleBasedStateMachine]:
    class AggregatesStayExact(RuleBasedStateMachine):
        """Random inserts, updates, deletes, undeletes, author changes, collaborator changes,
        follows and unfollows; after each, the maintained figures equal a fresh recount and
        the maintained store answers as the live one."""

        def __init__(self) -> None:
            super().__init__()
            stop_maintaining(engine, JOINED)
            JOINED.sources_metadata.drop_all(engine)
            tables.metadata.drop_all(engine)
            JOINED.metadata.create_all(engine)
            JOINED.sources_metadata.create_all(engine, tables=list(VIEWED.values()))
            maintain(engine, JOINED)
            self.live = SqlStore(engine, JOINED, maintained=False)
            self.kept = SqlStore(engine, JOINED, maintained=True)
            assert self.kept.audience_maintained

        def _write(self, statement: Any) -> None:
            with engine.begin() as conn:
                conn.execute(statement)

        def _post(self, post_id: str) -> Any:
            with engine.connect() as conn:
                return conn.execute(select(P).where(P.c.id == post_id)).first()

        @rule(
            post_id=post_ids,
            author=users,
            likes=counter,
            views=counter,
            gone=deleted,
            days=st.integers(0, 40),
        )
        def insert_post(
            self, post_id: str, author: str, likes: Any, views: Any, gone: Any, days: int
        ) -> None:
            if self._post(post_id) is None:
                self._write(
                    insert(P).values(
                        id=post_id,
                        author_id=author,
                        likes_count=likes,
                        view_count=views,
                        is_deleted=gone,
                        created_at=NOW - timedelta(days=days),
                    )
                )

        @rule(post_id=post_ids, likes=counter, shares=counter)
        def update_counters(self, post_id: str, likes: Any, shares: Any) -> None:
            self._write(
                update(P).where(P.c.id == post_id).values(likes_count=likes, shares_count=shares)
            )

        @rule(post_id=post_ids, gone=deleted)
        def delete_or_undelete(self, post_id: str, gone: Any) -> None:
            self._write(update(P).where(P.c.id == post_id).values(is_deleted=gone))

        @rule(post_id=post_ids, author=users)
        def change_author(self, post_id: str, author: str) -> None:
            self._write(update(P).where(P.c.id == post_id).values(author_id=author))

        @rule(post_id=post_ids)
        def remove_post(self, post_id: str) -> None:
            self._write(delete(C).where(C.c.post_id == post_id))
            self._write(delete(P).where(P.c.id == post_id))

        @rule(post_id=post_ids, user=users)
        def add_collaborator(self, post_id: str, user: str) -> None:
            post = self._post(post_id)
            with engine.connect() as conn:
                there = conn.execute(
                    select(C).where(C.c.post_id == post_id, C.c.user_id == user)
                ).first()
            if post is not None and there is None:
                self._write(
                    insert(C).values(post_id=post_id, user_id=user, author_id=post.author_id)
                )

        @rule(post_id=post_ids, user=users)
        def remove_collaborator(self, post_id: str, user: str) -> None:
            self._write(delete(C).where(C.c.post_id == post_id, C.c.user_id == user))

        @rule(post_id=post_ids, old=users, new=users)
        def swap_collaborator(self, post_id: str, old: str, new: str) -> None:
            with engine.connect() as conn:
                taken = conn.execute(
                    select(C).where(C.c.post_id == post_id, C.c.user_id == new)
                ).first()
            if taken is None:
                self._write(
                    update(C).where(C.c.post_id == post_id, C.c.user_id == old).values(user_id=new)
                )

        @rule(follower=users, followee=users, days=st.integers(0, 40), hours=st.integers(0, 23))
        def follow(self, follower: str, followee: str, days: int, hours: int) -> None:
            with engine.connect() as conn:
                there = conn.execute(
                    select(F).where(F.c.follower_id == follower, F.c.followee_id == followee)
                ).first()
            when = NOW - timedelta(days=days, hours=hours)
            if there is None:
                self._write(
                    insert(F).values(follower_id=follower, followee_id=followee, created_at=when)
                )
            else:
                self._write(
                    update(F)
                    .where(F.c.follower_id == follower, F.c.followee_id == followee)
                    .values(created_at=when)
                )

        @rule(follower=users, followee=users)
        def unfollow(self, follower: str, followee: str) -> None:
            self._write(delete(F).where(F.c.follower_id == follower, F.c.followee_id == followee))

        @rule(
            kind=st.sampled_from(sorted(VIEWED)),
            event_id=event_ids,
            post_id=st.sampled_from([*POSTS, "unknown"]),
            viewer=viewers,
            hours=st.integers(-2, 24 * 40),
        )
        def view_or_play(
            self, kind: str, event_id: str, post_id: str, viewer: Any, hours: int
        ) -> None:
            """A new event, or one already there moved to another post, viewer or time (an
            hour before NOW or later is in the future)."""
            table = VIEWED[kind]
            values = {"post_id": post_id, "user_id": viewer, "created_at": NOW - hours * HOUR}
            with engine.connect() as conn:
                there = conn.execute(select(table).where(table.c.id == event_id)).first()
            if there is None:
                self._write(insert(table).values(id=event_id, **values))
            else:
                self._write(update(table).where(table.c.id == event_id).values(**values))

        @rule(kind=st.sampled_from(sorted(VIEWED)), event_id=event_ids)
        def remove_event(self, kind: str, event_id: str) -> None:
            table = VIEWED[kind]
            self._write(delete(table).where(table.c.id == event_id))

        @invariant()
        def figures_equal_a_recount(self) -> None:
            assert reconcile(engine, JOINED, fix=False).drifted == 0
            reference = _reference(engine, JOINED)
            for user in USERS:
                for after, until in WINDOWS:
                    expected = reference.count_non_followers(user, after, until)
                    assert self.kept.count_non_followers(user, after, until) == expected, user
                    assert self.live.count_non_followers(user, after, until) == expected, user
                    assert_audience_alone(self.kept, user, after, until, expected)
            for user in USERS:
                for method in ("post_totals", "count_collaborations"):
                    assert getattr(self.kept, method)(user) == getattr(self.live, method)(user), (
                        method
                    )
                for method in ("count_followers", "count_following"):
                    assert getattr(self.kept, method)(user) == getattr(self.live, method)(user), (
                        method
                    )

    return AggregatesStayExact


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = create_engine("sqlite://", poolclass=StaticPool)
    else:
        made = create_engine(request.getfixturevalue("postgres_url"))
    yield made
    stop_maintaining(made)
    tables.sources_metadata.drop_all(made)
    tables.metadata.drop_all(made)
    made.dispose()


def test_maintained_figures_stay_exact_under_random_writes(engine: Engine) -> None:
    """A stateful Hypothesis run: every step is followed by a recount that must agree."""
    run_state_machine_as_test(
        machine(engine),
        settings=settings(
            max_examples=40 if engine.dialect.name == "sqlite" else 15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_reconcile_finds_and_fixes_drift(engine: Engine) -> None:
    """Rows written while the triggers were off drift; reconcile reports and fixes them."""
    tables.metadata.create_all(engine)
    maintain(engine)
    with engine.begin() as conn:
        conn.execute(insert(P).values(id="p", author_id="a", created_at=NOW, likes_count=3))
    stop_maintaining(engine)
    maintain(engine)  # reinstalling reconciles: the figures are right again
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE artist_stats SET likes_count = 99 WHERE user_id = 'a'")
    report = reconcile(engine)
    assert (report.drifted, report.sample) == (1, ("a",))
    assert reconcile(engine, fix=False).drifted == 0
    assert SqlStore(engine).post_totals("a").likes_count == 3


def test_a_failed_install_leaves_nothing_behind(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Triggers and the first fill are one transaction: if filling fails, no trigger stays
    to make the store read figures that were never filled."""
    from artist_dashboard.sql import _aggregates

    tables.metadata.create_all(engine)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the recount failed")

    monkeypatch.setattr(_aggregates, "_reconcile", broken)
    with pytest.raises(RuntimeError):
        maintain(engine)
    assert SqlStore(engine).maintained is False


def test_several_collaborators_changed_by_one_statement(engine: Engine) -> None:
    """One DELETE or INSERT touching several collaborators of a post credits its author once
    (PostgreSQL runs AFTER ROW triggers only once the whole statement is done)."""
    tables.metadata.create_all(engine)
    maintain(engine)
    with engine.begin() as conn:
        conn.execute(insert(P).values(id="p", author_id="a", created_at=NOW))
        conn.execute(
            insert(C), [{"post_id": "p", "user_id": u, "author_id": "a"} for u in ("b", "c")]
        )
    assert SqlStore(engine).count_collaborations("a") == 1
    with engine.begin() as conn:
        conn.execute(delete(C).where(C.c.post_id == "p"))
    assert SqlStore(engine).count_collaborations("a") == 0
    assert reconcile(engine, fix=False).drifted == 0


# --- every way an application writes: upserts, REPLACE, MERGE, TRUNCATE -------------------

#: A small world: a1 authors p1 (with b as collaborator) and p2; b authors a deleted p3 with
#: a1 as collaborator; c follows a1, d follows a1, a1 follows b.
BASE = [
    "INSERT INTO posts (id, author_id, created_at, likes_count, view_count, is_deleted)"
    " VALUES ('p1', 'a1', {t}, 5, 10, {f}), ('p2', 'a1', {t}, 1, 3, {f}),"
    " ('p3', 'b', {t}, 7, 7, {tr})",
    "INSERT INTO post_collaborators (post_id, user_id, author_id)"
    " VALUES ('p1', 'b', 'a1'), ('p3', 'a1', 'b')",
    "INSERT INTO follows (follower_id, followee_id, created_at)"
    " VALUES ('c', 'a1', {t}), ('d', 'a1', {t}), ('a1', 'b', {t})",
    # Viewed by a follower, a non-follower, the artist, anonymously; a follower of b's.
    "INSERT INTO post_view_events (id, post_id, author_id, user_id, created_at)"
    " VALUES ('v1', 'p1', 'a1', 'c', {t}), ('v2', 'p1', 'a1', 'e', {t}),"
    " ('v3', 'p3', 'b', 'a1', {t}), ('v4', 'p2', 'a1', NULL, {t}), ('v5', 'p1', 'a1', 'a1', {t})",
    "INSERT INTO post_play_events (id, post_id, author_id, user_id, created_at)"
    " VALUES ('y1', 'p2', 'a1', 'e', {t}), ('y2', 'p3', 'b', 'd', {t})",
]
PEOPLE = ["a1", "b", "c", "d", "e"]
UPSERTS = {
    "collaborator on conflict do nothing": (
        "INSERT INTO post_collaborators VALUES ('p1', 'b', 'a1'), ('p2', 'e', 'a1')"
        " ON CONFLICT DO NOTHING"
    ),
    "collaborator on conflict do update": (
        "INSERT INTO post_collaborators VALUES ('p1', 'b', 'a1'), ('p2', 'b', 'a1')"
        " ON CONFLICT (post_id, user_id) DO UPDATE SET author_id = excluded.author_id"
    ),
    "post on conflict do update": (
        "INSERT INTO posts (id, author_id, created_at, likes_count, is_deleted)"
        " VALUES ('p1', 'b', {t}, 9, {f}), ('p3', 'b', {t}, 2, {f}), ('p4', 'e', {t}, 1, {f})"
        " ON CONFLICT (id) DO UPDATE SET author_id = excluded.author_id,"
        " likes_count = excluded.likes_count, is_deleted = excluded.is_deleted"
    ),
    "post on conflict do nothing": (
        "INSERT INTO posts (id, author_id, created_at, likes_count)"
        " VALUES ('p1', 'e', {t}, 99), ('p5', 'e', {t}, 4) ON CONFLICT DO NOTHING"
    ),
    "follow on conflict do update": (
        "INSERT INTO follows VALUES ('c', 'a1', {t2}), ('e', 'a1', {t2})"
        " ON CONFLICT (follower_id, followee_id) DO UPDATE SET created_at = excluded.created_at"
    ),
    "follow on conflict do nothing": (
        "INSERT INTO follows VALUES ('c', 'a1', {t2}), ('e', 'b', {t2}) ON CONFLICT DO NOTHING"
    ),
    "a non-follower follows": "INSERT INTO follows VALUES ('e', 'a1', {t2})",
    "view on conflict do update": (
        "INSERT INTO post_view_events (id, post_id, author_id, user_id, created_at)"
        " VALUES ('v2', 'p3', 'b', 'e', {t2}), ('v9', 'p2', 'a1', 'b', {t2})"
        " ON CONFLICT (id) DO UPDATE SET post_id = excluded.post_id,"
        " author_id = excluded.author_id, user_id = excluded.user_id"
    ),
    "play on conflict do nothing": (
        "INSERT INTO post_play_events (id, post_id, author_id, user_id, created_at)"
        " VALUES ('y1', 'p1', 'a1', 'b', {t2}), ('y9', 'p2', 'a1', 'b', {t2})"
        " ON CONFLICT DO NOTHING"
    ),
    "events deleted, made anonymous and moved": (
        "DELETE FROM post_view_events WHERE id = 'v2';"
        " UPDATE post_play_events SET user_id = NULL WHERE id = 'y1';"
        " UPDATE post_play_events SET post_id = 'p1', author_id = 'a1' WHERE id = 'y2'"
    ),
    "a post deleted, then its events, in one transaction": (
        "DELETE FROM post_collaborators WHERE post_id = 'p3'; DELETE FROM posts WHERE id = 'p3';"
        " DELETE FROM post_view_events WHERE post_id = 'p3';"
        " DELETE FROM post_play_events WHERE post_id = 'p3'"
    ),
    "a post handed over, then its events deleted, in one transaction": (
        "UPDATE posts SET author_id = 'e' WHERE id = 'p3';"
        " DELETE FROM post_view_events WHERE post_id = 'p3'"
    ),
    "a viewed post deleted, and one with viewers of its own": (
        "DELETE FROM post_collaborators WHERE post_id IN ('p1', 'p3');"
        " DELETE FROM posts WHERE id IN ('p1', 'p3')"
    ),
}
SQLITE_ONLY = {
    "insert or ignore, each table": (
        "INSERT OR IGNORE INTO post_collaborators VALUES ('p1', 'b', 'a1');"
        " INSERT OR IGNORE INTO posts (id, author_id, created_at) VALUES ('p1', 'e', {t});"
        " INSERT OR IGNORE INTO follows VALUES ('c', 'a1', {t2})"
    ),
    "insert or replace follows": "INSERT OR REPLACE INTO follows VALUES ('c', 'a1', {t2})",
    "insert or replace posts": (
        "INSERT OR REPLACE INTO posts (id, author_id, created_at, likes_count)"
        " VALUES ('p1', 'e', {t}, 2)"
    ),
    "replace into collaborators": "REPLACE INTO post_collaborators VALUES ('p1', 'b', 'a1')",
    "replace into follows, new and existing": (
        "REPLACE INTO follows VALUES ('d', 'a1', {t2}), ('e', 'a1', {t2})"
    ),
    "insert or replace view events": (
        "INSERT OR REPLACE INTO post_view_events (id, post_id, author_id, user_id, created_at)"
        " VALUES ('v2', 'p3', 'b', 'c', {t2}), ('v8', 'p2', 'a1', 'd', {t2})"
    ),
    "replace into play events": (
        "REPLACE INTO post_play_events (id, post_id, author_id, user_id, created_at)"
        " VALUES ('y1', 'p3', 'b', 'e', {t2})"
    ),
    "insert or replace a viewer's only event": (
        "INSERT OR REPLACE INTO post_play_events (id, post_id, author_id, user_id, created_at)"
        " VALUES ('y2', 'p2', 'a1', 'c', {t2})"
    ),
}
POSTGRES_ONLY = {
    "merge posts": (
        "MERGE INTO posts AS p USING (VALUES ('p1', 'e', 3), ('p6', 'e', 8)) AS v(id, a, l)"
        " ON p.id = v.id WHEN MATCHED THEN UPDATE SET author_id = v.a, likes_count = v.l"
        " WHEN NOT MATCHED THEN INSERT (id, author_id, created_at, likes_count)"
        " VALUES (v.id, v.a, {t}, v.l)"
    ),
    "merge deletes collaborators": (
        "MERGE INTO post_collaborators AS c USING (VALUES ('p1', 'b')) AS v(post, usr)"
        " ON c.post_id = v.post AND c.user_id = v.usr WHEN MATCHED THEN DELETE"
    ),
    "truncate posts after an insert": (
        "INSERT INTO posts (id, author_id, created_at) VALUES ('p7', 'e', {t}); TRUNCATE posts"
    ),
    "truncate collaborators": "TRUNCATE post_collaborators",
    "truncate follows after an insert": (
        "INSERT INTO follows VALUES ('e', 'a1', {t}); TRUNCATE follows"
    ),
    "merge view events": (
        "MERGE INTO post_view_events AS e USING (VALUES ('v1', 'e'), ('v7', 'b')) AS v(id, usr)"
        " ON e.id = v.id WHEN MATCHED THEN UPDATE SET user_id = v.usr"
        " WHEN NOT MATCHED THEN INSERT (id, post_id, author_id, user_id, created_at)"
        " VALUES (v.id, 'p2', 'a1', v.usr, {t})"
    ),
    "truncate view events after an insert": (
        "INSERT INTO post_view_events (id, post_id, author_id, user_id, created_at)"
        " VALUES ('v7', 'p2', 'a1', 'b', {t}); TRUNCATE post_view_events"
    ),
}


def install_world(engine: Engine) -> None:
    """The core tables and the view and play events', with the maintained aggregates."""
    tables.metadata.create_all(engine)
    tables.sources_metadata.create_all(engine, tables=[tables.view_events, tables.play_events])
    maintain(engine)
    assert SqlStore(engine).audience_maintained


def _sql(engine: Engine, statements: str) -> list[str]:
    postgres = engine.dialect.name == "postgresql"
    values = {
        "t": "'2026-06-01 12:00:00+00'" if postgres else "'2026-06-01 12:00:00.000000'",
        "t2": "'2026-06-07 08:00:00+00'" if postgres else "'2026-06-07 08:00:00.000000'",
        "f": "false" if postgres else "0",
        "tr": "true" if postgres else "1",
    }
    return [s.strip().format(**values) for s in statements.split(";") if s.strip()]


def assert_exact(engine: Engine) -> None:
    """The maintained figures equal a fresh recount, and the store answers as a hand count
    of the rows (the in-memory reference) does."""
    assert reconcile(engine, fix=False).drifted == 0
    reference = _reference(engine)
    kept = SqlStore(engine, maintained=True)
    window = (NOW - timedelta(days=7), NOW)
    for user in PEOPLE:
        for method in ("post_totals", "count_collaborations", "count_followers", "count_following"):
            assert getattr(kept, method)(user) == getattr(reference, method)(user), (method, user)
        assert kept.count_new_followers(user, *window) == reference.count_new_followers(
            user, *window
        )
        expected = reference.count_non_followers(user, *window)
        assert kept.count_non_followers(user, *window) == expected, user
        assert_audience_alone(kept, user, *window, expected)


def _reference(engine: Engine, target: Any = tables) -> Any:
    """The rows as they are now — view and play events too, where there are tables of them —
    counted by the in-memory reference store."""
    from artist_dashboard import Follow, Post, PostEvent
    from artist_dashboard.memory import InMemoryStore
    from artist_dashboard.sql._catalog import existing

    viewed = {"view": target.view_events, "play": target.play_events}

    with engine.connect() as conn:
        pairs: dict[str, list[str]] = {}
        for post_id, user_id in conn.execute(select(C.c.post_id, C.c.user_id)):
            pairs.setdefault(post_id, []).append(user_id)
        posts = [
            Post(
                id=r.id,
                author_id=r.author_id,
                created_at=r.created_at,
                collaborator_ids=pairs.get(r.id, []),
                **{
                    k: r._mapping[k]
                    for k in (
                        "view_count",
                        "play_count",
                        "likes_count",
                        "comments_count",
                        "saves_count",
                        "shares_count",
                    )
                },
                is_deleted=bool(r.is_deleted),
            )
            for r in conn.execute(select(P))
        ]
        follows = [
            Follow(follower_id=a, followee_id=b, created_at=t)
            for a, b, t in conn.execute(select(F.c.follower_id, F.c.followee_id, F.c.created_at))
        ]
        present = existing(conn, viewed.values())
        events = [
            PostEvent(
                id=r.id, post_id=r.post_id, created_at=r.created_at, kind=kind, user_id=r.user_id
            )
            for kind, table in viewed.items()
            if table in present
            for r in conn.execute(select(table))
        ]
    if not present:
        return InMemoryStore([], posts, follows)
    sources = {f"post_{kind}_events" for kind, table in viewed.items() if table in present}
    return InMemoryStore([], posts, follows, events=events, event_sources=sources)


def assert_audience_alone(
    store: SqlStore, user: str, after: Any, until: Any, expected: int
) -> None:
    """The maintained audience's own answer, without the events' help, is `expected` whenever
    nobody it counts was last seen after `until` (only then does the store ask the events)."""
    params = {"user": user, "after": after, "until": until}
    with store._engine.connect() as conn:  # white box: the audience's query alone
        query = store._analytics.audience_count
        assert query is not None
        inside, maybe = conn.execute(query, params).one()
    if not maybe:
        assert inside == expected, (user, after, until)


#: Each form, with the databases that speak it.
FORMS = [
    *((name, sql, ("sqlite", "postgresql")) for name, sql in UPSERTS.items()),
    *((name, sql, ("sqlite",)) for name, sql in SQLITE_ONLY.items()),
    *((name, sql, ("postgresql",)) for name, sql in POSTGRES_ONLY.items()),
]
CASES = [
    pytest.param(
        dialect,
        sql,
        id=f"{dialect}-{name}",
        marks=[pytest.mark.postgres] if dialect == "postgresql" else [],
    )
    for name, sql, dialects in FORMS
    for dialect in dialects
]


@pytest.mark.parametrize(("dialect", "statements"), CASES)
def test_every_write_form_keeps_the_figures_exact(
    request: pytest.FixtureRequest, dialect: str, statements: str
) -> None:
    """Upserts that do nothing or update, INSERT OR IGNORE/REPLACE (SQLite), MERGE and
    TRUNCATE (PostgreSQL): no double credit, no zeroed figures, no stale sums."""
    if dialect == "sqlite":
        engine = create_engine("sqlite://", poolclass=StaticPool)
    else:
        engine = create_engine(request.getfixturevalue("postgres_url"))
    try:
        install_world(engine)
        with engine.begin() as conn:
            for statement in _sql(engine, ";".join(BASE)):
                conn.exec_driver_sql(statement)
        assert_exact(engine)
        with engine.begin() as conn:
            for statement in _sql(engine, statements):
                conn.exec_driver_sql(statement)
        assert_exact(engine)
    finally:
        stop_maintaining(engine)
        tables.sources_metadata.drop_all(engine)
        tables.metadata.drop_all(engine)
        engine.dispose()


def test_counters_near_two_to_the_63_never_break_a_write(engine: Engine) -> None:
    """Counters at the top of BIGINT: the application's writes succeed, and the figures stay
    exact (PostgreSQL sums them in NUMERIC; SQLite's live sums are put together from halves)."""
    top = 2**63 - 1
    install_world(engine)
    with engine.begin() as conn:
        for statement in _sql(engine, ";".join(BASE)):
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            f"UPDATE posts SET likes_count = {top}, comments_count = {top}, saves_count = {top},"
            f" shares_count = {top} WHERE author_id = 'a1'"
        )
    live = SqlStore(engine, maintained=False)
    assert live.post_totals("a1").likes_count == 2 * top
    assert [p.id for p in live.top_posts("a1", 2)] == ["p2", "p1"]  # equal score: newest, id
    if engine.dialect.name == "postgresql":
        assert_exact(engine)
        assert SqlStore(engine, maintained=True).post_totals("a1").likes_count == 2 * top
