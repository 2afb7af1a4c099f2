"""Core: the ports, what the core asks of storage and of time.

Each method asks for something a database answers from an index — a record by id, a count,
a sum, the top N, the recent N — never for all of an artist's posts or follows. Every time
window has the one shape ``after < created_at <= until``. Only live posts (not deleted or
hidden) take part anywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

from .records import (
    CurrencyTotal,
    DashboardAsk,
    DashboardReads,
    DayFigures,
    Follow,
    Post,
    PostTotals,
    Standing,
    User,
)

__all__ = [
    "AudienceRepo",
    "Clock",
    "DayFiguresRepo",
    "FollowRepo",
    "Observer",
    "PostRepo",
    "RevenueRepo",
    "UserRepo",
    "WholeDashboardRepo",
]


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
        """The author's first `limit` live posts by `rules.ranking_key`, descending.
        (`collaborator_ids` may be left empty: no figure of a dashboard reads them.)"""

    def recent_posts(
        self, author_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Post]:
        """The author's live posts with ``after < created_at <= until``, newest first, then id
        descending; at most `limit` (`collaborator_ids` may be left empty)."""


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


# --- optional analytics sources (SPEC §6): per artist, per day range, aggregates only --------


class DayFiguresRepo(Protocol):
    """Events and/or daily analytics (configured when either is). A store without one of the
    two answers it with nothing. Days are UTC calendar days, ``first <= day <= last``."""

    def daily_rows(self, artist_id: str, first: date, last: date) -> Sequence[DayFigures]:
        """The artist's ``daily_artist_analytics`` rows in the days, counters clamped at 0."""

    def event_days(
        self, artist_id: str, first: date, last: date, until: datetime
    ) -> Sequence[DayFigures]:
        """Per day with any, the counts of the events with ``created_at <= until`` on the
        artist's posts (live, deleted or hidden; an event whose post does not exist counts
        nowhere): views, plays, and each engagement type."""

    def standing(self, artist_id: str, first: date, last: date) -> Standing:
        """The artist's standing over the days among every artist with views + plays > 0 in
        them, each (artist, day) taking its row where there is one, else its events
        (`analytics.day_figures`), rates compared as exact fractions (`analytics.rank_all`)."""


class AudienceRepo(Protocol):
    """View and/or play events (configured when either is)."""

    def count_non_followers(self, artist_id: str, after: datetime, until: datetime) -> int:
        """Distinct ids of people with a view or play event on the artist's posts in
        ``after < created_at <= until``, not anonymous, not the artist, and not among the
        artist's stored followers. The ids never leave the store."""


class RevenueRepo(Protocol):
    """The revenue module's ``earnings`` entries."""

    def revenue(self, artist_id: str, after: datetime, until: datetime) -> Sequence[CurrencyTotal]:
        """Per currency, the exact sum and the count of the artist's entries with
        ``after < created_at <= until`` (one item per currency that has entries)."""


class WholeDashboardRepo(Protocol):
    """Optional: every read of one dashboard at once — for a store that can answer them in
    one statement or round trip. The core still applies every rule to the answers."""

    def read_dashboard(self, ask: DashboardAsk) -> DashboardReads | None:
        """The answers the ports would give for `ask`, all read in one consistent snapshot;
        or None when the store cannot answer this one at once (the core then asks the ports,
        one by one, in a snapshot)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""


class Observer(Protocol):
    """What measures builds: a service's metrics or traces (`artist_dashboard.metrics`)."""

    def timed(self, operation: str) -> AbstractContextManager[object]:
        """Around one build (``"build"``) or one store call (``"posts.top_posts"``,
        ``"whole.read_dashboard"``); an exception raised inside passes through it unchanged."""

    def corrected(self, count: int) -> None:
        """One build corrected `count` stored values (SPEC §5); called only when count > 0."""
