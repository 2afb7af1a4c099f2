"""Core: the metric rules, every weight, window, rounding and ranking, defined once.

Adapters that push a rule into a query build it from the names and constants here, and the
conformance kit (`artist_dashboard.testing`) proves they agree with these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from .numbers import half_up
from .records import Post
from .values import MAX_COUNTER, MAX_ID_BYTES, as_utc, clamp_counter, is_storable_id

__all__ = [
    "ACTIVITY_WINDOW",
    "MAX_COUNTER",
    "MAX_ID_BYTES",
    "NEW_FOLLOWERS_MONTH",
    "NEW_FOLLOWERS_WEEK",
    "POST_COUNTERS",
    "REACH_COUNTERS",
    "RECENT_ACTIVITY_DEFAULT",
    "RECENT_ACTIVITY_MAX",
    "SCORE_COUNTERS",
    "TOP_CONTENT_DEFAULT",
    "TOP_CONTENT_MAX",
    "ZERO",
    "as_utc",
    "clamp_counter",
    "engagement_rate",
    "engagement_score",
    "in_window",
    "is_collaboration",
    "is_storable_id",
    "order_activity",
    "rank_top_content",
    "ranking_key",
]

_Event = TypeVar("_Event")

#: A rate, a percentage or an amount of nothing.
ZERO = Decimal(0)

#: Counters that measure reach; the engagement rate divides by their sum.
REACH_COUNTERS: tuple[str, ...] = ("view_count", "play_count")
#: Counters that measure engagement, each with weight 1, in the score and the rate.
SCORE_COUNTERS: tuple[str, ...] = ("likes_count", "comments_count", "saves_count", "shares_count")
#: Every post counter, in the order of the response.
POST_COUNTERS: tuple[str, ...] = REACH_COUNTERS + SCORE_COUNTERS

#: `audience.newFollowersThisWeek` and `...ThisMonth` look back this far (rolling windows).
NEW_FOLLOWERS_WEEK = timedelta(days=7)
NEW_FOLLOWERS_MONTH = timedelta(days=30)
#: `recentActivity` looks back this far.
ACTIVITY_WINDOW = timedelta(days=30)

TOP_CONTENT_DEFAULT = 5
TOP_CONTENT_MAX = 50
RECENT_ACTIVITY_DEFAULT = 10
RECENT_ACTIVITY_MAX = 50


def engagement_score(post: Post) -> int:
    """likes + comments + saves + shares of one post."""
    return sum(getattr(post, name) for name in SCORE_COUNTERS)


def engagement_rate(engagements: int, reach: int) -> Decimal:
    """engagements / reach x 100, rounded half-up to 2 decimals with exact integer arithmetic.

    0 when reach is 0 (or negative, which clamped counters never produce); never NaN or
    infinite; not capped at 100.
    """
    if reach <= 0 or engagements <= 0:
        return ZERO
    return half_up(engagements * 100, reach)


def ranking_key(post: Post) -> tuple[int, datetime, str]:
    """Sort key of top content; sort with ``reverse=True`` (score, then newest, then id desc)."""
    return (engagement_score(post), post.created_at, post.id)


def rank_top_content(posts: Iterable[Post], limit: int) -> list[Post]:
    """The first `limit` posts by engagement score desc, createdAt desc, id desc."""
    return sorted(posts, key=ranking_key, reverse=True)[:limit]


def in_window(instant: datetime, after: datetime, until: datetime) -> bool:
    """True when ``after < instant <= until``: the one shape of every time window here."""
    return after < instant <= until


def is_collaboration(post: Post, user_id: str) -> bool:
    """True when `post` is live and `user_id` takes part in it with someone else.

    Authored by the user with at least one collaborator other than the user, or listing the
    user as a collaborator of someone else's post.
    """
    if post.is_deleted:
        return False
    others = [c for c in post.collaborator_ids if c != post.author_id]
    if post.author_id == user_id:
        return bool(others)
    return user_id in others


def order_activity(
    events: Iterable[_Event], key: Callable[[_Event], tuple[datetime, str, str]], limit: int
) -> list[_Event]:
    """Recent activity order: newest first; a tie goes to `type` ascending, then id descending.

    `key` gives an event's ``(created_at, type, id)``. Three stable sorts, least significant
    first, keep the comparison exact (no float timestamps).
    """
    ordered = sorted(events, key=lambda e: key(e)[2], reverse=True)
    ordered.sort(key=lambda e: key(e)[1])
    ordered.sort(key=lambda e: key(e)[0], reverse=True)
    return ordered[:limit]
