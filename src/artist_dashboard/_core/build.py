"""Core: `build_dashboard`, which asks the ports for aggregates and applies the rules to them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from attrs import field, frozen, validators

from . import analytics, rules
from .errors import DashboardError, InvalidOptions, StorageError, UserNotFound
from .ports import (
    AudienceRepo,
    Clock,
    DayFiguresRepo,
    FollowRepo,
    Observer,
    PostRepo,
    RevenueRepo,
    UserRepo,
    WholeDashboardRepo,
)
from .records import DashboardAsk, DayFigures, Follow, Post, User, Window
from .response import (
    NEW_FOLLOWER,
    NEW_POST,
    ArtistDashboard,
    ArtistDashboardActivityPost,
    ArtistDashboardActivityUser,
    ArtistDashboardAudience,
    ArtistDashboardChange,
    ArtistDashboardChartPoint,
    ArtistDashboardComparison,
    ArtistDashboardMeta,
    ArtistDashboardProfile,
    ArtistDashboardRecentActivity,
    ArtistDashboardStats,
    ArtistDashboardTopContent,
    ProfileOverview,
    ProfileOverviewStats,
)
from .values import counting_corrections, log
from .whole import AnsweredPorts, Unanswered


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidOptions(f"unknown IANA time zone {name!r}") from exc


@frozen
class CalendarWindows:
    """Count new followers by calendar week and month in `time_zone` instead of rolling windows.

    The week starts on `week_start` (0 = Monday ... 6 = Sunday) at local midnight; the month on
    its 1st at local midnight. Both end at now.
    """

    time_zone: ZoneInfo = field(converter=_zone)
    week_start: int = field(default=0, validator=[validators.ge(0), validators.le(6)])

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """(week start, month start) as UTC instants, both inclusive."""
        local = now.astimezone(self.time_zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        week = midnight - timedelta(days=(midnight.weekday() - self.week_start) % 7)
        month = midnight.replace(day=1)
        return (
            rules.as_utc(week.replace(tzinfo=self.time_zone)),
            rules.as_utc(month.replace(tzinfo=self.time_zone)),
        )


def _limit(maximum: int) -> list[Callable[[Any, Any, int], None]]:
    def check(_instance: Any, attribute: Any, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise InvalidOptions(f"{attribute.name} must be an integer from 0 to {maximum}")

    return [check]


@frozen
class DashboardOptions:
    """How much of the dashboard to build; the defaults are the app's contract."""

    top_content_limit: int = field(
        default=rules.TOP_CONTENT_DEFAULT, validator=_limit(rules.TOP_CONTENT_MAX)
    )
    recent_activity_limit: int = field(
        default=rules.RECENT_ACTIVITY_DEFAULT, validator=_limit(rules.RECENT_ACTIVITY_MAX)
    )
    calendar_windows: CalendarWindows | None = None
    #: The level of the one line a build logs when it corrected stored data (SPEC §5).
    correction_log_level: int = logging.WARNING

    def new_follower_windows(self, now: datetime) -> tuple[datetime, datetime]:
        """The exclusive lower bounds of "this week" and "this month" for `now`."""
        if self.calendar_windows is None:
            return now - rules.NEW_FOLLOWERS_WEEK, now - rules.NEW_FOLLOWERS_MONTH
        week, month = self.calendar_windows.bounds(now)
        # Windows are ``after < t``; the smallest step of a datetime makes the start inclusive.
        tick = timedelta(microseconds=1)
        return week - tick, month - tick


@frozen
class Repos:
    """The three ports a build reads, and how to open one consistent snapshot of them.

    A store that can read in one transaction passes `open_snapshot`; `build_dashboard` then
    makes every read of one dashboard inside it. A store that can tell whether it is able to
    answer at all passes `check`, which raises when it is not (a service's readiness probe).
    A store that can read a whole dashboard at once passes `whole`; a build asks it first.
    """

    users: UserRepo
    posts: PostRepo
    follows: FollowRepo
    open_snapshot: Callable[[], AbstractContextManager[Repos]] | None = None
    check: Callable[[], None] | None = None
    #: The optional analytics sources; None where the source is not configured (SPEC §6.3).
    days: DayFiguresRepo | None = None
    audience: AudienceRepo | None = None
    revenue: RevenueRepo | None = None
    whole: WholeDashboardRepo | None = None
    #: What measures builds and store calls; `observe.observed` sets it with the timed ports.
    observer: Observer | None = None

    @classmethod
    def of(cls, store: Any, **sources: Any) -> Repos:
        """Repos of one object that implements all three ports (and, given as keywords, the
        analytics sources it answers)."""
        return cls(users=store, posts=store, follows=store, **sources)

    def snapshot(self) -> AbstractContextManager[Repos]:
        if self.open_snapshot is None:
            return _just(self)
        return self.open_snapshot()


@contextmanager
def _just(repos: Repos) -> Iterator[Repos]:
    yield repos


def build_dashboard(
    user_id: str,
    repos: Repos,
    clock: Clock,
    options: DashboardOptions | None = None,
) -> ArtistDashboard:
    """The dashboard of `user_id` as of `clock.now()`.

    Raises `UserNotFound` for an unknown user and `StorageError` (chained to the cause) when a
    store fails; a failed build returns nothing, never part of a dashboard. Stored values it
    corrects (SPEC §5) are logged as one line per build, at `options.correction_log_level`.
    """
    options = options or DashboardOptions()
    now = rules.as_utc(clock.now())
    if not rules.is_storable_id(user_id):
        raise UserNotFound(user_id)  # no store holds such an id: storage is not asked
    observer = repos.observer
    with observer.timed("build") if observer is not None else nullcontext():
        try:
            with counting_corrections(
                "a dashboard build",
                options.correction_log_level,
                observer.corrected if observer is not None else None,
            ):
                if repos.whole is not None:
                    built = _build_at_once(user_id, repos, repos.whole, now, options)
                    if built is not None:
                        return built
                with repos.snapshot() as snapshot:
                    return _build(user_id, snapshot, now, options)
        except DashboardError:
            raise
        except Exception as exc:
            raise StorageError(f"the store failed: {type(exc).__name__}") from exc


def dashboard_ask(
    user_id: str, repos: Repos, now: datetime, options: DashboardOptions | None = None
) -> DashboardAsk:
    """Every read a build of `user_id`'s dashboard at `now` makes of `repos`' ports."""
    options = options or DashboardOptions()
    week_after, month_after = options.new_follower_windows(now)
    windows: list[Window] = [(week_after, now), (month_after, now)]
    days = standing = None
    if repos.days is not None:
        current, previous = analytics.comparison_days(now)
        days = previous + current
        windows += _comparison_windows(now)
        standing = analytics.standing_days(now)
    return DashboardAsk(
        user_id=user_id,
        now=now,
        top_limit=options.top_content_limit,
        recent_after=now - rules.ACTIVITY_WINDOW,
        recent_limit=options.recent_activity_limit,
        follower_windows=tuple(windows),
        days=days,
        standing_days=standing,
        audience_window=(
            (now - analytics.AUDIENCE_WINDOW, now) if repos.audience is not None else None
        ),
        revenue_window=(
            (now - analytics.EARNINGS_WINDOW, now) if repos.revenue is not None else None
        ),
    )


def _build_at_once(
    user_id: str,
    repos: Repos,
    whole: WholeDashboardRepo,
    now: datetime,
    options: DashboardOptions,
) -> ArtistDashboard | None:
    """The dashboard from one `read_dashboard`, the rules applied as for the ports; None
    when the store declines, or its reads miss a call (then the ports are asked)."""
    ask = dashboard_ask(user_id, repos, now, options)
    reads = whole.read_dashboard(ask)
    if reads is None:
        return None
    ports = AnsweredPorts(ask, reads)
    answered = Repos(
        users=ports,
        posts=ports,
        follows=ports,
        days=ports if repos.days is not None else None,
        audience=ports if repos.audience is not None else None,
        revenue=ports if repos.revenue is not None else None,
    )
    try:
        return _build(user_id, answered, now, options)
    except Unanswered as missing:
        log.debug("the whole-dashboard read did not answer %s; asking the ports", missing)
        return None


def build_profile_overview(user_id: str, repos: Repos) -> ProfileOverview:
    """The public overview of `user_id`: profile fields and public counts, nothing private.

    Raises `UserNotFound` and `StorageError` as `build_dashboard` does.
    """
    if not rules.is_storable_id(user_id):
        raise UserNotFound(user_id)
    try:
        with repos.snapshot() as snapshot:
            user = snapshot.users.get_user(user_id)
            if user is None:
                raise UserNotFound(user_id)
            return ProfileOverview(
                profile=_profile(user),
                stats=ProfileOverviewStats(
                    followers_count=snapshot.follows.count_followers(user_id),
                    following_count=snapshot.follows.count_following(user_id),
                    posts_count=snapshot.posts.post_totals(user_id).posts,
                ),
            )
    except DashboardError:
        raise
    except Exception as exc:
        raise StorageError(f"the store failed: {type(exc).__name__}") from exc


def _build(user_id: str, repos: Repos, now: datetime, options: DashboardOptions) -> ArtistDashboard:
    user = repos.users.get_user(user_id)
    if user is None:
        raise UserNotFound(user_id)

    totals = repos.posts.post_totals(user_id)
    followers = repos.follows.count_followers(user_id)
    week_after, month_after = options.new_follower_windows(now)
    stats = ArtistDashboardStats(
        followers_count=followers,
        following_count=repos.follows.count_following(user_id),
        posts_count=totals.posts,
        collaborations_count=repos.posts.count_collaborations(user_id),
        view_count=totals.view_count,
        play_count=totals.play_count,
        listen_count=totals.play_count,
        likes_count=totals.likes_count,
        comments_count=totals.comments_count,
        saves_count=totals.saves_count,
        shares_count=totals.shares_count,
        engagement_rate=rules.engagement_rate(
            sum(getattr(totals, name) for name in rules.SCORE_COUNTERS),
            sum(getattr(totals, name) for name in rules.REACH_COUNTERS),
        ),
    )
    sources = _analytics(user_id, repos, now)
    stats = attrs.evolve(stats, score_percentage=sources.score, earnings=sources.earnings.amount)
    audience = ArtistDashboardAudience(
        followers=followers,
        non_followers=sources.non_followers,
        new_followers_this_week=repos.follows.count_new_followers(user_id, week_after, now),
        new_followers_this_month=repos.follows.count_new_followers(user_id, month_after, now),
    )
    top: list[Post] = []
    if options.top_content_limit:
        candidates = repos.posts.top_posts(user_id, options.top_content_limit)
        top = rules.rank_top_content(candidates, options.top_content_limit)
    return ArtistDashboard(
        profile=_profile(user),
        stats=stats,
        audience=audience,
        engagement_chart=sources.chart,
        comparison=sources.comparison,
        top_content=tuple(_top_item(post) for post in top),
        recent_activity=tuple(_recent_activity(user_id, repos, now, options.recent_activity_limit)),
        meta=ArtistDashboardMeta(
            generated_at=now,
            chart_available=repos.days is not None,
            earnings_available=sources.earnings.available,
            audience_analytics_available=repos.audience is not None,
            earnings_currency=sources.earnings.currency,
        ),
    )


_UNAVAILABLE = analytics.Earnings(rules.ZERO, None, False)


@frozen
class _Analytics:
    """What the optional sources give a dashboard; the safe defaults of §4 without them."""

    chart: tuple[ArtistDashboardChartPoint, ...] = ()
    comparison: ArtistDashboardComparison | None = None
    score: Decimal = rules.ZERO
    non_followers: int = 0
    earnings: analytics.Earnings = _UNAVAILABLE


def _analytics(user_id: str, repos: Repos, now: datetime) -> _Analytics:
    chart: tuple[ArtistDashboardChartPoint, ...] = ()
    comparison, score = None, rules.ZERO
    if repos.days is not None:
        current, previous = analytics.comparison_days(now)
        figures = _day_figures(user_id, repos.days, previous + current, now)
        chart = tuple(_chart_point(figures[day]) for day in current)
        comparison = _comparison(
            user_id,
            repos,
            now,
            analytics.total(figures[d] for d in current),
            analytics.total(figures[d] for d in previous),
        )
        score = analytics.percentile(repos.days.standing(user_id, *analytics.standing_days(now)))
    non_followers = 0
    if repos.audience is not None:
        after = now - analytics.AUDIENCE_WINDOW
        non_followers = repos.audience.count_non_followers(user_id, after, now)
    earnings = _UNAVAILABLE
    if repos.revenue is not None:
        totals = repos.revenue.revenue(user_id, now - analytics.EARNINGS_WINDOW, now)
        earnings = analytics.earnings(totals)
    return _Analytics(chart, comparison, score, non_followers, earnings)


def _day_figures(
    user_id: str, days: DayFiguresRepo, wanted: Sequence[date], now: datetime
) -> dict[date, DayFigures]:
    """Each wanted day's figures: its row, else its events up to now. Events are asked only
    for the days that have no row (after a rollup: today alone), in a few ranges."""
    first, last = wanted[0], wanted[-1]
    rows = {f.day: f for f in days.daily_rows(user_id, first, last) if first <= f.day <= last}
    uncovered = [day for day in wanted if day not in rows]
    events: dict[date, DayFigures] = {}
    for start, end in _event_ranges(uncovered):
        events |= {f.day: f for f in days.event_days(user_id, start, end, now)}
    return {day: analytics.day_figures(day, rows.get(day), events.get(day)) for day in wanted}


#: The most `event_days` calls one dashboard makes.
EVENT_RANGES = 3
_DAY = timedelta(days=1)


def _event_ranges(uncovered: Sequence[date]) -> list[tuple[date, date]]:
    """The days without a row (in order) as at most `EVENT_RANGES` ranges: the runs of
    consecutive such days, the two closest runs joined while there are too many. A range
    never spans a long stretch of days that have rows — an artist whose events began three
    weeks ago, with rows since, reads no events of the weeks the rows settle."""
    runs: list[tuple[date, date]] = []
    for day in uncovered:
        if runs and day - runs[-1][1] == _DAY:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    while len(runs) > EVENT_RANGES:
        closest = min(range(len(runs) - 1), key=lambda i: runs[i + 1][0] - runs[i][1])
        runs[closest : closest + 2] = [(runs[closest][0], runs[closest + 1][1])]
    return runs


def _chart_point(figures: DayFigures) -> ArtistDashboardChartPoint:
    return ArtistDashboardChartPoint(
        date=figures.day,
        view_count=figures.view_count,
        play_count=figures.play_count,
        likes_count=figures.likes_count,
        comments_count=figures.comments_count,
        saves_count=figures.saves_count,
        shares_count=figures.shares_count,
        engagement_rate=analytics.day_rate(figures),
    )


def _comparison_windows(now: datetime) -> tuple[Window, Window]:
    """The comparison's new-follower windows: the last 30 days, and the 30 before them."""
    window = analytics.COMPARISON_DAYS * timedelta(days=1)
    return (now - window, now), (now - 2 * window, now - window)


def _comparison(
    user_id: str, repos: Repos, now: datetime, current: DayFigures, previous: DayFigures
) -> ArtistDashboardComparison:
    recent, before = _comparison_windows(now)
    followers_now = repos.follows.count_new_followers(user_id, *recent)
    followers_before = repos.follows.count_new_followers(user_id, *before)

    def change(now_: int, before: int) -> ArtistDashboardChange:
        return ArtistDashboardChange(now_, before, analytics.change_percent(now_, before))

    return ArtistDashboardComparison(
        days=analytics.COMPARISON_DAYS,
        view_count=change(current.view_count, previous.view_count),
        play_count=change(current.play_count, previous.play_count),
        engagements=change(analytics.engagements_of(current), analytics.engagements_of(previous)),
        new_followers=change(followers_now, followers_before),
    )


def _profile(user: User) -> ArtistDashboardProfile:
    return ArtistDashboardProfile(
        id=user.id,
        cover_image=user.cover_image,
        avatar=user.avatar,
        name=user.name,
        stage_name=user.stage_name,
        bio=user.bio,
        is_verified=user.is_verified,
    )


def _top_item(post: Post) -> ArtistDashboardTopContent:
    return ArtistDashboardTopContent(
        id=post.id,
        post_type=post.post_type,
        thumbnail_url=post.thumbnail_url,
        display_url=post.display_url,
        content=post.content,
        view_count=post.view_count,
        play_count=post.play_count,
        likes_count=post.likes_count,
        comments_count=post.comments_count,
        saves_count=post.saves_count,
        shares_count=post.shares_count,
        engagement_score=rules.engagement_score(post),
        created_at=post.created_at,
    )


_Event = tuple[datetime, str, str, Post | Follow]


def _recent_activity(
    user_id: str, repos: Repos, now: datetime, limit: int
) -> list[ArtistDashboardRecentActivity]:
    if not limit:
        return []
    after = now - rules.ACTIVITY_WINDOW
    posts = repos.posts.recent_posts(user_id, after, now, limit)
    follows = repos.follows.recent_followers(user_id, after, now, limit)
    events: list[_Event] = [(p.created_at, NEW_POST, p.id, p) for p in posts]
    events += [(f.created_at, NEW_FOLLOWER, f.follower_id, f) for f in follows]
    chosen = rules.order_activity(
        (e for e in events if rules.in_window(e[0], after, now)), lambda e: e[:3], limit
    )
    follower_ids = {e[2] for e in chosen if e[1] == NEW_FOLLOWER}
    people = repos.users.get_users(follower_ids) if follower_ids else {}
    return [_activity(event, people) for event in chosen]


#: Who a follower without a user record is shown as (beside their id).
_NOBODY = User(id="")


def _activity(event: _Event, people: Mapping[str, User]) -> ArtistDashboardRecentActivity:
    created_at, kind, ident, record = event
    if isinstance(record, Post):
        return ArtistDashboardRecentActivity(
            type=kind,
            created_at=created_at,
            post=ArtistDashboardActivityPost(
                id=record.id,
                post_type=record.post_type,
                content=record.content,
                thumbnail_url=record.thumbnail_url,
            ),
        )
    person = people.get(ident, _NOBODY)
    return ArtistDashboardRecentActivity(
        type=kind,
        created_at=created_at,
        user=ArtistDashboardActivityUser(
            id=ident,
            name=person.name,
            stage_name=person.stage_name,
            avatar=person.avatar,
            is_verified=person.is_verified,
        ),
    )
