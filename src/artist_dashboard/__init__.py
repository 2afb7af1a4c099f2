"""artist_dashboard: a music artist's private analytics dashboard (the public core API).

The core is framework-free: records in, `build_dashboard` asks three small ports
(`UserRepo`, `PostRepo`, `FollowRepo`) for counts, sums and the top and recent few, and
returns an `ArtistDashboard`. `artist_dashboard.wire` turns it into the app's JSON.

The package is laid out by layer (docs/architecture.md): ``_core/`` is the framework-free core
(this module, ``rules``, ``typing`` and ``wire`` are its public faces); ``memory``, ``dataset``
and ``demo`` are the embedded default; ``sql/`` is the SQL adapter; ``_http/`` holds the HTTP
behaviour that ``asgi`` and ``flask`` serve; ``testing`` is the conformance kit; ``cli`` is the
command line on top of them all.
"""

from ._core.build import (
    CalendarWindows,
    DashboardOptions,
    Repos,
    build_dashboard,
    build_profile_overview,
    dashboard_ask,
)
from ._core.clock import FixedClock, SystemClock
from ._core.errors import DashboardError, InvalidOptions, StorageError, UserNotFound
from ._core.ports import (
    AudienceRepo,
    Clock,
    DayFiguresRepo,
    FollowRepo,
    PostRepo,
    RevenueRepo,
    UserRepo,
    WholeDashboardRepo,
)
from ._core.records import (
    CurrencyTotal,
    DailyAnalytics,
    DashboardAsk,
    DashboardReads,
    DayFigures,
    Earning,
    Follow,
    Post,
    PostEvent,
    PostTotals,
    Standing,
    User,
)
from ._core.response import (
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

__all__ = [
    "ArtistDashboard",
    "ArtistDashboardActivityPost",
    "ArtistDashboardActivityUser",
    "ArtistDashboardAudience",
    "ArtistDashboardChange",
    "ArtistDashboardChartPoint",
    "ArtistDashboardComparison",
    "ArtistDashboardMeta",
    "ArtistDashboardProfile",
    "ArtistDashboardRecentActivity",
    "ArtistDashboardStats",
    "ArtistDashboardTopContent",
    "AudienceRepo",
    "CalendarWindows",
    "Clock",
    "CurrencyTotal",
    "DailyAnalytics",
    "DashboardAsk",
    "DashboardError",
    "DashboardOptions",
    "DashboardReads",
    "DayFigures",
    "DayFiguresRepo",
    "Earning",
    "FixedClock",
    "Follow",
    "FollowRepo",
    "InvalidOptions",
    "Post",
    "PostEvent",
    "PostRepo",
    "PostTotals",
    "ProfileOverview",
    "ProfileOverviewStats",
    "Repos",
    "RevenueRepo",
    "Standing",
    "StorageError",
    "SystemClock",
    "User",
    "UserNotFound",
    "UserRepo",
    "WholeDashboardRepo",
    "build_dashboard",
    "build_profile_overview",
    "dashboard_ask",
]
