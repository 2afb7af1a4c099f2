"""Embedded default: the in-memory store, reference implementation of the ports.

It keeps records in dicts indexed by author, followee and follower, and answers every port
method — the analytics sources' too — with the core's rules directly, which makes it the
yardstick the conformance kit measures other stores against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from ._core import analytics, rules
from ._core.build import Repos
from ._core.numbers import exact_sum
from ._core.records import (
    CurrencyTotal,
    DailyAnalytics,
    DayFigures,
    Earning,
    Follow,
    Post,
    PostEvent,
    PostTotals,
    Standing,
    User,
)

#: The analytics sources, by the name of their collection (and dataset file).
SOURCES = (
    "post_view_events",
    "post_play_events",
    "post_engagement_events",
    "daily_artist_analytics",
    "earnings",
)

__all__ = ["InMemoryStore"]


class InMemoryStore:
    """Users, posts and follows in memory; implements `UserRepo`, `PostRepo`, `FollowRepo`,
    and the analytics sources it is given.

    A record added with the key of an existing one replaces it (a follow is identified by its
    follower and followee, an event by its id within its collection, a daily row by artist and
    day). Each analytics source is configured when its argument is given, even empty: `events`
    configures the event collections named in `event_sources` (by default the collections of
    the events given).
    """

    def __init__(
        self,
        users: Iterable[User] = (),
        posts: Iterable[Post] = (),
        follows: Iterable[Follow] = (),
        *,
        events: Iterable[PostEvent] | None = None,
        event_sources: Collection[str] | None = None,
        daily: Iterable[DailyAnalytics] | None = None,
        earnings: Iterable[Earning] | None = None,
    ) -> None:
        self._users: dict[str, User] = {}
        self._posts: dict[str, Post] = {}
        self._by_author: defaultdict[str, dict[str, Post]] = defaultdict(dict)
        self._by_collaborator: defaultdict[str, set[str]] = defaultdict(set)
        self._followers: defaultdict[str, dict[str, Follow]] = defaultdict(dict)
        self._following: defaultdict[str, dict[str, Follow]] = defaultdict(dict)
        for user in users:
            self.add_user(user)
        for post in posts:
            self.add_post(post)
        for follow in follows:
            self.add_follow(follow)
        self._events: dict[tuple[str, str], PostEvent] = {}
        self._events_by_post: defaultdict[str, dict[tuple[str, str], PostEvent]] = defaultdict(dict)
        self._daily: dict[tuple[str, date], DailyAnalytics] = {}
        self._earnings: dict[str, Earning] = {}
        given = list(events) if events is not None else None
        self.sources: set[str] = set()
        if given is not None:
            if event_sources is None:
                event_sources = {e.key[0] for e in given}
            self.sources |= set(event_sources)
            for event in given:
                self.add_event(event)
        if daily is not None:
            self.sources.add("daily_artist_analytics")
            for row in daily:
                self.add_daily(row)
        if earnings is not None:
            self.sources.add("earnings")
            for entry in earnings:
                self.add_earning(entry)

    @property
    def repos(self) -> Repos:
        """This store as the ports, and as each analytics source that is configured, for
        `build_dashboard`."""
        events = self.sources & {"post_view_events", "post_play_events", "post_engagement_events"}
        return Repos.of(
            self,
            days=self if events or "daily_artist_analytics" in self.sources else None,
            audience=self if events & {"post_view_events", "post_play_events"} else None,
            revenue=self if "earnings" in self.sources else None,
        )

    def add_event(self, event: PostEvent) -> None:
        self.sources.add(event.key[0])
        old = self._events.pop(event.key, None)
        if old is not None:
            del self._events_by_post[old.post_id][old.key]
        self._events[event.key] = event
        self._events_by_post[event.post_id][event.key] = event

    def add_daily(self, row: DailyAnalytics) -> None:
        self.sources.add("daily_artist_analytics")
        self._daily[(row.artist_id, row.day)] = row

    def add_earning(self, entry: Earning) -> None:
        self.sources.add("earnings")
        self._earnings[entry.id] = entry

    def add_user(self, user: User) -> None:
        self._users[user.id] = user

    def add_post(self, post: Post) -> None:
        old = self._posts.pop(post.id, None)
        if old is not None:
            del self._by_author[old.author_id][old.id]
            for collaborator in old.collaborator_ids:
                self._by_collaborator[collaborator].discard(old.id)
        self._posts[post.id] = post
        self._by_author[post.author_id][post.id] = post
        for collaborator in post.collaborator_ids:
            self._by_collaborator[collaborator].add(post.id)

    def add_follow(self, follow: Follow) -> None:
        self._followers[follow.followee_id][follow.follower_id] = follow
        self._following[follow.follower_id][follow.followee_id] = follow

    @property
    def users(self) -> Sequence[User]:
        return list(self._users.values())

    @property
    def posts(self) -> Sequence[Post]:
        return list(self._posts.values())

    @property
    def follows(self) -> Sequence[Follow]:
        return [f for by_follower in self._followers.values() for f in by_follower.values()]

    @property
    def events(self) -> Sequence[PostEvent]:
        return list(self._events.values())

    @property
    def daily(self) -> Sequence[DailyAnalytics]:
        return list(self._daily.values())

    @property
    def earnings(self) -> Sequence[Earning]:
        return list(self._earnings.values())

    # UserRepo

    def get_user(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def get_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        return {i: self._users[i] for i in user_ids if i in self._users}

    # PostRepo

    def _live(self, author_id: str) -> list[Post]:
        return [p for p in self._by_author.get(author_id, {}).values() if not p.is_deleted]

    def post_totals(self, author_id: str) -> PostTotals:
        live = self._live(author_id)
        sums = {name: sum(getattr(p, name) for p in live) for name in rules.POST_COUNTERS}
        return PostTotals(posts=len(live), **sums)

    def count_collaborations(self, user_id: str) -> int:
        candidates = set(self._by_collaborator.get(user_id, ())) | set(
            self._by_author.get(user_id, {})
        )
        return sum(rules.is_collaboration(self._posts[i], user_id) for i in candidates)

    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        return rules.rank_top_content(self._live(author_id), limit)

    def recent_posts(
        self, author_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Post]:
        found = [p for p in self._live(author_id) if rules.in_window(p.created_at, after, until)]
        found.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        return found[:limit]

    # FollowRepo

    def count_followers(self, user_id: str) -> int:
        return len(self._followers.get(user_id, {}))

    def count_following(self, user_id: str) -> int:
        return len(self._following.get(user_id, {}))

    def count_new_followers(self, user_id: str, after: datetime, until: datetime) -> int:
        follows = self._followers.get(user_id, {}).values()
        return sum(rules.in_window(f.created_at, after, until) for f in follows)

    def recent_followers(
        self, user_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Follow]:
        follows = self._followers.get(user_id, {}).values()
        found = [f for f in follows if rules.in_window(f.created_at, after, until)]
        found.sort(key=lambda f: (f.created_at, f.follower_id), reverse=True)
        return found[:limit]

    # DayFiguresRepo

    def daily_rows(self, artist_id: str, first: date, last: date) -> Sequence[DayFigures]:
        rows = [r for (a, d), r in self._daily.items() if a == artist_id and first <= d <= last]
        return [_figures(r.day, r) for r in sorted(rows, key=lambda r: r.day)]

    def _events_of(self, artist_id: str) -> Iterable[PostEvent]:
        """Every event on the artist's posts, live, deleted or hidden."""
        for post_id in self._by_author.get(artist_id, {}):
            yield from self._events_by_post.get(post_id, {}).values()

    def event_days(
        self, artist_id: str, first: date, last: date, until: datetime
    ) -> Sequence[DayFigures]:
        counts: defaultdict[date, dict[str, int]] = defaultdict(dict)
        for event in self._events_of(artist_id):
            day = analytics.utc_day(event.created_at)
            if first <= day <= last and event.created_at <= until:
                counter = analytics.EVENT_COUNTERS[event.kind]
                counts[day][counter] = counts[day].get(counter, 0) + 1
        return [DayFigures(day, **counts[day]) for day in sorted(counts)]

    def standing(self, artist_id: str, first: date, last: date) -> Standing:
        rows = {
            key: _figures(row.day, row)
            for key, row in self._daily.items()
            if first <= row.day <= last
        }
        events: defaultdict[tuple[str, date], dict[str, int]] = defaultdict(dict)
        for event in self._events.values():
            post = self._posts.get(event.post_id)
            day = analytics.utc_day(event.created_at)
            if post is not None and first <= day <= last:
                counter = analytics.EVENT_COUNTERS[event.kind]
                found = events[(post.author_id, day)]
                found[counter] = found.get(counter, 0) + 1
        totals: defaultdict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
        for artist, day in set(rows) | set(events):
            counted = events.get((artist, day))
            figures = analytics.day_figures(
                day, rows.get((artist, day)), DayFigures(day, **counted) if counted else None
            )
            engaged, reached = totals[artist]
            totals[artist] = (
                engaged + analytics.engagements_of(figures),
                reached + analytics.reach_of(figures),
            )
        return analytics.rank_standing(artist_id, totals)

    # AudienceRepo

    def count_non_followers(self, artist_id: str, after: datetime, until: datetime) -> int:
        followers = self._followers.get(artist_id, {})
        viewers = {
            e.user_id
            for e in self._events_of(artist_id)
            if e.kind in ("view", "play") and rules.in_window(e.created_at, after, until)
        }
        viewers.discard(None)
        viewers.discard(artist_id)
        return len({v for v in viewers if v not in followers})

    # RevenueRepo

    def revenue(self, artist_id: str, after: datetime, until: datetime) -> Sequence[CurrencyTotal]:
        amounts: defaultdict[str, list[Decimal]] = defaultdict(list)
        for entry in self._earnings.values():
            if entry.artist_id == artist_id and rules.in_window(entry.created_at, after, until):
                amounts[entry.currency].append(entry.amount)
        return [CurrencyTotal(c, exact_sum(a), len(a)) for c, a in sorted(amounts.items())]


def _figures(day: date, row: DailyAnalytics) -> DayFigures:
    return DayFigures(
        day,
        view_count=row.view_count,
        play_count=row.play_count,
        likes_count=row.likes_count,
        comments_count=row.comments_count,
        saves_count=row.saves_count,
        shares_count=row.shares_count,
    )
