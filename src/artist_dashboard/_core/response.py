"""Core: the response, one attrs class per Flutter model of the app (`ArtistDashboard...`).

Field names are snake_case here; `artist_dashboard.wire` owns how they appear as JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs
from attrs import frozen

#: A rate, percentage or amount of nothing (the default of each such field).
_ZERO = Decimal(0)


@frozen
class ArtistDashboardProfile:
    id: str
    cover_image: str
    avatar: str
    name: str
    stage_name: str
    bio: str
    is_verified: bool


@frozen
class ArtistDashboardStats:
    followers_count: int
    following_count: int
    posts_count: int
    collaborations_count: int
    view_count: int
    play_count: int
    listen_count: int
    likes_count: int
    comments_count: int
    saves_count: int
    shares_count: int
    engagement_rate: Decimal
    score_percentage: Decimal = _ZERO
    earnings: Decimal = _ZERO


@frozen
class ArtistDashboardAudience:
    followers: int
    non_followers: int
    new_followers_this_week: int
    new_followers_this_month: int


@frozen
class ArtistDashboardChartPoint:
    """One UTC day of the engagement chart (SPEC §6.3): the day's row, else its events."""

    date: date
    view_count: int
    play_count: int
    likes_count: int
    comments_count: int
    saves_count: int
    shares_count: int
    engagement_rate: Decimal


@frozen
class ArtistDashboardChange:
    """One figure over the chart's 30 days against the 30 before; `change_percent` is None
    when the previous period is 0."""

    current: int
    previous: int
    change_percent: Decimal | None


@frozen
class ArtistDashboardComparison:
    """The chart's period against the one before it (SPEC §6.3)."""

    days: int
    view_count: ArtistDashboardChange
    play_count: ArtistDashboardChange
    engagements: ArtistDashboardChange
    new_followers: ArtistDashboardChange


@frozen
class ArtistDashboardTopContent:
    id: str
    post_type: str
    thumbnail_url: str
    display_url: str
    content: str
    view_count: int
    play_count: int
    likes_count: int
    comments_count: int
    saves_count: int
    shares_count: int
    engagement_score: int
    created_at: datetime


@frozen
class ArtistDashboardActivityUser:
    """A new follower's public fields only."""

    id: str
    name: str
    stage_name: str
    avatar: str
    is_verified: bool


@frozen
class ArtistDashboardActivityPost:
    id: str
    post_type: str
    content: str
    thumbnail_url: str


@frozen
class ArtistDashboardRecentActivity:
    """A ``newFollower`` event carries `user`, a ``newPost`` event carries `post`."""

    type: str
    created_at: datetime
    user: ArtistDashboardActivityUser | None = None
    post: ArtistDashboardActivityPost | None = None


NEW_FOLLOWER = "newFollower"
NEW_POST = "newPost"


@frozen
class ArtistDashboardMeta:
    generated_at: datetime
    chart_available: bool = False
    earnings_available: bool = False
    audience_analytics_available: bool = False
    earnings_currency: str | None = None


@frozen(kw_only=True)
class ArtistDashboard:
    profile: ArtistDashboardProfile
    stats: ArtistDashboardStats
    audience: ArtistDashboardAudience
    engagement_chart: tuple[ArtistDashboardChartPoint, ...] = ()
    comparison: ArtistDashboardComparison | None = None
    top_content: tuple[ArtistDashboardTopContent, ...] = ()
    recent_activity: tuple[ArtistDashboardRecentActivity, ...] = ()
    meta: ArtistDashboardMeta


@frozen
class ProfileOverviewStats:
    """Public counts only: never views, plays, engagement, earnings or audience figures."""

    followers_count: int
    following_count: int
    posts_count: int


@frozen
class ProfileOverview:
    """The public profile read (``GET /api/v1/users/{id}/profile-overview``)."""

    profile: ArtistDashboardProfile
    stats: ProfileOverviewStats


# Real types instead of strings (this module uses postponed annotations), for cattrs and for
# anyone introspecting the classes, such as Hypothesis' `builds`.
for _cls in (
    ArtistDashboardProfile,
    ArtistDashboardStats,
    ArtistDashboardAudience,
    ArtistDashboardChartPoint,
    ArtistDashboardChange,
    ArtistDashboardComparison,
    ArtistDashboardTopContent,
    ArtistDashboardActivityUser,
    ArtistDashboardActivityPost,
    ArtistDashboardRecentActivity,
    ArtistDashboardMeta,
    ArtistDashboard,
    ProfileOverviewStats,
    ProfileOverview,
):
    attrs.resolve_types(_cls)
