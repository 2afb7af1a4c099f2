"""artist_dashboard: a music artist's private analytics dashboard, exact to the app's contract.

The core is framework-free: records in, `build_dashboard` asks three small ports
(`UserRepo`, `PostRepo`, `FollowRepo`) for counts, sums and the top and recent few, and
returns an `ArtistDashboard`. `artist_dashboard.wire` turns it into the app's JSON.
"""

from ._build import (
    CalendarWindows,
    DashboardOptions,
    Repos,
    build_dashboard,
    build_profile_overview,
)
from ._clock import FixedClock, SystemClock
from ._dashboard import (
    ArtistDashboard,
    ArtistDashboardActivityPost,
    ArtistDashboardActivityUser,
    ArtistDashboardAudience,
    ArtistDashboardChartPoint,
    ArtistDashboardMeta,
    ArtistDashboardProfile,
    ArtistDashboardRecentActivity,
    ArtistDashboardStats,
    ArtistDashboardTopContent,
    ProfileOverview,
    ProfileOverviewStats,
)
from ._errors import DashboardError, InvalidOptions, StorageError, UserNotFound
from ._records import Follow, Post, PostTotals, User
from .typing import Clock, FollowRepo, PostRepo, UserRepo

__all__ = [
    "ArtistDashboard",
    "ArtistDashboardActivityPost",
    "ArtistDashboardActivityUser",
    "ArtistDashboardAudience",
    "ArtistDashboardChartPoint",
    "ArtistDashboardMeta",
    "ArtistDashboardProfile",
    "ArtistDashboardRecentActivity",
    "ArtistDashboardStats",
    "ArtistDashboardTopContent",
    "CalendarWindows",
    "Clock",
    "DashboardError",
    "DashboardOptions",
    "FixedClock",
    "Follow",
    "FollowRepo",
    "InvalidOptions",
    "Post",
    "PostRepo",
    "PostTotals",
    "ProfileOverview",
    "ProfileOverviewStats",
    "Repos",
    "StorageError",
    "SystemClock",
    "User",
    "UserNotFound",
    "UserRepo",
    "build_dashboard",
    "build_profile_overview",
]
