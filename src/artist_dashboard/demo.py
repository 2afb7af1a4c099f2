"""Embedded default: the demo artist, whose dashboard reproduces the app team's example response.

At `DEMO_NOW` the demo artist has 120 followers (4 this week, 19 this month), follows 45
people, has 12 live posts (and one deleted draft that counts nowhere), takes part in 2
collaborations, and "New track" (score 90 + 10 + 8 + 5 = 113) is the top post.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ._core.build import build_dashboard
from ._core.clock import FixedClock
from ._core.records import DailyAnalytics, Earning, Follow, Post, PostEvent, User
from ._core.response import ArtistDashboard
from ._core.wire import parse_instant
from .memory import InMemoryStore

__all__ = [
    "DEMO_NOW",
    "DEMO_USER_ID",
    "demo_analytics_dashboard",
    "demo_analytics_store",
    "demo_dashboard",
    "demo_sources",
    "demo_store",
]

DEMO_USER_ID = "665f00000000000000000001"
DEMO_NOW = parse_instant("2026-06-08T00:00:00.000Z")
_GUEST_ID = "665f00000000000000000003"


def _oid(number: int) -> str:
    return f"665f{number:020x}"


def _ago(days: float) -> datetime:
    return DEMO_NOW - timedelta(days=days)


# type, content, views, plays, likes, comments, saves, shares, days ago
_POSTS = [
    ("video", "Studio session", 400, 0, 30, 6, 2, 1, 3),
    ("audio", "Demo: Night drive", 200, 180, 20, 5, 2, 1, 10),
    ("image", "Tour poster", 300, 0, 18, 4, 1, 1, 15),
    ("audio", "Acoustic take", 150, 120, 14, 3, 1, 1, 20),
    ("text", "Thank you, 100 followers!", 120, 0, 12, 3, 1, 0, 40),
    ("video", "Rehearsal clip", 250, 0, 10, 2, 1, 1, 55),
    ("audio", "Old single (remaster)", 100, 80, 8, 2, 1, 0, 70),
    ("image", "Cover art sketch", 180, 0, 7, 2, 0, 1, 90),
    ("text", "New music soon", 90, 0, 5, 1, 1, 0, 120),
    ("video", "Behind the scenes", 160, 0, 4, 1, 0, 0, 150),
    ("audio", "First upload", 50, 0, 2, 1, 0, 0, 300),
]
# When the 120 followers followed, in days before DEMO_NOW: 4 this week, 15 more this month.
_FOLLOWED_DAYS_AGO = (
    [0.25, 1, 3, 6.5] + [8 + i * 1.5 for i in range(15)] + [31 + i * 3 for i in range(101)]
)


def demo_records() -> tuple[list[User], list[Post], list[Follow]]:
    """The demo dataset's users, posts and follows."""
    artist = User(
        id=DEMO_USER_ID,
        name="Artist Name",
        stage_name="Stage Name",
        bio="Short artist bio",
    )
    guest = User(id=_GUEST_ID, name="Guest Artist", stage_name="The Guest", is_verified=True)
    fans = [
        User(id=_oid(0x1000 + i), name=f"Listener {i + 1}", is_verified=i % 10 == 0)
        for i in range(len(_FOLLOWED_DAYS_AGO))
    ]
    idols = [User(id=_oid(0x2000 + i), name=f"Artist {i + 1}") for i in range(45)]

    posts = [
        Post(
            id="665f00000000000000000002",
            author_id=DEMO_USER_ID,
            created_at=DEMO_NOW,
            post_type="audio",
            content="New track",
            view_count=1000,
            play_count=600,
            likes_count=90,
            comments_count=10,
            saves_count=8,
            shares_count=5,
        )
    ]
    for number, (kind, content, v, p, lk, cm, sv, sh, days) in enumerate(_POSTS):
        posts.append(
            Post(
                id=_oid(0x100 + number),
                author_id=DEMO_USER_ID,
                created_at=_ago(days),
                collaborator_ids=[_GUEST_ID] if content == "Demo: Night drive" else [],
                post_type=kind,
                content=content,
                view_count=v,
                play_count=p,
                likes_count=lk,
                comments_count=cm,
                saves_count=sv,
                shares_count=sh,
            )
        )
    posts.append(
        Post(
            id=_oid(0x1FF),
            author_id=DEMO_USER_ID,
            created_at=_ago(2),
            post_type="audio",
            content="Deleted draft",
            view_count=99_999,
            likes_count=9_999,
            is_deleted=True,
        )
    )
    posts.append(
        Post(
            id=_oid(0x300),
            author_id=_GUEST_ID,
            created_at=_ago(12),
            collaborator_ids=[DEMO_USER_ID],
            post_type="audio",
            content="Feature: Summer",
            view_count=5_000,
            play_count=4_000,
            likes_count=300,
        )
    )

    follows = [
        Follow(follower_id=fan.id, followee_id=DEMO_USER_ID, created_at=_ago(days))
        for fan, days in zip(fans, _FOLLOWED_DAYS_AGO, strict=True)
    ]
    follows += [
        Follow(follower_id=DEMO_USER_ID, followee_id=idol.id, created_at=_ago(200 + i))
        for i, idol in enumerate(idols)
    ]
    return [artist, guest, *fans, *idols], posts, follows


def demo_store() -> InMemoryStore:
    users, posts, follows = demo_records()
    return InMemoryStore(users, posts, follows)


def demo_dashboard() -> ArtistDashboard:
    """The demo artist's dashboard at `DEMO_NOW`."""
    return build_dashboard(DEMO_USER_ID, demo_store().repos, FixedClock(DEMO_NOW))


# --- the analytics sources (SPEC §6): `demo --analytics` -----------------------------------

#: Artists the demo artist is ranked against, each with one post and a steady audience:
#: (views, plays, engagements) per day.
_PEERS = [(40, 10, 1), (30, 30, 4), (80, 0, 3), (20, 20, 6), (60, 20, 2), (10, 10, 8), (25, 5, 9)]


def demo_sources() -> tuple[
    list[User], list[Post], list[PostEvent], list[DailyAnalytics], list[Earning]
]:
    """Sample sources around the demo: 60 days of events on the demo artist's posts (by fans
    who follow and listeners who do not), daily rows imported for the older days, a few peer
    artists to rank against, and a month of earnings with one refund."""
    users, posts, follows = demo_records()
    fans = [f.follower_id for f in follows if f.followee_id == DEMO_USER_ID]
    listeners = [_oid(0x3000 + n) for n in range(60)]
    mine = [p for p in posts if p.author_id == DEMO_USER_ID and not p.is_deleted]
    events: list[PostEvent] = []
    daily: list[DailyAnalytics] = []
    today = DEMO_NOW.date()
    for ago in range(60):
        day = today - timedelta(days=ago)
        # A daily row for days before the last week (as an import would give), events after.
        views, plays = 20 + (ago * 7) % 13, 10 + (ago * 5) % 9
        likes, comments, saves, shares = 3 + ago % 4, 1 + ago % 3, ago % 2, ago % 3 // 2
        if ago >= 7:
            daily.append(
                DailyAnalytics(DEMO_USER_ID, day, views, plays, likes, comments, saves, shares)
            )
            continue
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=9)
        if moment > DEMO_NOW:
            moment = DEMO_NOW - timedelta(hours=1)
        kinds = (
            ["view"] * views
            + ["play"] * plays
            + ["like"] * likes
            + ["comment"] * comments
            + ["save"] * saves
            + ["share"] * shares
        )
        for n, kind in enumerate(kinds):
            people = fans + listeners
            viewer = people[(ago * 37 + n * 7) % len(people)]
            events.append(
                PostEvent(
                    id=f"demo-{ago:02d}-{n:03d}",
                    post_id=mine[n % len(mine)].id,
                    created_at=moment + timedelta(minutes=n),
                    kind=kind,
                    user_id=viewer if n % 5 else None,  # one in five is anonymous
                )
            )
    peers = [User(id=_oid(0x4000 + n), name=f"Peer {n + 1}") for n in range(len(_PEERS))]
    peer_posts = [
        Post(id=_oid(0x4100 + n), author_id=peer.id, created_at=DEMO_NOW - timedelta(days=90))
        for n, peer in enumerate(peers)
    ]
    for (views, plays, engaged), peer in zip(_PEERS, peers, strict=True):
        for ago in range(1, 31):
            day = today - timedelta(days=ago)
            daily.append(DailyAnalytics(peer.id, day, views, plays, engaged))
    earnings = [
        Earning(f"demo-pay-{n}", DEMO_USER_ID, Decimal(amount), "USD", DEMO_NOW - timedelta(days=d))
        for n, (amount, d) in enumerate(
            [("12.40", 2), ("8.05", 6), ("30.00", 11), ("-4.99", 12), ("15.335", 25), ("99.00", 45)]
        )
    ]
    return [*users, *peers], [*posts, *peer_posts], events, daily, earnings


def demo_analytics_store() -> InMemoryStore:
    """The demo store with the sample analytics sources configured."""
    users, posts, events, daily, earnings = demo_sources()
    _, _, follows = demo_records()
    return InMemoryStore(users, posts, follows, events=events, daily=daily, earnings=earnings)


def demo_analytics_dashboard() -> ArtistDashboard:
    """The demo artist's dashboard at `DEMO_NOW`, with the sample analytics sources."""
    return build_dashboard(DEMO_USER_ID, demo_analytics_store().repos, FixedClock(DEMO_NOW))
