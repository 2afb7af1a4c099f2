"""Core: the ports answered from one `DashboardReads` — what a `WholeDashboardRepo` read at
once — so that a build makes the same calls, and applies the same rules, either way.

A call the reads cannot answer exactly as the port would (another window, another limit,
another user) raises `Unanswered`; the build then starts again through the ports themselves.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime

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


class Unanswered(Exception):
    """The reads hold no answer to this call."""


class AnsweredPorts:
    """Every port (the analytics sources' too), answering from `reads` what `ask` asked."""

    def __init__(self, ask: DashboardAsk, reads: DashboardReads) -> None:
        self.ask, self.reads = ask, reads
        self._follower_ids = {f.follower_id for f in reads.recent_followers}

    def _mine(self, user_id: str) -> None:
        if user_id != self.ask.user_id:
            raise Unanswered(user_id)

    # UserRepo

    def get_user(self, user_id: str) -> User | None:
        self._mine(user_id)
        return self.reads.user

    def get_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        if not set(user_ids) <= self._follower_ids:
            raise Unanswered("users other than the recent followers")
        return {i: self.reads.people[i] for i in user_ids if i in self.reads.people}

    # PostRepo

    def post_totals(self, author_id: str) -> PostTotals:
        self._mine(author_id)
        return self.reads.totals

    def count_collaborations(self, user_id: str) -> int:
        self._mine(user_id)
        return self.reads.collaborations

    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        self._mine(author_id)
        if limit != self.ask.top_limit:
            raise Unanswered("top_posts")
        return self.reads.top_posts

    def recent_posts(
        self, author_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Post]:
        self._recent(author_id, after, until, limit)
        return self.reads.recent_posts

    def _recent(self, user_id: str, after: datetime, until: datetime, limit: int) -> None:
        self._mine(user_id)
        if (after, until, limit) != (self.ask.recent_after, self.ask.now, self.ask.recent_limit):
            raise Unanswered("recent")

    # FollowRepo

    def count_followers(self, user_id: str) -> int:
        self._mine(user_id)
        return self.reads.followers

    def count_following(self, user_id: str) -> int:
        self._mine(user_id)
        return self.reads.following

    def count_new_followers(self, user_id: str, after: datetime, until: datetime) -> int:
        self._mine(user_id)
        try:
            return self.reads.new_followers[(after, until)]
        except KeyError:
            raise Unanswered("count_new_followers") from None

    def recent_followers(
        self, user_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Follow]:
        self._recent(user_id, after, until, limit)
        return self.reads.recent_followers

    # DayFiguresRepo

    def _days(self) -> tuple[date, ...]:
        if self.ask.days is None:
            raise Unanswered("days")
        return self.ask.days

    def daily_rows(self, artist_id: str, first: date, last: date) -> Sequence[DayFigures]:
        self._mine(artist_id)
        days = self._days()
        if (first, last) != (days[0], days[-1]):
            raise Unanswered("daily_rows")
        return self.reads.daily_rows

    def event_days(
        self, artist_id: str, first: date, last: date, until: datetime
    ) -> Sequence[DayFigures]:
        self._mine(artist_id)
        start = self.reads.events_from
        if until != self.ask.now or start is None or first < start or last > self._days()[-1]:
            raise Unanswered("event_days")
        return [f for f in self.reads.event_days if first <= f.day <= last]

    def standing(self, artist_id: str, first: date, last: date) -> Standing:
        self._mine(artist_id)
        if (first, last) != self.ask.standing_days or self.reads.standing is None:
            raise Unanswered("standing")
        return self.reads.standing

    # AudienceRepo

    def count_non_followers(self, artist_id: str, after: datetime, until: datetime) -> int:
        self._mine(artist_id)
        if (after, until) != self.ask.audience_window:
            raise Unanswered("count_non_followers")
        return self.reads.non_followers

    # RevenueRepo

    def revenue(self, artist_id: str, after: datetime, until: datetime) -> Sequence[CurrencyTotal]:
        self._mine(artist_id)
        if (after, until) != self.ask.revenue_window:
            raise Unanswered("revenue")
        return self.reads.revenue
