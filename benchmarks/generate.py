"""A deterministic data set for the benchmarks: one heavy artist, one typical artist, many others.

At --scale 1 (the default): 1,000,000 posts and 2,000,000 follows; the heavy artist owns
200,000 posts and has 500,000 followers, the typical artist 100 posts and 200 followers. The
events of the last 60 days: 3,000,000 on the heavy artist's posts from 300,000 viewers (half
of them followers), 300 on the typical artist's, 1,000,000 on everyone else's. Smaller scales
shrink everything but the typical artist. Same scale, same data, every time.

    python -m benchmarks.generate --out data/          # a dataset folder (JSON lines)
    python -m benchmarks.generate --db bench.sqlite3   # straight into a database
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from artist_dashboard import Earning, Follow, Post, PostEvent, User

NOW = datetime(2026, 6, 8, tzinfo=UTC)
HEAVY = "artist-heavy"
TYPICAL = "artist-typical"
SEED = 20260608
_SPAN_SECONDS = 730 * 86_400  # two years of history


class Shape:
    """How many of everything at a scale."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.posts = max(int(1_000_000 * scale), 1_000)
        self.follows = max(int(2_000_000 * scale), 2_000)
        self.heavy_posts = max(int(200_000 * scale), 200)
        self.heavy_followers = max(int(500_000 * scale), 500)
        self.typical_posts = 100
        self.typical_followers = 200
        self.artists = max(int(10_000 * scale), 20)
        self.listeners = max(int(1_000_000 * scale), 1_000)
        self.heavy_events = max(int(3_000_000 * scale), 3_000)
        self.heavy_viewers = max(int(300_000 * scale), 300)
        self.typical_events = 300
        self.typical_viewers = 100
        self.other_events = max(int(1_000_000 * scale), 1_000)


def _artist(n: int) -> str:
    return f"artist-{n:06d}"


def _listener(n: int) -> str:
    return f"listener-{n:07d}"


def _when(rng: random.Random) -> datetime:
    return NOW - timedelta(seconds=rng.randrange(_SPAN_SECONDS), milliseconds=rng.randrange(1000))


def users(shape: Shape) -> Iterator[User]:
    yield User(id=HEAVY, name="Heavy Artist", stage_name="HEAVY", is_verified=True)
    yield User(id=TYPICAL, name="Typical Artist", stage_name="typical")
    for n in range(shape.artists):
        yield User(id=_artist(n), name=f"Artist {n}")
    for n in range(0, shape.listeners, 50):  # a record for one listener in fifty
        yield User(id=_listener(n), name=f"Listener {n}")


def posts(shape: Shape) -> Iterator[Post]:
    rng = random.Random(SEED)
    others = shape.posts - shape.heavy_posts - shape.typical_posts
    authors = [(HEAVY, shape.heavy_posts), (TYPICAL, shape.typical_posts), (None, others)]
    number = 0
    for author, count in authors:
        for _ in range(count):
            owner = author or _artist(rng.randrange(shape.artists))
            collaborators: list[str] = []
            roll = rng.random()
            if roll < 0.05:
                collaborators = [_artist(rng.randrange(shape.artists))]
            elif roll < 0.06 and owner != HEAVY:
                collaborators = [HEAVY]
            yield Post(
                id=f"post-{number:08d}",
                author_id=owner,
                created_at=_when(rng),
                collaborator_ids=collaborators,
                post_type=rng.choice(("audio", "video", "image", "text")),
                content=f"post {number}",
                view_count=rng.randrange(20_000),
                play_count=rng.randrange(10_000),
                likes_count=rng.randrange(1_000),
                comments_count=rng.randrange(200),
                saves_count=rng.randrange(100),
                shares_count=rng.randrange(100),
                is_deleted=rng.random() < 0.02,
            )
            number += 1


def follows(shape: Shape) -> Iterator[Follow]:
    rng = random.Random(SEED + 1)
    for n in range(shape.heavy_followers):
        yield Follow(follower_id=_listener(n), followee_id=HEAVY, created_at=_when(rng))
    for n in range(shape.typical_followers):
        yield Follow(follower_id=_listener(n), followee_id=TYPICAL, created_at=_when(rng))
    for n in range(300):
        yield Follow(
            follower_id=HEAVY, followee_id=_artist(n % shape.artists), created_at=_when(rng)
        )
    for n in range(50):
        yield Follow(
            follower_id=TYPICAL, followee_id=_artist(n % shape.artists), created_at=_when(rng)
        )
    rest = shape.follows - shape.heavy_followers - shape.typical_followers - 350
    for i in range(rest):
        # Listener j follows artist (j + round * 997) in round `round`: every pair is distinct.
        j, round_ = i % shape.listeners, i // shape.listeners
        artist = (j + round_ * 997) % shape.artists
        yield Follow(follower_id=_listener(j), followee_id=_artist(artist), created_at=_when(rng))


_EVENT_SPAN_MS = 60 * 86_400_000
#: Of every 100 events: 60 views, 25 plays, and likes, comments, saves and shares.
_KINDS = (
    ["view"] * 60 + ["play"] * 25 + ["like"] * 8 + ["comment"] * 3 + ["save"] * 2 + ["share"] * 2
)


def events(shape: Shape) -> Iterator[PostEvent]:
    """The last 60 days' events: the heavy artist's from `heavy_viewers` listeners, half of
    whom follow the artist; one in ten anonymous."""
    rng = random.Random(SEED + 2)
    first_viewer = shape.heavy_followers - shape.heavy_viewers // 2
    typical_first = shape.heavy_posts
    others_first = shape.heavy_posts + shape.typical_posts
    groups = [
        (shape.heavy_events, 0, shape.heavy_posts, first_viewer, shape.heavy_viewers),
        (shape.typical_events, typical_first, shape.typical_posts, 0, shape.typical_viewers),
        (shape.other_events, others_first, shape.posts - others_first, 0, shape.listeners),
    ]
    number = 0
    for count, post_first, posts_in, viewer_first, viewers in groups:
        for _ in range(count):
            kind = _KINDS[rng.randrange(100)]
            viewer = (viewer_first + rng.randrange(viewers)) % shape.listeners
            yield PostEvent(
                id=f"event-{number:09d}",
                post_id=f"post-{post_first + rng.randrange(posts_in):08d}",
                created_at=NOW - timedelta(milliseconds=rng.randrange(_EVENT_SPAN_MS)),
                kind=kind,
                user_id=None if rng.random() < 0.1 else _listener(viewer),
            )
            number += 1


def earnings(shape: Shape) -> Iterator[Earning]:
    """The last 60 days' revenue: 2,000 entries for the heavy artist (a few refunds), 20 for
    the typical one, 5 for every other artist; all in USD."""
    rng = random.Random(SEED + 3)
    counts = [(HEAVY, 2_000), (TYPICAL, 20)] + [(_artist(n), 5) for n in range(shape.artists)]
    number = 0
    for artist, count in counts:
        for _ in range(count):
            cents = rng.randrange(-500, 5_000) if rng.random() < 0.05 else rng.randrange(1, 5_000)
            yield Earning(
                id=f"pay-{number:08d}",
                artist_id=artist,
                amount=Decimal(cents) / 100,
                currency="USD",
                created_at=NOW - timedelta(milliseconds=rng.randrange(_EVENT_SPAN_MS)),
            )
            number += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="write a dataset folder")
    target.add_argument("--db", help="load into this database (URL or SQLite path)")
    args = parser.parse_args(argv)
    shape, started = Shape(args.scale), time.perf_counter()
    if args.out:
        from artist_dashboard.dataset import write_dataset

        write_dataset(args.out, users(shape), posts(shape), follows(shape), events=events(shape))
    else:
        from artist_dashboard.cli._database import open_database
        from artist_dashboard.sql import load_records_into

        engine = open_database(args.db, create=True)
        load_records_into(engine, users(shape), posts(shape), follows(shape), batch_size=20_000)
    print(f"generated scale {args.scale} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
