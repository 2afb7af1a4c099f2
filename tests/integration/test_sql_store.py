"""The SQL store beyond the kit: bad stored data, existing schemas, snapshots, query counts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import Engine, create_engine, event, insert

from artist_dashboard import (
    DashboardOptions,
    FixedClock,
    Follow,
    Post,
    Repos,
    User,
    build_dashboard,
)
from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_dashboard, demo_records
from artist_dashboard.sql import (
    MappingError,
    SqlStore,
    TableMap,
    dashboard_tables,
    load_records_into,
    tables,
)

from ..helpers import fresh_postgres_database

NOW = datetime(2026, 6, 8, tzinfo=UTC)
CLOCK = FixedClock(NOW)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind: a SQLite file (WAL), and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'test.db'}")
        with made.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        yield made
        made.dispose()
        return
    admin_url: str = request.getfixturevalue("postgres_url")
    name = f"t_{tmp_path.name[-20:].replace('-', '_').lower()}"
    # A session time zone far from UTC: the store must not depend on the server's setting.
    options = {"options": "-c timezone=America/New_York"}
    with fresh_postgres_database(admin_url, name, connect_args=options) as made:
        yield made


def test_demo_reads_back_identically(engine: Engine) -> None:
    """The demo loaded into the database gives exactly the demo's dashboard."""
    load_records_into(engine, *demo_records())
    got = build_dashboard(DEMO_USER_ID, SqlStore(engine).repos, FixedClock(DEMO_NOW))
    assert got == demo_dashboard()


def test_bad_stored_values_follow_the_rules(engine: Engine) -> None:
    """Negative and NULL counters count 0, NULL text is "", a NULL deleted flag means live."""
    tables.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(tables.users), [{"id": "u", "name": None, "is_verified": None}])
        conn.execute(
            insert(tables.posts),
            [
                {
                    "id": "p1",
                    "author_id": "u",
                    "created_at": NOW - timedelta(days=1),
                    "view_count": -5,
                    "play_count": None,
                    "likes_count": 4,
                    "comments_count": -1,
                    "saves_count": None,
                    "shares_count": 2,
                    "content": None,
                    "is_deleted": None,
                }
            ],
        )
    dashboard = build_dashboard("u", SqlStore(engine).repos, CLOCK)
    stats = dashboard.stats
    assert (stats.posts_count, stats.view_count, stats.play_count) == (1, 0, 0)
    assert (stats.likes_count, stats.comments_count, stats.saves_count) == (4, 0, 0)
    assert dashboard.profile.name == ""
    (top,) = dashboard.top_content
    assert (top.content, top.engagement_score, top.view_count) == ("", 6, 0)


def test_corrections_are_one_line_per_build_at_the_chosen_level(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """NULL columns read during a build are counted, not logged one by one: each build logs
    one summary line, at the level the options name."""
    tables.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(tables.users), [{"id": "u", "name": None, "bio": None}])
        conn.execute(
            insert(tables.posts),
            [
                {"id": f"p{n}", "author_id": "u", "created_at": NOW - timedelta(hours=n)}
                | {"content": None, "thumbnail_url": None, "post_type": None}
                for n in range(1, 6)
            ],
        )
    repos = SqlStore(engine).repos
    with caplog.at_level(logging.DEBUG, logger="artist_dashboard"):
        for _ in range(3):
            build_dashboard("u", repos, CLOCK)
        build_dashboard("u", repos, CLOCK, DashboardOptions(correction_log_level=logging.INFO))
    lines = [r for r in caplog.records if r.name == "artist_dashboard.corrections"]
    assert [r.levelno for r in lines] == [logging.WARNING] * 3 + [logging.INFO]
    assert all(r.getMessage().startswith("a dashboard build: ") for r in lines)
    assert "user.name 1" in lines[0].getMessage()
    assert "post.content" in lines[0].getMessage()


def test_native_id_columns_need_their_id_type(engine: Engine) -> None:
    """A uuid (PostgreSQL) or integer (SQLite) id column under tables that expect text ids is
    named when the store is made, with the setting that reads it, rather than failing every
    request with a 503."""
    others = [t for t in tables.core if t is not tables.users]
    tables.metadata.create_all(engine, tables=others)
    native = "uuid" if engine.dialect.name == "postgresql" else "integer"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE users (id {native} PRIMARY KEY, name text, stage_name text, bio text,"
            " avatar text, cover_image text, is_verified boolean)"
        )
    with pytest.raises(MappingError, match=rf"users.id \(for id\) is {native}; .* id_type"):
        SqlStore(engine)


def test_a_viewer_of_one_source_counts_once(engine: Engine) -> None:
    """With only the play events configured, someone who played twice is one non-follower —
    read whole and through the ports alike (found by the kit: a UNION of one query is that
    query, without its DISTINCT)."""
    from artist_dashboard import PostEvent
    from artist_dashboard.sql import Sources

    plays = [
        PostEvent(id=f"e{n}", post_id="p", created_at=NOW, kind="play", user_id=viewer)
        for n, viewer in enumerate(["b", "b", None])
    ]
    load_records_into(
        engine,
        [User(id="a"), User(id="b")],
        [Post(id="p", author_id="a", created_at=NOW)],
        sources=Sources(events=plays, event_sources={"post_play_events"}),
    )
    repos = SqlStore(engine).repos
    for read in (repos, attrs.evolve(repos, whole=None)):
        assert build_dashboard("a", read, CLOCK).audience.non_followers == 1


def test_text_in_an_integer_column_on_sqlite_counts_zero(tmp_path: Path) -> None:
    """SQLite keeps 'lots' in an INTEGER column; it counts 0 in sums, scores and records."""
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    tables.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id) VALUES ('u')")
        conn.exec_driver_sql(
            "INSERT INTO posts (id, author_id, created_at, view_count, likes_count, saves_count)"
            " VALUES ('p', 'u', '2026-06-07 00:00:00.000000', 'lots', 'many', 2.7)"
        )
        conn.exec_driver_sql(
            "INSERT INTO posts (id, author_id, created_at, likes_count)"
            " VALUES ('q', 'u', '2026-06-06 00:00:00.000000', 1)"
        )
    dashboard = build_dashboard("u", SqlStore(engine).repos, CLOCK)
    assert (dashboard.stats.view_count, dashboard.stats.likes_count) == (0, 1)
    assert dashboard.stats.saves_count == 2  # a real truncates, as rules.clamp_counter does
    assert [(t.id, t.engagement_score) for t in dashboard.top_content] == [("p", 2), ("q", 1)]


EXISTING_SCHEMA = [
    """CREATE TABLE accounts (account_id TEXT PRIMARY KEY, display_name TEXT, artist_name TEXT,
       about TEXT, photo TEXT, banner TEXT, verified BOOLEAN)""",
    """CREATE TABLE tracks (track_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, kind TEXT,
       caption TEXT, thumb TEXT, media TEXT, views BIGINT, plays BIGINT, likes BIGINT,
       comments BIGINT, saves BIGINT, shares BIGINT, published TIMESTAMP, removed BOOLEAN)""",
    "CREATE TABLE track_features (track_id TEXT, account_id TEXT)",
    "CREATE TABLE followers (source_user TEXT, target_user TEXT, since TIMESTAMP)",
]


def existing_tables() -> Any:
    return dashboard_tables(
        users=TableMap(
            "accounts",
            {
                "id": "account_id",
                "name": "display_name",
                "stage_name": "artist_name",
                "bio": "about",
                "avatar": "photo",
                "cover_image": "banner",
                "is_verified": "verified",
            },
        ),
        posts=TableMap(
            "tracks",
            {
                "id": "track_id",
                "author_id": "owner_id",
                "post_type": "kind",
                "content": "caption",
                "thumbnail_url": "thumb",
                "display_url": "media",
                "view_count": "views",
                "play_count": "plays",
                "likes_count": "likes",
                "comments_count": "comments",
                "saves_count": "saves",
                "shares_count": "shares",
                "created_at": "published",
                "is_deleted": "removed",
            },
        ),
        post_collaborators=TableMap(
            "track_features", {"post_id": "track_id", "user_id": "account_id", "author_id": None}
        ),
        follows=TableMap(
            "followers",
            {"follower_id": "source_user", "followee_id": "target_user", "created_at": "since"},
        ),
    )


def naive_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_an_existing_schema_with_other_names(engine: Engine) -> None:
    """A team's own tables and columns (tracks.owner_id, tracks.plays, followers.source_user,
    naive TIMESTAMP columns holding UTC) give the same dashboard as the demo, no copy made."""
    users, posts, follows = demo_records()
    with engine.begin() as conn:
        for ddl in EXISTING_SCHEMA:
            conn.exec_driver_sql(ddl)
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        conn.exec_driver_sql(
            f"INSERT INTO accounts VALUES ({', '.join([mark] * 7)})",
            [
                (u.id, u.name, u.stage_name, u.bio, u.avatar, u.cover_image, u.is_verified)
                for u in users
            ],
        )
        conn.exec_driver_sql(
            f"INSERT INTO tracks VALUES ({', '.join([mark] * 14)})",
            [
                (
                    p.id,
                    p.author_id,
                    p.post_type,
                    p.content,
                    p.thumbnail_url,
                    p.display_url,
                    p.view_count,
                    p.play_count,
                    p.likes_count,
                    p.comments_count,
                    p.saves_count,
                    p.shares_count,
                    naive_utc(p.created_at),
                    p.is_deleted,
                )
                for p in posts
            ],
        )
        conn.exec_driver_sql(
            f"INSERT INTO track_features VALUES ({mark}, {mark})",
            [(p.id, c) for p in posts for c in p.collaborator_ids],
        )
        conn.exec_driver_sql(
            f"INSERT INTO followers VALUES ({mark}, {mark}, {mark})",
            [(f.follower_id, f.followee_id, naive_utc(f.created_at)) for f in follows],
        )
    store = SqlStore(engine, existing_tables())
    got = build_dashboard(DEMO_USER_ID, store.repos, FixedClock(DEMO_NOW))
    assert got == demo_dashboard()


def test_a_null_time_in_an_existing_schema(engine: Engine) -> None:
    """A post without a time is left out everywhere (as the loader refuses one); a follow
    without a time is still a follow, in no window."""
    with engine.begin() as conn:
        for ddl in EXISTING_SCHEMA:
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql("INSERT INTO accounts (account_id) VALUES ('u')")
        conn.exec_driver_sql(
            "INSERT INTO tracks (track_id, owner_id, likes, published) VALUES ('p', 'u', 3, NULL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO followers (source_user, target_user, since) VALUES ('f', 'u', NULL)"
        )
    dashboard = build_dashboard("u", SqlStore(engine, existing_tables()).repos, CLOCK)
    assert (dashboard.stats.posts_count, dashboard.stats.followers_count) == (0, 1)
    assert dashboard.audience.new_followers_this_month == 0
    assert (dashboard.top_content, dashboard.recent_activity) == ((), ())


class WriterMidBuild:
    """Wraps the snapshot's repos: right after the first post read, another connection commits
    a new follower and a new post."""

    def __init__(self, store: SqlStore, engine: Engine) -> None:
        self.store, self.engine, self.done = store, engine, False

    @contextmanager
    def snapshot(self) -> Iterator[Repos]:
        with self.store.snapshot() as inner:
            yield Repos(users=inner.users, posts=self._posts(inner.posts), follows=inner.follows)

    def _posts(self, posts: Any) -> Any:
        writer = self

        class Posts:
            def __getattr__(self, name: str) -> Any:
                method = getattr(posts, name)

                def call(*args: Any) -> Any:
                    result = method(*args)
                    if not writer.done:
                        writer.done = True
                        writer.write()
                    return result

                return call

        return Posts()

    def write(self) -> None:
        load_records_into(
            self.engine,
            posts=[Post(id="late", author_id="u", created_at=NOW, likes_count=99)],
            follows=[Follow(follower_id="late-fan", followee_id="u", created_at=NOW)],
        )


def test_one_dashboard_reads_one_snapshot(engine: Engine) -> None:
    """Writes committed mid-build are invisible to the rest of that build, so its figures agree
    with each other; the next build sees them."""
    load_records_into(
        engine,
        [User(id="u")],
        [Post(id="p", author_id="u", created_at=NOW - timedelta(days=1), likes_count=1)],
        [Follow(follower_id="fan", followee_id="u", created_at=NOW - timedelta(days=1))],
    )
    store = SqlStore(engine)
    writer = WriterMidBuild(store, engine)
    repos = Repos(users=store, posts=store, follows=store, open_snapshot=writer.snapshot)
    during = build_dashboard("u", repos, CLOCK)
    assert writer.done
    assert during.stats.followers_count == 1
    assert during.audience.new_followers_this_week == 1
    assert [t.id for t in during.top_content] == ["p"]
    assert [a.type for a in during.recent_activity] == ["newFollower", "newPost"]
    after = build_dashboard("u", store.repos, CLOCK)
    assert after.stats.followers_count == 2
    assert after.top_content[0].id == "late"


def count_selects(engine: Engine, user_id: str) -> int:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    store = SqlStore(engine)  # its one-time catalog checks are not the dashboard's queries
    event.listen(engine, "before_cursor_execute", record)
    try:
        build_dashboard(user_id, store.repos, CLOCK)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sum(s.lstrip().upper().startswith("SELECT") for s in seen)


def test_queries_per_dashboard_do_not_grow_with_the_artist(engine: Engine) -> None:
    """An artist with 300 posts and 300 followers costs as many queries as one with 3."""

    def artist(user_id: str, size: int) -> tuple[list[User], list[Post], list[Follow]]:
        posts = [
            Post(
                id=f"{user_id}-p{i}",
                author_id=user_id,
                created_at=NOW - timedelta(hours=i),
                likes_count=i,
                collaborator_ids=["guest"] if i % 3 == 0 else [],
            )
            for i in range(size)
        ]
        follows = [
            Follow(
                follower_id=f"{user_id}-f{i}",
                followee_id=user_id,
                created_at=NOW - timedelta(hours=i),
            )
            for i in range(size)
        ]
        return [User(id=user_id)], posts, follows

    for user_id, size in (("small", 3), ("big", 300)):
        load_records_into(engine, *artist(user_id, size))
    small, big = count_selects(engine, "small"), count_selects(engine, "big")
    assert small == big
    assert big <= 15


def test_a_broken_database_fails_the_build_whole(tmp_path: Path) -> None:
    """A database whose tables go away under a store gives StorageError, not part of a
    dashboard."""
    from artist_dashboard import StorageError

    engine = create_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    load_records_into(engine, [User(id="u")])
    repos = SqlStore(engine).repos
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE follows")
    with pytest.raises(StorageError):
        build_dashboard("u", repos, CLOCK)


def test_loading_twice_changes_nothing_and_updates_replace(engine: Engine) -> None:
    """A second load of the same records leaves the figures as they were; a changed record
    replaces the stored one, collaborators included."""
    post = Post(id="p", author_id="u", created_at=NOW, likes_count=1, collaborator_ids=["x"])
    for _ in range(2):
        load_records_into(engine, [User(id="u")], [post])
    first = build_dashboard("u", SqlStore(engine).repos, CLOCK)
    assert (first.stats.posts_count, first.stats.collaborations_count) == (1, 1)
    changed = Post(id="p", author_id="u", created_at=NOW, likes_count=5)
    load_records_into(engine, posts=[changed])
    second = build_dashboard("u", SqlStore(engine).repos, CLOCK)
    assert (second.stats.likes_count, second.stats.collaborations_count) == (5, 0)


def index_names(engine: Engine) -> set[str]:
    from artist_dashboard.sql._catalog import index_names as _index_names

    with engine.connect() as conn:
        return {
            name for table in tables.metadata.sorted_tables for name in _index_names(conn, table)
        }


def test_a_load_leaves_every_index_in_place_even_when_it_fails(engine: Engine) -> None:
    """Indexes set aside to load empty tables faster are all rebuilt, after success and after
    a failure in the middle of the load."""
    declared = {i.name for t in tables.metadata.sorted_tables for i in t.indexes}

    def failing_posts() -> Iterator[Post]:
        yield Post(id="p1", author_id="u", created_at=NOW)
        raise RuntimeError("the source broke mid-load")

    with pytest.raises(RuntimeError):
        load_records_into(engine, [User(id="u")], failing_posts())
    assert declared <= index_names(engine)
    load_records_into(engine, posts=[Post(id="p2", author_id="u", created_at=NOW)])
    assert declared <= index_names(engine)
