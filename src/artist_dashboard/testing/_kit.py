"""Kit: the store conformance kit — pytest tests that compare a store's every answer with the
in-memory reference's on generated datasets (`StoreConformance`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from .._core import rules
from .._core.build import CalendarWindows, DashboardOptions, Repos, build_dashboard
from .._core.clock import FixedClock
from .._core.errors import DashboardError
from .._core.records import DashboardAsk, DashboardReads, Post
from .._core.values import corrections_log
from ..memory import InMemoryStore
from ._strategies import NOW, Dataset, _instants, analytics_datasets, datasets

# --- the conformance kit -------------------------------------------------------------------

_DAY = timedelta(days=1)
_WINDOWS = st.one_of(
    st.just((NOW - rules.NEW_FOLLOWERS_WEEK, NOW)),
    st.just((NOW - rules.NEW_FOLLOWERS_MONTH, NOW)),
    st.tuples(_instants(), _instants()).map(sorted).map(tuple),
)
# Each kit test runs once per store subclass (differing executors, by design); the `load`
# fixture is function-scoped but replaces the store's whole content for every example.
_KIT_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)

Loader = Callable[[Dataset], Repos]


def _agree(got: object, expected: object, what: str) -> None:
    """Fail with both answers side by side (the kit runs outside pytest's assert rewriting)."""
    if got != expected:
        raise AssertionError(f"{what}\n  store:     {got!r}\n  reference: {expected!r}")


def _without_collaborators(posts: Iterable[Post]) -> list[Post]:
    """Posts as the ports must give them: a store may leave `collaborator_ids` out there."""
    return [attrs.evolve(p, collaborator_ids=()) for p in posts]


def _outcome(build: Callable[[], object]) -> object:
    """What a build gives: the dashboard, or the kind of error it raised."""
    try:
        return build()
    except DashboardError as exc:
        return type(exc)


_OPTIONS = st.builds(
    DashboardOptions,
    top_content_limit=st.integers(0, 12),
    recent_activity_limit=st.integers(0, 12),
    calendar_windows=st.one_of(
        st.none(),
        st.builds(
            CalendarWindows,
            time_zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]),
            week_start=st.integers(0, 6),
        ),
    ),
)


def reads_from_ports(repos: Repos, ask: DashboardAsk) -> DashboardReads:
    """What `read_dashboard(ask)` must return, asked of `repos`' ports one by one: the yardstick
    for a `WholeDashboardRepo`, and a working one for any store (one call per port)."""
    user_id, now = ask.user_id, ask.now
    with repos.snapshot() as r:
        followers = r.follows.recent_followers(user_id, ask.recent_after, now, ask.recent_limit)
        reads = DashboardReads(
            user=r.users.get_user(user_id),
            totals=r.posts.post_totals(user_id),
            collaborations=r.posts.count_collaborations(user_id),
            followers=r.follows.count_followers(user_id),
            following=r.follows.count_following(user_id),
            new_followers={
                w: r.follows.count_new_followers(user_id, *w) for w in ask.follower_windows
            },
            top_posts=r.posts.top_posts(user_id, ask.top_limit),
            recent_posts=r.posts.recent_posts(user_id, ask.recent_after, now, ask.recent_limit),
            recent_followers=followers,
            people=r.users.get_users({f.follower_id for f in followers}),
        )
        if ask.days is not None and r.days is not None and ask.standing_days is not None:
            first, last = ask.days[0], ask.days[-1]
            reads = attrs.evolve(
                reads,
                daily_rows=r.days.daily_rows(user_id, first, last),
                events_from=first,
                event_days=r.days.event_days(user_id, first, last, now),
                standing=r.days.standing(user_id, *ask.standing_days),
            )
        if ask.audience_window is not None and r.audience is not None:
            found = r.audience.count_non_followers(user_id, *ask.audience_window)
            reads = attrs.evolve(reads, non_followers=found)
        if ask.revenue_window is not None and r.revenue is not None:
            reads = attrs.evolve(reads, revenue=r.revenue.revenue(user_id, *ask.revenue_window))
    return reads


def _whole_agrees(repos: Repos, ids: Iterable[str], now: datetime, options: Any) -> None:
    """Built with the store's whole-dashboard read, each dashboard (or error) is the one its
    ports give."""
    if repos.whole is None:
        return
    ports_only = attrs.evolve(repos, whole=None)
    clock = FixedClock(now)
    for user_id in ids:
        got = _outcome(functools.partial(build_dashboard, user_id, repos, clock, options))
        expected = _outcome(functools.partial(build_dashboard, user_id, ports_only, clock, options))
        _agree(got, expected, f"whole read of {user_id!r} at {now} with {options}")


class _Kit:
    """What every kit class shares."""

    @pytest.fixture(autouse=True)
    def _without_correction_logs(self) -> Iterator[None]:
        """Generated data is full of values the rules correct; their log lines would bury a
        failure's shrunk example and the two answers, so the kit does not record them."""
        level = corrections_log.level
        corrections_log.setLevel(logging.ERROR)
        try:
            yield
        finally:
            corrections_log.setLevel(level)


class StoreConformance(_Kit):
    """Checks a store against the in-memory reference, port method by port method.

    Subclass it in a test module and define one fixture, `load`, that returns a function taking
    a `Dataset`, replacing whatever the store holds with it, and returning the store's `Repos`::

        class TestMyStore(StoreConformance):
            @pytest.fixture
            def load(self, my_engine):
                def load(dataset):
                    empty_my_tables(my_engine)
                    copy_into_my_tables(my_engine, dataset)
                    return MyStore(my_engine).repos
                return load

    Every test draws datasets with ties, deleted posts, collaborators, window edges to the
    millisecond, future dates, clamped counters, unicode text and counters up to 2**53, and
    compares every answer with `InMemoryStore`'s, for every user id the dataset mentions plus
    one it does not.
    """

    @pytest.fixture
    def load(self) -> Loader:
        raise NotImplementedError("define a `load` fixture in your StoreConformance subclass")

    @staticmethod
    def _both(load: Loader, dataset: Dataset) -> tuple[Repos, Repos]:
        note(dataset.describe())
        reference = InMemoryStore(dataset.users, dataset.posts, dataset.follows).repos
        return load(dataset), reference

    @staticmethod
    def _ids(dataset: Dataset) -> list[str]:
        return [*dataset.user_ids, "no-such-user"]

    @_KIT_SETTINGS
    @given(dataset=datasets())
    def test_get_user(self, load: Loader, dataset: Dataset) -> None:
        """get_user and get_users return the same records as the reference."""
        store, reference = self._both(load, dataset)
        ids = self._ids(dataset)
        for user_id in ids:
            got = store.users.get_user(user_id)
            _agree(got, reference.users.get_user(user_id), f"get_user({user_id!r})")
        got_all = dict(store.users.get_users(ids))
        _agree(got_all, dict(reference.users.get_users(ids)), "get_users(every id)")
        _agree(dict(store.users.get_users([])), {}, "get_users([])")

    @_KIT_SETTINGS
    @given(dataset=datasets())
    def test_post_totals(self, load: Loader, dataset: Dataset) -> None:
        """post_totals counts live posts and sums clamped counters like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            got = store.posts.post_totals(user_id)
            _agree(got, reference.posts.post_totals(user_id), f"post_totals({user_id!r})")

    @_KIT_SETTINGS
    @given(dataset=datasets())
    def test_count_collaborations(self, load: Loader, dataset: Dataset) -> None:
        """count_collaborations counts each live shared post once, like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = reference.posts.count_collaborations(user_id)
            got = store.posts.count_collaborations(user_id)
            _agree(got, expected, f"count_collaborations({user_id!r})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), limit=st.integers(0, rules.TOP_CONTENT_MAX))
    def test_top_posts(self, load: Loader, dataset: Dataset, limit: int) -> None:
        """top_posts returns the same posts in the same order (score, time, id) as the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = _without_collaborators(reference.posts.top_posts(user_id, limit))
            got = _without_collaborators(store.posts.top_posts(user_id, limit))
            _agree(got, expected, f"top_posts({user_id!r}, {limit})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), window=_WINDOWS, limit=st.integers(0, rules.RECENT_ACTIVITY_MAX))
    def test_recent_posts(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime], limit: int
    ) -> None:
        """recent_posts returns the window's posts newest first, like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = _without_collaborators(reference.posts.recent_posts(user_id, *window, limit))
            got = _without_collaborators(store.posts.recent_posts(user_id, *window, limit))
            _agree(got, expected, f"recent_posts({user_id!r}, {window}, {limit})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), window=_WINDOWS)
    def test_follow_counts(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime]
    ) -> None:
        """Followers, following and new followers in a window are counted like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            for method in ("count_followers", "count_following"):
                expected = getattr(reference.follows, method)(user_id)
                _agree(getattr(store.follows, method)(user_id), expected, f"{method}({user_id!r})")
            expected = reference.follows.count_new_followers(user_id, *window)
            got = store.follows.count_new_followers(user_id, *window)
            _agree(got, expected, f"count_new_followers({user_id!r}, {window})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), window=_WINDOWS, limit=st.integers(0, rules.RECENT_ACTIVITY_MAX))
    def test_recent_followers(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime], limit: int
    ) -> None:
        """recent_followers returns the window's follows newest first, like the reference."""
        store, reference = self._both(load, dataset)
        for user_id in self._ids(dataset):
            expected = list(reference.follows.recent_followers(user_id, *window, limit))
            got = list(store.follows.recent_followers(user_id, *window, limit))
            _agree(got, expected, f"recent_followers({user_id!r}, {window}, {limit})")

    @_KIT_SETTINGS
    @given(dataset=datasets(), now=st.sampled_from([NOW, NOW + _DAY, NOW - 20 * _DAY]))
    def test_dashboards_agree(self, load: Loader, dataset: Dataset, now: datetime) -> None:
        """Whole dashboards built on the store equal those built on the reference."""
        store, reference = self._both(load, dataset)
        clock = FixedClock(now)
        for user_id in {u.id for u in dataset.users}:
            expected = build_dashboard(user_id, reference, clock)
            got = build_dashboard(user_id, store, clock)
            _agree(got, expected, f"build_dashboard({user_id!r}) at {now}")

    @_KIT_SETTINGS
    @given(
        dataset=datasets(),
        now=st.sampled_from([NOW, NOW + _DAY, NOW - 20 * _DAY]),
        options=_OPTIONS,
    )
    def test_whole_read_agrees_with_the_ports(
        self, load: Loader, dataset: Dataset, now: datetime, options: DashboardOptions
    ) -> None:
        """A store that reads a whole dashboard at once (`Repos.whole`) builds the dashboard
        its ports build, whatever the options (or declines, and the ports answer)."""
        _whole_agrees(load(dataset), self._ids(dataset), now, options)


class MemoryStoreConformance(StoreConformance):
    """The kit run on the reference itself (a check of the kit, and an example)."""

    @pytest.fixture
    def load(self) -> Loader:
        return lambda d: InMemoryStore(d.users, d.posts, d.follows).repos


# --- the analytics sources -------------------------------------------------------------------

_DAY_RANGES = st.tuples(st.integers(-1, 65), st.integers(0, 70)).map(
    lambda t: ((NOW - timedelta(days=t[0] + t[1])).date(), (NOW - timedelta(days=t[0])).date())
)
_UNTILS = st.sampled_from(
    [NOW, NOW - timedelta(milliseconds=1), NOW + timedelta(days=2), NOW - timedelta(days=3)]
)
_BUILT_AT = st.sampled_from(
    [
        NOW,
        NOW.replace(hour=0, minute=0, second=0, microsecond=0),
        NOW + timedelta(days=1),
        NOW - timedelta(days=20),
        NOW + timedelta(hours=3, milliseconds=1),
    ]
)


class AnalyticsConformance(_Kit):
    """Checks a store's analytics sources (SPEC §6) against the in-memory reference.

    Subclass it beside `StoreConformance`, with the same `load` fixture, whose `Dataset` now
    carries `events`, `daily` and `earnings` (each None when that source is not configured):
    the store must configure exactly those. The datasets hold daily rows that override their
    day's events, window and day edges to the millisecond, events after now, anonymous viewers,
    artists viewing their own posts, events on deleted and unknown posts, duplicate event ids,
    refunds and mixed currencies.
    """

    @pytest.fixture
    def load(self) -> Loader:
        raise NotImplementedError("define a `load` fixture in your AnalyticsConformance subclass")

    @staticmethod
    def _both(load: Loader, dataset: Dataset) -> tuple[Repos, Repos]:
        note(dataset.describe())
        return load(dataset), dataset.reference().repos

    @staticmethod
    def _ids(dataset: Dataset) -> list[str]:
        artists = {r.artist_id for r in dataset.daily or ()}
        artists |= {e.artist_id for e in dataset.earnings or ()}
        return sorted({*dataset.user_ids, *artists, "no-such-user"})

    @_KIT_SETTINGS
    @given(dataset=analytics_datasets())
    def test_sources_configured(self, load: Loader, dataset: Dataset) -> None:
        """The store answers exactly the sources the dataset configures (an empty one too)."""
        store, reference = self._both(load, dataset)
        for source in ("days", "audience", "revenue"):
            got, expected = (
                getattr(store, source) is not None,
                getattr(reference, source) is not None,
            )
            _agree(got, expected, f"{source} configured")

    @_KIT_SETTINGS
    @given(dataset=analytics_datasets(), days=_DAY_RANGES, until=_UNTILS)
    def test_day_figures(
        self, load: Loader, dataset: Dataset, days: tuple[date, date], until: datetime
    ) -> None:
        """daily_rows and event_days give the reference's figures for every day and artist."""
        store, reference = self._both(load, dataset)
        if reference.days is None or store.days is None:
            return
        for artist in self._ids(dataset):
            got_rows = sorted(store.days.daily_rows(artist, *days), key=lambda f: f.day)
            _agree(
                got_rows,
                list(reference.days.daily_rows(artist, *days)),
                f"daily_rows({artist!r}, {days})",
            )
            got = sorted(store.days.event_days(artist, *days, until), key=lambda f: f.day)
            expected = list(reference.days.event_days(artist, *days, until))
            _agree(got, expected, f"event_days({artist!r}, {days}, {until})")

    @_KIT_SETTINGS
    @given(dataset=analytics_datasets(), days=_DAY_RANGES)
    def test_standing(self, load: Loader, dataset: Dataset, days: tuple[date, date]) -> None:
        """standing ranks every artist as the reference does (rows winning over events)."""
        store, reference = self._both(load, dataset)
        if reference.days is None or store.days is None:
            return
        for artist in self._ids(dataset):
            got = store.days.standing(artist, *days)
            _agree(got, reference.days.standing(artist, *days), f"standing({artist!r}, {days})")

    @_KIT_SETTINGS
    @given(dataset=analytics_datasets(), window=_WINDOWS)
    def test_non_followers(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime]
    ) -> None:
        """count_non_followers counts the reference's distinct non-follower viewers."""
        store, reference = self._both(load, dataset)
        if reference.audience is None or store.audience is None:
            return
        for artist in self._ids(dataset):
            got = store.audience.count_non_followers(artist, *window)
            expected = reference.audience.count_non_followers(artist, *window)
            _agree(got, expected, f"count_non_followers({artist!r}, {window})")

    @_KIT_SETTINGS
    @given(dataset=analytics_datasets(), window=_WINDOWS)
    def test_revenue(
        self, load: Loader, dataset: Dataset, window: tuple[datetime, datetime]
    ) -> None:
        """revenue sums each currency's amounts exactly, as the reference does."""
        store, reference = self._both(load, dataset)
        if reference.revenue is None or store.revenue is None:
            return
        for artist in self._ids(dataset):
            got = sorted(store.revenue.revenue(artist, *window), key=lambda t: t.currency)
            expected = list(reference.revenue.revenue(artist, *window))
            _agree(got, expected, f"revenue({artist!r}, {window})")

    @_KIT_SETTINGS
    @given(dataset=analytics_datasets(), now=_BUILT_AT)
    def test_dashboards_agree(self, load: Loader, dataset: Dataset, now: datetime) -> None:
        """Whole dashboards — chart, comparison, standing, audience, earnings — agree."""
        store, reference = self._both(load, dataset)
        clock = FixedClock(now)
        for user_id in {u.id for u in dataset.users}:
            expected = build_dashboard(user_id, reference, clock)
            got = build_dashboard(user_id, store, clock)
            _agree(got, expected, f"build_dashboard({user_id!r}) at {now}")

    @_KIT_SETTINGS
    @given(dataset=analytics_datasets(), now=_BUILT_AT, options=_OPTIONS)
    def test_whole_read_agrees_with_the_ports(
        self, load: Loader, dataset: Dataset, now: datetime, options: DashboardOptions
    ) -> None:
        """With the analytics sources too, the whole-dashboard read builds what the ports do."""
        _whole_agrees(load(dataset), self._ids(dataset), now, options)


class MemoryAnalyticsConformance(AnalyticsConformance):
    """The analytics kit run on the reference itself (a check of the kit, and an example)."""

    @pytest.fixture
    def load(self) -> Loader:
        return lambda d: d.reference().repos
