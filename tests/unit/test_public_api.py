"""The public surface: exactly the intended names, and an import that pulls in no adapter."""

from __future__ import annotations

import subprocess
import sys

import artist_dashboard

INTENDED = {
    "ArtistDashboard",
    "ArtistDashboardChange",
    "ArtistDashboardComparison",
    "AudienceRepo",
    "CurrencyTotal",
    "DailyAnalytics",
    "DayFigures",
    "DayFiguresRepo",
    "Earning",
    "PostEvent",
    "RevenueRepo",
    "Standing",
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
    "dashboard_ask",
    "DashboardAsk",
    "DashboardReads",
    "WholeDashboardRepo",
}


def test_exported_names_are_exactly_the_intended_ones() -> None:
    """`__all__` is the contract; every name in it exists."""
    assert set(artist_dashboard.__all__) == INTENDED
    assert all(hasattr(artist_dashboard, name) for name in INTENDED)


def test_importing_the_core_imports_no_adapter_dependency() -> None:
    """`import artist_dashboard` loads only the standard library, attrs and cattrs (and
    orjson, the optional accelerator, where it is installed)."""

    def top_level_modules(imports: str) -> set[str]:
        probe = f"import sys{imports}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
        return set(subprocess.check_output([sys.executable, "-c", probe], text=True).split())

    baseline = top_level_modules("")
    loaded = top_level_modules(", artist_dashboard, artist_dashboard.wire")
    stdlib = set(sys.stdlib_module_names)
    third_party = {m for m in loaded - baseline - stdlib if not m.startswith("_sysconfigdata")}
    third_party.discard("artist_dashboard")
    assert third_party <= {"attrs", "attr", "cattrs", "cattr", "typing_extensions", "orjson"}
    forbidden = {"sqlalchemy", "psycopg", "starlette", "flask", "jwt", "uvicorn", "hypothesis"}
    assert not loaded & forbidden
