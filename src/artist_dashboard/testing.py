"""Test helpers shipped to users: Hypothesis strategies for datasets, and (with the SQL
issue) the conformance kit for stores.

Needs the ``test`` extra (pytest and Hypothesis). `FixedClock` and `InMemoryStore` live in the
package itself and are re-exported here for convenience.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from attrs import frozen
from hypothesis import strategies as st

from ._clock import FixedClock
from ._records import Follow, Post, User
from .dataset import parse_follow, parse_post, parse_user
from .memory import InMemoryStore
from .wire import format_instant, parse_instant

__all__ = [
    "NOW",
    "Dataset",
    "Documents",
    "FixedClock",
    "InMemoryStore",
    "datasets",
    "documents",
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
_TEXT = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", "New track", "🎵 ñ"]))
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
