"""Core: the ports, what the core asks of storage and of time.

Each method asks for something a database answers from an index — a record by id, a count,
a sum, the top N, the recent N — never for all of an artist's posts or follows. Every time
window has the one shape ``after < created_at <= until``. Only live posts (not deleted or
hidden) take part anywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from .records import Follow, Post, PostTotals, User

__all__ = ["Clock", "FollowRepo", "PostRepo", "UserRepo"]


class UserRepo(Protocol):
    def get_user(self, user_id: str) -> User | None:
        """The user's record, or None when there is none."""

    def get_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        """The records that exist among `user_ids`, by id (at most a page of ids is asked)."""


class PostRepo(Protocol):
    def post_totals(self, author_id: str) -> PostTotals:
        """Count and counter sums of the author's live posts, each counter clamped at 0."""

    def count_collaborations(self, user_id: str) -> int:
        """Live posts the user takes part in with someone else (see `rules.is_collaboration`)."""

    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        """The author's first `limit` live posts by `rules.ranking_key`, descending."""

    def recent_posts(
        self, author_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Post]:
        """The author's live posts with ``after < created_at <= until``, newest first, then id
        descending; at most `limit`."""


class FollowRepo(Protocol):
    def count_followers(self, user_id: str) -> int:
        """Follows whose followee is the user."""

    def count_following(self, user_id: str) -> int:
        """Follows whose follower is the user."""

    def count_new_followers(self, user_id: str, after: datetime, until: datetime) -> int:
        """Follows of the user with ``after < created_at <= until``."""

    def recent_followers(
        self, user_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Follow]:
        """Follows of the user with ``after < created_at <= until``, newest first, then
        follower id descending; at most `limit`."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
