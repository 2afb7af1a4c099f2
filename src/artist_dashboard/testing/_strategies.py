"""Kit: Hypothesis strategies for datasets — SPEC §7 documents with the awkward cases a store
must get right (ties, deleted posts, window edges to the millisecond, clamped counters, unicode
ids) — and the records a loader makes of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import field, frozen
from hypothesis import strategies as st

from .._core.records import DailyAnalytics, Earning, Follow, Post, PostEvent, User
from .._core.rules import engagement_score
from .._core.wire import format_instant, parse_instant
from ..dataset import (
    parse_daily,
    parse_earning,
    parse_engagement_event,
    parse_follow,
    parse_play_event,
    parse_post,
    parse_user,
    parse_view_event,
)
from ..memory import InMemoryStore

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
#: Post ids that order differently under any rule but code points: case (``p``/``P``), shared
#: prefixes (``p``/``p1``/``p10``), digits against letters (``9``/``A``), non-ASCII (``é``
#: after ``z``; sharp s, dotless i and long s, which case-fold onto ASCII letters) and an
#: ObjectId pair.
_POST_IDS = [
    "p",
    "P",
    "p1",
    "P1",
    "p10",
    "p2",
    "pA",
    "pa",
    "9",
    "A",
    "a",
    "z",
    "é",
    "É",
    "e",
    "ß",
    "ss",
    "SS",
    "\u0131",  # dotless i
    "I",
    "i",
    "\u017f",  # long s
    "s",
    "665f00000000000000000001",
    "665F00000000000000000001",
]
_POST_ID = st.one_of(st.sampled_from(_POST_IDS), st.text("aAzZ09éÉ_", min_size=1, max_size=4))
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
    """A dataset as SPEC §7 documents (plain JSON values), possibly with bad values in them;
    `sources` holds the documents of each analytics source that is configured (by name)."""

    users: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    follows: list[dict[str, Any]]
    now: datetime = NOW
    sources: dict[str, list[dict[str, Any]]] = field(factory=dict)


@frozen
class Dataset:
    """A dataset as records, the way a store holds it, and the instant to build at.

    Each analytics source is None when it is not configured; `event_sources` names the event
    collections that are. A later event (daily row, earning) with the key of an earlier one
    replaces it, as a load does.
    """

    users: list[User]
    posts: list[Post]
    follows: list[Follow]
    now: datetime = NOW
    events: list[PostEvent] | None = None
    event_sources: frozenset[str] = frozenset()
    daily: list[DailyAnalytics] | None = None
    earnings: list[Earning] | None = None

    def reference(self) -> InMemoryStore:
        """The dataset in the reference store, with its sources."""
        return InMemoryStore(
            self.users,
            self.posts,
            self.follows,
            events=self.events,
            event_sources=self.event_sources,
            daily=self.daily,
            earnings=self.earnings,
        )

    def describe(self) -> str:
        """The dataset in a few short lines, as a kit failure shows it: ids, authors, times,
        scores and flags, not every field."""
        lines = [
            f"dataset at {format_instant(self.now)}: users {[u.id for u in self.users]!r}",
            *(
                f"  post {p.id!r} by {p.author_id!r} at {format_instant(p.created_at)}, score "
                f"{engagement_score(p)}{', deleted' if p.is_deleted else ''}"
                f"{f', with {list(p.collaborator_ids)!r}' if p.collaborator_ids else ''}"
                for p in self.posts
            ),
            *(
                f"  follow {f.follower_id!r} -> {f.followee_id!r} at {format_instant(f.created_at)}"
                for f in self.follows
            ),
        ]
        lines += [
            f"  {e.kind} {e.id!r} of post {e.post_id!r} by {e.user_id!r} at "
            f"{format_instant(e.created_at)}"
            for e in self.events or ()
        ]
        sources = {"daily rows": self.daily, "earnings": self.earnings}
        lines += [f"  {len(v)} {k}" for k, v in sources.items() if v is not None]
        return "\n".join(lines)

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


_TIE_KEYS = ("authorId", "createdAt", "likesCount", "commentsCount", "savesCount", "sharesCount")


@st.composite
def documents(draw: st.DrawFn, max_posts: int = 25, max_follows: int = 40) -> Documents:
    """Random SPEC §7 documents around `NOW`: score and time ties, deleted posts,
    collaborators, follows on the 7- and 30-day edges to the millisecond and in the future,
    negative and null counters, counters up to 2**53, unicode text, users without records, and
    ids that differ only in case, share prefixes, mix digits and letters or are not ASCII."""
    user_ids = draw(st.lists(st.sampled_from(_IDS), unique=True, max_size=len(_IDS)))
    users = [draw(_user_doc(i)) for i in user_ids]
    post_ids = draw(st.lists(_POST_ID, unique=True, max_size=max_posts))
    posts: list[dict[str, Any]] = []
    for post_id in post_ids:
        post = draw(_post_doc(post_id))
        tied: bool = draw(st.booleans())
        if posts and tied:
            # A full tie with an earlier post (same author, score and time): only the ids
            # order them, so a store must compare ids exactly as the rules do.
            earlier = draw(st.sampled_from(posts))
            post |= {key: earlier[key] for key in _TIE_KEYS}
            earlier["isDeleted"] = post["isDeleted"] = False  # a tie that counts
        posts.append(post)
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
    event_sources = frozenset(n for n in _EVENT_PARSERS if n in docs.sources)
    return Dataset(
        users=[parse_user(d) for d in docs.users],
        posts=[parse_post(d) for d in docs.posts],
        follows=[parse_follow(d) for d in docs.follows],
        now=docs.now,
        events=[_EVENT_PARSERS[n](d) for n in sorted(event_sources) for d in docs.sources[n]]
        if event_sources
        else None,
        event_sources=event_sources,
        daily=[parse_daily(d) for d in docs.sources["daily_artist_analytics"]]
        if "daily_artist_analytics" in docs.sources
        else None,
        earnings=[parse_earning(d) for d in docs.sources["earnings"]]
        if "earnings" in docs.sources
        else None,
    )


def datasets(max_posts: int = 25, max_follows: int = 40) -> st.SearchStrategy[Dataset]:
    """Random datasets as records (see `documents` for what they contain)."""
    return documents(max_posts, max_follows).map(to_dataset)


# --- the analytics sources (SPEC §6) -------------------------------------------------------

_EVENT_PARSERS = {
    "post_view_events": parse_view_event,
    "post_play_events": parse_play_event,
    "post_engagement_events": parse_engagement_event,
}
_TODAY = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
#: Instants on every edge the analytics rules have: the UTC midnights of the chart's, the
#: comparison's and the standing's first and last days, now, the 30-day windows, the future.
_EVENT_EDGES = [
    NOW,
    NOW - _MS,
    NOW + _MS,
    NOW + timedelta(hours=3),
    NOW + timedelta(days=1),
    *(NOW - timedelta(days=30) + k * _MS for k in (-1, 0, 1)),
    *(
        _TODAY - timedelta(days=d) + k * _MS
        for d in (0, 1, 29, 30, 31, 59, 60, -1)
        for k in (-1, 0, 1)
    ),
]
_DAYS = [(_TODAY - timedelta(days=d)).date() for d in range(-1, 66)]
#: Who acted: known people, the artists themselves, anonymous (None, "" or absent).
_VIEWERS = st.one_of(st.sampled_from(_IDS), st.sampled_from([None, ""]))
_AMOUNTS = st.one_of(
    st.sampled_from(["10.005", "-2.5", "0.01", "1e3", "-0.005", "123456789012345678901.25"]),
    st.integers(-1000, 1000),
    st.integers(-(10**6), 10**6).map(lambda cents: str(Decimal(cents).scaleb(-3))),
)


def _event_instants() -> st.SearchStrategy[datetime]:
    offsets = st.integers(-65 * 86_400_000, 2 * 86_400_000).map(lambda ms: NOW + ms * _MS)
    return st.one_of(st.sampled_from(_EVENT_EDGES), offsets)


@st.composite
def _event_doc(draw: st.DrawFn, source: str, post_ids: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        # A small pool of ids: a later event with an earlier one's id replaces it.
        "_id": draw(st.sampled_from([f"e{n}" for n in range(12)])),
        "postId": draw(st.sampled_from([*post_ids, "no-such-post"])),
        "createdAt": format_instant(draw(_event_instants())),
    }
    if draw(st.booleans()):
        doc["userId"] = draw(_VIEWERS)
    if source == "post_engagement_events":
        doc["type"] = draw(st.sampled_from(["like", "comment", "save", "share"]))
    return doc


@st.composite
def _daily_doc(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "artistId": draw(st.sampled_from(_IDS)),
        "date": draw(st.sampled_from(_DAYS)).isoformat(),
        "viewCount": draw(_COUNTER),
        "playCount": draw(_COUNTER),
        "likesCount": draw(_COUNTER),
        "commentsCount": draw(_COUNTER),
        "savesCount": draw(_COUNTER),
        "sharesCount": draw(_COUNTER),
    }


@st.composite
def _earning_doc(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "_id": draw(st.sampled_from([f"m{n}" for n in range(8)])),
        "artistId": draw(st.sampled_from(_IDS)),
        "amount": draw(_AMOUNTS),
        "currency": draw(st.sampled_from(["usd", "USD", "EUR", "eur", "JPY"])),
        "createdAt": format_instant(draw(_event_instants())),
    }


@st.composite
def analytics_documents(draw: st.DrawFn, max_posts: int = 12, max_each: int = 25) -> Documents:
    """Random documents with the analytics sources: each source configured or not (an empty
    one included), events on live, deleted and unknown posts, before and after now and on
    every day and window edge, anonymous events and artists viewing their own posts, duplicate
    event ids, daily rows (zeros and clamped counters included) that override their day's
    events, amounts with refunds and in several currencies."""
    base = draw(documents(max_posts=max_posts, max_follows=25))
    post_ids = [d["_id"] for d in base.posts]
    sources: dict[str, list[dict[str, Any]]] = {}
    for source in _EVENT_PARSERS:
        if draw(st.booleans()):
            docs = st.lists(_event_doc(source, post_ids), max_size=max_each)
            sources[source] = draw(docs)
    if draw(st.booleans()):
        sources["daily_artist_analytics"] = draw(st.lists(_daily_doc(), max_size=max_each))
    if draw(st.booleans()):
        sources["earnings"] = draw(st.lists(_earning_doc(), max_size=8))
    return Documents(base.users, base.posts, base.follows, sources=sources)


def analytics_datasets(max_posts: int = 12, max_each: int = 25) -> st.SearchStrategy[Dataset]:
    """Random datasets with analytics sources, as records (see `analytics_documents`)."""
    return analytics_documents(max_posts, max_each).map(to_dataset)
