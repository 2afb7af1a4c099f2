"""build_dashboard: the figures, the errors, the options, and one snapshot per build."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

from artist_dashboard import (
    DashboardOptions,
    DayFigures,
    FixedClock,
    Follow,
    Post,
    Repos,
    Standing,
    StorageError,
    User,
    UserNotFound,
    build_dashboard,
)
from artist_dashboard.memory import InMemoryStore

NOW = datetime(2026, 6, 8, tzinfo=UTC)
CLOCK = FixedClock(NOW)


def store_with_posts(count: int) -> InMemoryStore:
    posts = [
        Post(id=f"p{i:02d}", author_id="me", created_at=NOW - timedelta(days=i), likes_count=i)
        for i in range(count)
    ]
    return InMemoryStore([User(id="me")], posts)


def test_unknown_user_raises_user_not_found() -> None:
    """A user id with no user record is an error, not an empty dashboard."""
    with pytest.raises(UserNotFound, match="nobody"):
        build_dashboard("nobody", InMemoryStore().repos, CLOCK)


class BrokenFollows(InMemoryStore):
    def count_new_followers(self, user_id: str, after: datetime, until: datetime) -> int:
        raise ConnectionResetError("the network went away")


def test_a_failing_store_raises_storage_error_and_returns_nothing() -> None:
    """Any exception from a store mid-build becomes StorageError, chained to its cause."""
    store = BrokenFollows([User(id="me")])
    with pytest.raises(StorageError) as caught:
        build_dashboard("me", store.repos, CLOCK)
    assert isinstance(caught.value.__cause__, ConnectionResetError)


class Unusable:
    """Stands for ports that must not be read: any method call fails the test."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"{name} was read outside the snapshot")


def test_every_read_happens_inside_one_snapshot() -> None:
    """A store that offers a snapshot gets every read of the build inside it, then closed."""
    inside = InMemoryStore([User(id="me")])
    events: list[str] = []

    @contextmanager
    def snapshot() -> Iterator[Repos]:
        events.append("open")
        yield inside.repos
        events.append("close")

    outside = Unusable()
    repos = Repos(users=outside, posts=outside, follows=outside, open_snapshot=snapshot)  # type: ignore[arg-type]
    assert build_dashboard("me", repos, CLOCK).profile.id == "me"
    assert events == ["open", "close"]


def test_top_content_size_is_an_option() -> None:
    """Default 5, up to 50, 0 for none."""
    store = store_with_posts(60)
    assert len(build_dashboard("me", store.repos, CLOCK).top_content) == 5
    fifty = DashboardOptions(top_content_limit=50)
    assert len(build_dashboard("me", store.repos, CLOCK, fifty).top_content) == 50
    none = DashboardOptions(top_content_limit=0)
    assert build_dashboard("me", store.repos, CLOCK, none).top_content == ()


def test_recent_activity_is_capped_and_newest_first() -> None:
    """At most 10 events by default, newest first, only from the last 30 days."""
    store = store_with_posts(40)
    activity = build_dashboard("me", store.repos, CLOCK).recent_activity
    assert [a.post.id for a in activity if a.post] == [f"p{i:02d}" for i in range(10)]
    few = DashboardOptions(recent_activity_limit=3)
    assert len(build_dashboard("me", store.repos, CLOCK, few).recent_activity) == 3


def test_activity_tie_puts_new_follower_before_new_post() -> None:
    """At the same instant `newFollower` sorts before `newPost` (type ascending)."""
    store = InMemoryStore(
        [User(id="me")],
        [Post(id="p", author_id="me", created_at=NOW)],
        [Follow(follower_id="fan", followee_id="me", created_at=NOW)],
    )
    kinds = [a.type for a in build_dashboard("me", store.repos, CLOCK).recent_activity]
    assert kinds == ["newFollower", "newPost"]


def test_follower_without_a_record_appears_with_empty_public_fields() -> None:
    """A follower who has no user record shows its id, empty text and false; nothing made up."""
    store = InMemoryStore(
        [User(id="me")], follows=[Follow(follower_id="ghost", followee_id="me", created_at=NOW)]
    )
    (event,) = build_dashboard("me", store.repos, CLOCK).recent_activity
    assert event.user is not None
    assert (event.user.id, event.user.name, event.user.is_verified) == ("ghost", "", False)


def test_future_follows_count_as_followers_but_not_as_new() -> None:
    """A follow dated after now is a current follow, but not "this week" and not activity."""
    store = InMemoryStore(
        [User(id="me")],
        follows=[Follow(follower_id="f", followee_id="me", created_at=NOW + timedelta(hours=1))],
    )
    dashboard = build_dashboard("me", store.repos, CLOCK)
    assert dashboard.stats.followers_count == 1
    assert dashboard.audience.new_followers_this_week == 0
    assert dashboard.recent_activity == ()


def test_deleted_posts_count_nowhere() -> None:
    """A deleted post adds to no count, sum, top list or activity."""
    store = InMemoryStore(
        [User(id="me")],
        [Post(id="d", author_id="me", created_at=NOW, view_count=9, is_deleted=True)],
    )
    dashboard = build_dashboard("me", store.repos, CLOCK)
    assert (dashboard.stats.posts_count, dashboard.stats.view_count) == (0, 0)
    assert (dashboard.top_content, dashboard.recent_activity) == ((), ())


def test_unavailable_sources_keep_safe_defaults() -> None:
    """Without analytics sources: no chart, no earnings, no non-followers, flags false."""
    dashboard = build_dashboard("me", store_with_posts(3).repos, CLOCK)
    assert dashboard.engagement_chart == ()
    assert (dashboard.stats.earnings, dashboard.stats.score_percentage) == (0, 0)
    assert dashboard.audience.non_followers == 0
    meta = dashboard.meta
    assert meta.chart_available is False
    assert meta.earnings_available is False
    assert meta.audience_analytics_available is False
    assert meta.generated_at == NOW


class ShuffledTop(InMemoryStore):
    """A store that returns the right top posts in the wrong order."""

    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        return list(reversed(super().top_posts(author_id, limit)))


def test_core_orders_top_content_whatever_order_the_store_returns() -> None:
    """The ranking rule lives in the core: a store's order does not leak into the response."""
    store = ShuffledTop([User(id="me")], store_with_posts(8).posts)
    ids = [t.id for t in build_dashboard("me", store.repos, CLOCK).top_content]
    assert ids == ["p07", "p06", "p05", "p04", "p03"]


class DaysWithRows:
    """Daily rows on the given days (all zeros), no events: records what events are asked."""

    def __init__(self, covered: set[date]) -> None:
        self.covered = covered
        self.asked: list[tuple[date, date]] = []

    def daily_rows(self, artist_id: str, first: date, last: date) -> Sequence[DayFigures]:
        return [DayFigures(d) for d in sorted(self.covered) if first <= d <= last]

    def event_days(
        self, artist_id: str, first: date, last: date, until: datetime
    ) -> Sequence[DayFigures]:
        self.asked.append((first, last))
        return []

    def standing(self, artist_id: str, first: date, last: date) -> Standing:
        return Standing()


def _events_asked(covered: set[date]) -> list[tuple[date, date]]:
    days = DaysWithRows(covered)
    store = InMemoryStore([User(id="me")])
    build_dashboard("me", attrs.evolve(store.repos, days=days), CLOCK)
    return days.asked


def test_events_are_not_read_over_days_their_rows_settle() -> None:
    """An artist whose events (and rows) began three weeks ago: the events are asked for the
    quiet weeks before and for today, never for the three weeks the rows settle."""
    today = NOW.date()
    covered = {today - timedelta(days=n) for n in range(1, 22)}
    assert _events_asked(covered) == [
        (today - timedelta(days=59), today - timedelta(days=22)),
        (today, today),
    ]


def test_events_are_asked_in_at_most_three_ranges_covering_every_day_without_a_row() -> None:
    """Every other day rolled up: at most three ranges, together holding every day without
    a row (the closest runs are joined)."""
    today = NOW.date()
    covered = {today - timedelta(days=n) for n in range(1, 60, 2)}
    asked = _events_asked(covered)
    assert len(asked) <= 3
    wanted = {today - timedelta(days=n) for n in range(60)} - covered
    assert all(any(a <= d <= b for a, b in asked) for d in wanted)
