"""Kit: test doubles and Hypothesis strategies for users, and the store conformance kit.

Needs the ``test`` extra (pytest and Hypothesis). `FixedClock` and `InMemoryStore` live in the
package itself and are re-exported here for convenience.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from attrs import frozen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._core import rules
from ._core.build import Repos, build_dashboard
from ._core.clock import FixedClock
from ._core.records import Follow, Post, User
from ._core.wire import format_instant, parse_instant
from .dataset import parse_follow, parse_post, parse_user
from .memory import InMemoryStore

__all__ = [
    "NOW",
    "Dataset",
    "Documents",
    "FixedClock",
    "InMemoryStore",
    "Loader",
    "MemoryStoreConformance",
    "StoreConformance",
    "datasets",
    "documents",
    "to_dataset",
]

#: The instant datasets are generated around.
NOW = parse_instant("2026-06-08T12:00:00.000Z")

_MS = timedelta(milliseconds=1)
#: Instants on and around every window edge, plus the future.
_EDGES = [
    NOW,
    NOW - _MS,
    NOW + _MS,
    NOW + timedelta(days=1),
    *(NOW - timedelta(days=d) + k * _MS for d in (7, 30) for k in (-1, 0, 1)),
]
_IDS = ["a", "b", "B", "aa", "ab", "z", "é", "665f00000000000000000001", "665f0000000000000000000a"]
# No NUL: PostgreSQL text cannot hold it.
_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
_TEXT = st.one_of(
    st.none(),
    st.text(_CHARS, max_size=12),
    st.sampled_from(["", "New track", "🎵 ñ"]),
)
_COUNTER = st.one_of(
    st.integers(0, 6),
    st.integers(0, 6),
    st.integers(-3, -1),
    st.none(),
    st.integers(0, 2**53),
)


def _instants() -> st.SearchStrategy[datetime]:
    offsets = st.integers(-40 * 86_400_000, 2 * 86_400_000).map(lambda ms: NOW + ms * _MS)
    return st.one_of(st.sampled_from(_EDGES), offsets)


@frozen
class Documents:
    """A dataset as SPEC §7 documents (plain JSON values), possibly with bad values in them."""

    users: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    follows: list[dict[str, Any]]
    now: datetime = NOW


@frozen
class Dataset:
    """A dataset as records, the way a store holds it, and the instant to build at."""

    users: list[User]
    posts: list[Post]
    follows: list[Follow]
    now: datetime = NOW

    @property
    def user_ids(self) -> list[str]:
        """Every id the dataset mentions: users, authors, collaborators, follow ends."""
        ids = {u.id for u in self.users} | {p.author_id for p in self.posts}
        ids |= {c for p in self.posts for c in p.collaborator_ids}
        ids |= {f.follower_id for f in self.follows} | {f.followee_id for f in self.follows}
        return sorted(ids)


@st.composite
def _user_doc(draw: st.DrawFn, user_id: str) -> dict[str, Any]:
    return {
        "_id": user_id,
        "name": draw(_TEXT),
        "stageName": draw(_TEXT),
        "bio": draw(_TEXT),
        "avatar": draw(_TEXT),
        "coverImage": draw(_TEXT),
        "isVerified": draw(st.one_of(st.booleans(), st.none())),
    }


@st.composite
def _post_doc(draw: st.DrawFn, post_id: str) -> dict[str, Any]:
    return {
        "_id": post_id,
        "authorId": draw(st.sampled_from(_IDS)),
        "collaboratorIds": draw(st.lists(st.sampled_from(_IDS), max_size=3)),
        "postType": draw(st.sampled_from(["audio", "video", "image", "text", "live"])),
        "content": draw(_TEXT),
        "thumbnailUrl": draw(_TEXT),
        "displayUrl": draw(_TEXT),
        "viewCount": draw(_COUNTER),
        "playCount": draw(_COUNTER),
        "likesCount": draw(_COUNTER),
        "commentsCount": draw(_COUNTER),
        "savesCount": draw(_COUNTER),
        "sharesCount": draw(_COUNTER),
        "createdAt": format_instant(draw(_instants())),
        "isDeleted": draw(st.one_of(st.booleans(), st.none())),
    }


@st.composite
def documents(draw: st.DrawFn, max_posts: int = 25, max_follows: int = 40) -> Documents:
    """Random SPEC §7 documents around `NOW`: score ties, deleted posts, collaborators,
    follows on the 7- and 30-day edges to the millisecond and in the future, negative and
    null counters, counters up to 2**53, unicode text and ids, users without records."""
    user_ids = draw(st.lists(st.sampled_from(_IDS), unique=True, max_size=len(_IDS)))
    users = [draw(_user_doc(i)) for i in user_ids]
    post_count = draw(st.integers(0, max_posts))
    posts = [draw(_post_doc(f"p{n:03d}")) for n in range(post_count)]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(_IDS), st.sampled_from(_IDS)),
            unique=True,
            max_size=max_follows,
        )
    )
    follows = [
        {"followerId": a, "followeeId": b, "createdAt": format_instant(draw(_instants()))}
        for a, b in pairs
    ]
    return Documents(users=users, posts=posts, follows=follows)


def to_dataset(docs: Documents) -> Dataset:
    """The records a loader makes of `docs`."""
    return Dataset(
        users=[parse_user(d) for d in docs.users],
        posts=[parse_post(d) for d in docs.posts],
        follows=[parse_follow(d) for d in docs.follows],
        now=docs.now,
    )


def datasets(max_posts: int = 25, max_follows: int = 40) -> st.SearchStrategy[Dataset]:
    """Random datasets as records (see `documents` for what they contain)."""
    return documents(max_posts, max_follows).map(to_dataset)


# --- the conformance kit -------------------------------------------------------------------

_DAY = timedelta(days=1)
_WINDOWS = st.one_of(
    st.just((NOW - rules.NEW_FOLLOWERS_WEEK, NOW)),
    st.just((NOW - rules.NEW_FOLLOWERS_MONTH, NOW)),
    st.tuples(_instants(), _instants()).map(sorted).map(tuple),
)
# Each kit test runs once per store subclass (differing executors, by design); the `load`
# fixture is function-scoped but replaces the store's whole content for every example.
_KIT_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)

Loader = Callable[[Dataset], Repos]


def _agree(got: object, expected: object, what: str) -> None:
    """Fail with both answers side by side (the kit runs outside pytest's assert rewriting)."""
    if got != expected:
        raise AssertionError(f"{what}\n  store:     {got!r}\n  reference: {expected!r}")


class StoreConformance:
    """Checks a store against the in-memory reference, port method by port method.

    Subclass it in a test module and define one fixture, `load`, that returns a function taking
    a `Dataset`, replacing whatever the store holds with it, and returning the store's `Repos`::

        class TestMyStore(StoreConformance):
            @pytest.fixture
            def load(self, my_engine):
                def load(dataset):
                    empty_my_tables(my_engine)
                    copy_into_my_tables(my_engine, dataset)
                    return MyStore(my_engine).repos
                return load

    Every test draws datasets with ties, deleted posts, collaborators, window edges to the
    millisecond, future dates, clamped counters, unicode text and counters up to 2**53, and
    compares every answer with `InMemoryStore`'s, for every user id the dataset mentions plus
    one it does not.
    """

    @pytest.fixture
    def load(self) -> Loader:
        raise NotImplementedError("define a `load` fixture in your StoreConformance subclass")

    @staticmethod
    def _both(load: Loader, dataset: Dataset) -> tuple[Repos, Repos]:
        reference = InMemoryStore(dataset.users, dataset.posts, dataset.follows).repos
        return load(dataset), reference

    @staticmethod
    def _ids(dataset: Dataset) -> list[str]:
        return [*dataset.user_ids, "no-such-user"]

    @_KIT_SETTINGS
    @given(dataset=datasets())
    def test_get_user(self, load: Loader, dataset: Dataset) -> None:
        """get_user and get_users return the same records as the reference."""
        store, reference = self._both(load, dataset)
        ids = self._ids(dataset)
        for user_id in ids:
            got = store.users.get_user(user_id)
            _agree(got, reference.users.get_user(user_id), f"get_user({user_id!r})")
        got_all = dict(store.users.get_users(ids))
        _agree(got_all, dict(reference.users.get_users(ids)), "get_users(every id)")
        _agree(dict(store.users.get_users([])), {}, "get_users([])")

    @_KIT_SETTINGS
    @given(dataset=datasets())
    def test_post_totals(self, load: Loader, dataset: Dataset) -> None:
        """post_totals counts live posts and sums clamped counters like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            got = store.posts.post_totals(user_id)
            _agree(got, reference.posts.post_totals(user_id), f"post_totals({user_id!r})")

    @_KIT_SETTINGS
    @given(dataset=datasets())
    def test_count_collaborations(self, load: Loader, dataset: Dataset) -> None:
        """count_collaborations counts each live shared post once, like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = reference.posts.count_collaborations(user_id)
            got = store.posts.count_collaborations(user_id)
            _agree(got, expected, f"count_collaborations({user_id!r})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), limit=st.integers(0, rules.TOP_CONTENT_MAX))
    def test_top_posts(self, load: Loader, dataset: Dataset, limit: int) -> None:
        """top_posts returns the same posts in the same order (score, time, id) as the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = list(reference.posts.top_posts(user_id, limit))
            got = list(store.posts.top_posts(user_id, limit))
            _agree(got, expected, f"top_posts({user_id!r}, {limit})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), window=_WINDOWS, limit=st.integers(0, rules.RECENT_ACTIVITY_MAX))
    def test_recent_posts(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime], limit: int
    ) -> None:
        """recent_posts returns the window's posts newest first, like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = list(reference.posts.recent_posts(user_id, *window, limit))
            got = list(store.posts.recent_posts(user_id, *window, limit))
            _agree(got, expected, f"recent_posts({user_id!r}, {window}, {limit})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), window=_WINDOWS)
    def test_follow_counts(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime]
    ) -> None:
        """Followers, following and new followers in a window are counted like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            for method in ("count_followers", "count_following"):
                expected = getattr(reference.follows, method)(user_id)
                _agree(getattr(store.follows, method)(user_id), expected, f"{method}({user_id!r})")
            expected = reference.follows.count_new_followers(user_id, *window)
            got = store.follows.count_new_followers(user_id, *window)
            _agree(got, expected, f"count_new_followers({user_id!r}, {window})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), window=_WINDOWS, limit=st.integers(0, rules.RECENT_ACTIVITY_MAX))
    def test_recent_followers(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime], limit: int
    ) -> None:
        """recent_followers returns the window's follows newest first, like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = list(reference.follows.recent_followers(user_id, *window, limit))
            got = list(store.follows.recent_followers(user_id, *window, limit))
            _agree(got, expected, f"recent_followers({user_id!r}, {window}, {limit})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), now=st.sampled_from([NOW, NOW + _DAY, NOW - 20 * _DAY]))
    def test_dashboards_agree(self, load: Loader, dataset: Dataset, now: datetime) -> None:
        """Whole dashboards built on the store equal those built on the reference."""
        store, reference = self._both(load, dataset)
        clock = FixedClock(now)
        for user_id in {u.id for u in dataset.users}:
            expected = build_dashboard(user_id, reference, clock)
            got = build_dashboard(user_id, store, clock)
            _agree(got, expected, f"build_dashboard({user_id!r}) at {now}")


class MemoryStoreConformance(StoreConformance):
    """The kit run on the reference itself (a check of the kit, and an example)."""

    @pytest.fixture
    def load(self) -> Loader:
        return lambda d: InMemoryStore(d.users, d.posts, d.follows).repos
