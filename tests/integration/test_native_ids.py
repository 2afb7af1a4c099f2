"""A team's own keys: uuid ids on PostgreSQL and integer ids, bound in their own type."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import Engine, create_engine, insert

from artist_dashboard import (
    DashboardOptions,
    FixedClock,
    Repos,
    UserNotFound,
    build_dashboard,
    rules,
)
from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_dashboard, demo_records
from artist_dashboard.sql import (
    DashboardTables,
    MappingError,
    SqlStore,
    TableMap,
    dashboard_tables,
    load_records_into,
    maintain,
)
from artist_dashboard.testing import Dataset, StoreConformance
from artist_dashboard.wire import to_json

from ..helpers import assert_no_table_scanned, fresh_postgres_database

NOW = datetime(2026, 6, 8, tzinfo=UTC)


def team_tables(id_type: str) -> DashboardTables:
    """The team of the adoption issue: its own names, and its own key type."""
    return dashboard_tables(
        users=TableMap("accounts", {"id": "account_id", "stage_name": "display_name"}),
        posts=TableMap("media_items", {"author_id": "owner_id", "post_type": "kind"}),
        post_collaborators=TableMap("media_credits", {"post_id": "media_id"}),
        follows=TableMap("subscriptions", {"follower_id": "subscriber_id", "created_at": "since"}),
        id_type=id_type,
    )


def as_uuid(original: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, original))


def write_native(
    engine: Engine, target: DashboardTables, new_id: Any, users: Any, posts: Any, follows: Any
) -> None:
    """Records with every id replaced by `new_id(id)`, written through the (native) tables."""
    user_fields = ("name", "stage_name", "bio", "avatar", "cover_image", "is_verified")
    post_fields = ("post_type", "content", "thumbnail_url", "display_url", "created_at")
    post_fields += (*rules.POST_COUNTERS, "is_deleted")
    rows = {
        target.users: [
            {"id": new_id(u.id), **{k: getattr(u, k) for k in user_fields}} for u in users
        ],
        target.posts: [
            {"id": new_id(p.id), "author_id": new_id(p.author_id)}
            | {k: getattr(p, k) for k in post_fields}
            for p in posts
        ],
        target.post_collaborators: [
            {"post_id": new_id(p.id), "user_id": new_id(c), "author_id": new_id(p.author_id)}
            for p in posts
            for c in p.collaborator_ids
        ],
        target.follows: [
            {
                "follower_id": new_id(f.follower_id),
                "followee_id": new_id(f.followee_id),
                "created_at": f.created_at,
            }
            for f in follows
        ],
    }
    target.metadata.create_all(engine)
    with engine.begin() as conn:
        for table, found in rows.items():
            if found:
                conn.execute(insert(table), found)


def insert_demo(engine: Engine, target: DashboardTables, new_id: Any) -> None:
    """The demo's records with every id replaced by `new_id(id)`."""
    write_native(engine, target, new_id, *demo_records())


@pytest.fixture
def postgres(postgres_admin_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A fresh PostgreSQL database for one test."""
    name = f"native_{tmp_path.name[-20:].replace('-', '_').lower()}"
    with fresh_postgres_database(postgres_admin_url, name) as made:
        yield made


def demo_with(new_id: Any) -> str:
    """The demo dashboard's JSON with every id replaced as `insert_demo` replaced them."""
    json = to_json(demo_dashboard())
    users, posts, follows = demo_records()
    for original in (
        {u.id for u in users} | {p.id for p in posts} | {f.follower_id for f in follows}
    ):
        json = json.replace(f'"{original}"', f'"{new_id(original)}"')
    return json


@pytest.mark.postgres
def test_uuid_ids_are_read_and_every_lookup_uses_an_index(postgres: Engine) -> None:
    """With uuid keys the demo reads back exactly (ids as their canonical text), and every
    statement of a build, bound as uuid, can be answered from the team's indexes: with
    sequential scans switched off, no plan scans a table."""
    target = team_tables("uuid")
    insert_demo(postgres, target, as_uuid)
    store = SqlStore(postgres, target)
    built: list[Any] = []
    assert_no_table_scanned(
        postgres,
        lambda: built.append(
            build_dashboard(as_uuid(DEMO_USER_ID), store.repos, FixedClock(DEMO_NOW))
        ),
    )
    assert to_json(built[0]) == demo_with(as_uuid)


@pytest.mark.postgres
def test_an_id_that_cannot_be_a_uuid_is_no_such_user(postgres: Engine) -> None:
    """A token's id that is not the canonical text of a UUID (not one, upper case) is "no such
    user" without an error from the database; the canonical text finds the user."""
    target = team_tables("uuid")
    insert_demo(postgres, target, as_uuid)
    repos = SqlStore(postgres, target).repos
    known = as_uuid(DEMO_USER_ID)
    for stranger in ("not-a-uuid", known.upper(), "{" + known + "}", "1" * 600):
        with pytest.raises(UserNotFound):
            build_dashboard(stranger, repos, FixedClock(NOW))
    assert build_dashboard(known, repos, FixedClock(NOW)).profile.id == known


def test_integer_ids_order_as_their_text(tmp_path: Path) -> None:
    """With integer keys, ties still break by id as SPEC §4 orders strings: post 9 ranks above
    post 10, and follower 9 above follower 10; a non-canonical number names no one."""
    engine = create_engine(f"sqlite:///{tmp_path / 'team.db'}")
    target = team_tables("integer")
    target.metadata.create_all(engine)
    at = NOW - timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(insert(target.users), [{"id": "1", "name": "A"}])
        conn.execute(
            insert(target.posts),
            [{"id": n, "author_id": "1", "created_at": at, "likes_count": 3} for n in ("9", "10")],
        )
        conn.execute(
            insert(target.follows),
            [{"follower_id": n, "followee_id": "1", "created_at": at} for n in ("9", "10")],
        )
    repos = SqlStore(engine, target).repos
    dashboard = build_dashboard("1", repos, FixedClock(NOW))
    assert [p.id for p in dashboard.top_content] == ["9", "10"]
    followers = [a.user.id for a in dashboard.recent_activity if a.user is not None]
    assert followers == ["9", "10"]
    # With room for one, the store itself must pick by the text order, not the number's.
    first = DashboardOptions(top_content_limit=1, recent_activity_limit=1)
    dashboard = build_dashboard("1", repos, FixedClock(NOW), first)
    assert [p.id for p in dashboard.top_content] == ["9"]
    assert [a.user.id for a in dashboard.recent_activity if a.user is not None] == ["9"]
    for stranger in ("01", "+1", "1.0", "x", "99999999999999999999"):
        with pytest.raises(UserNotFound):
            build_dashboard(stranger, repos, FixedClock(NOW))


def test_what_needs_text_ids_says_so(tmp_path: Path) -> None:
    """Loading, the maintained aggregates and an unknown id type are refused up front."""
    engine = create_engine(f"sqlite:///{tmp_path / 'team.db'}")
    target = team_tables("integer")
    with pytest.raises(MappingError, match="loading needs text ids"):
        load_records_into(engine, target=target)
    with pytest.raises(MappingError, match="maintained aggregates needs text ids"):
        maintain(engine, target)
    with pytest.raises(MappingError, match="id_type is one of"):
        team_tables("ulid")


# --- the conformance kit on native keys ------------------------------------------------------


class NativeIds:
    """The dataset's ids as native keys, in the same order: the i-th smallest id becomes the
    i-th smallest uuid (or integer of a fixed width), so SPEC §4's order is kept both ways."""

    def __init__(self, dataset: Dataset, id_type: str) -> None:
        ids = {u.id for u in dataset.users} | set(dataset.user_ids)
        ids |= {p.id for p in dataset.posts}
        make = _as_uuid if id_type == "uuid" else _as_integer
        self.native = {i: make(rank + 1) for rank, i in enumerate(sorted(ids))}
        self.text = {n: i for i, n in self.native.items()}
        self.absent = make(0)  # an id of the right type that names nothing

    def __call__(self, original: str) -> str:
        return self.native.get(original, self.absent)


def _as_uuid(rank: int) -> str:
    return str(uuid.UUID(int=rank))


def _as_integer(rank: int) -> str:
    return str(10**12 + rank)


class Translated:
    """A store on native keys, spoken to in the dataset's own ids."""

    def __init__(self, repos: Any, ids: NativeIds) -> None:
        self.repos, self.ids, self.back = repos, ids, ids.text.__getitem__

    def get_user(self, user_id: str) -> Any:
        found = self.repos.users.get_user(self.ids(user_id))
        return None if found is None else attrs.evolve(found, id=self.back(found.id))

    def get_users(self, user_ids: Any) -> Any:
        found = self.repos.users.get_users([self.ids(i) for i in user_ids])
        return {self.back(k): attrs.evolve(u, id=self.back(u.id)) for k, u in found.items()}

    def _posts(self, posts: Any) -> list[Any]:
        return [
            attrs.evolve(p, id=self.back(p.id), author_id=self.back(p.author_id)) for p in posts
        ]

    def post_totals(self, author_id: str) -> Any:
        return self.repos.posts.post_totals(self.ids(author_id))

    def count_collaborations(self, user_id: str) -> int:
        return int(self.repos.posts.count_collaborations(self.ids(user_id)))

    def top_posts(self, author_id: str, limit: int) -> list[Any]:
        return self._posts(self.repos.posts.top_posts(self.ids(author_id), limit))

    def recent_posts(self, author_id: str, after: Any, until: Any, limit: int) -> list[Any]:
        return self._posts(self.repos.posts.recent_posts(self.ids(author_id), after, until, limit))

    def count_followers(self, user_id: str) -> int:
        return int(self.repos.follows.count_followers(self.ids(user_id)))

    def count_following(self, user_id: str) -> int:
        return int(self.repos.follows.count_following(self.ids(user_id)))

    def count_new_followers(self, user_id: str, after: Any, until: Any) -> int:
        return int(self.repos.follows.count_new_followers(self.ids(user_id), after, until))

    def recent_followers(self, user_id: str, after: Any, until: Any, limit: int) -> list[Any]:
        found = self.repos.follows.recent_followers(self.ids(user_id), after, until, limit)
        return [
            attrs.evolve(
                f, follower_id=self.back(f.follower_id), followee_id=self.back(f.followee_id)
            )
            for f in found
        ]


def native_loader(engine: Engine, id_type: str) -> Any:
    """Empties the team's tables and writes a dataset with every id made native."""
    target = team_tables(id_type)

    def load(dataset: Dataset) -> Repos:
        target.metadata.drop_all(engine)
        ids = NativeIds(dataset, id_type)
        write_native(engine, target, ids, dataset.users, dataset.posts, dataset.follows)
        translated = Translated(SqlStore(engine, target).repos, ids)
        return Repos(users=translated, posts=translated, follows=translated)

    return load


class TestIntegerKeys(StoreConformance):
    """Every kit test on SQLite with integer keys, ordered as their text."""

    @pytest.fixture
    def load(self, tmp_path: Path) -> Any:
        return native_loader(create_engine(f"sqlite:///{tmp_path / 'native.db'}"), "integer")


@pytest.mark.postgres
class TestUuidKeys(StoreConformance):
    """Every kit test on PostgreSQL with uuid keys."""

    @pytest.fixture
    def load(self, postgres_url: str) -> Any:
        return native_loader(create_engine(postgres_url), "uuid")
