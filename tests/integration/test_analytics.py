"""The analytics sources end to end (SPEC §6, §7): dataset files with Extended JSON, into the
in-memory store, against an independent computation; each file's bad lines; configuration by
file; the same dataset through SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artist_dashboard import FixedClock, build_dashboard
from artist_dashboard.dataset import configured_sources, load_dataset
from artist_dashboard.testing import NOW, Documents, analytics_documents
from artist_dashboard.wire import to_json

from ..helpers import write_all
from ..oracle_analytics import expected_analytics, picked_from

BUILT_AT = [NOW, NOW.replace(hour=0), NOW + timedelta(days=1, hours=1), NOW - timedelta(days=20)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=analytics_documents(), now=st.sampled_from(BUILT_AT), seed=st.integers(0, 9))
def test_every_analytics_figure_agrees_with_an_independent_computation(
    tmp_path_factory: pytest.TempPathFactory, docs: Documents, now: datetime, seed: int
) -> None:
    """Chart, comparison, standing, non-followers, earnings and the flags, built from files
    (mixed plain and Extended JSON), equal what SPEC §6 says, computed on its own."""
    folder = write_all(tmp_path_factory.mktemp("d"), docs, seed)
    store = load_dataset(folder, strict=True)
    for user in docs.users:
        built = json.loads(
            to_json(build_dashboard(user["_id"], store.repos, FixedClock(now))),
            parse_float=Decimal,
        )
        expected = expected_analytics(user["_id"], docs.posts, docs.follows, docs.sources, now)
        assert picked_from(built) == expected, user["_id"]


def lines(folder: Path, name: str, docs: list[Any]) -> None:
    with (folder / f"{name}.jsonl").open("w") as out:
        for doc in docs:
            out.write((doc if isinstance(doc, str) else json.dumps(doc)) + "\n")


def test_each_source_file_reports_its_bad_lines(tmp_path: Path) -> None:
    """Unreadable documents of each source are named by file and line; the rest load."""
    at = "2026-06-07T10:00:00Z"
    lines(
        tmp_path,
        "post_view_events",
        [{"_id": "v1", "postId": "p", "createdAt": at}, {"postId": "p", "createdAt": at}],
    )
    lines(
        tmp_path,
        "post_engagement_events",
        [
            {"_id": "g1", "postId": "p", "createdAt": at, "type": "like"},
            {"_id": "g2", "postId": "p", "createdAt": at, "type": "view"},
            {"_id": "g3", "postId": "p", "createdAt": at, "type": "Like"},
            {"_id": "g4", "createdAt": at, "type": "like"},
        ],
    )
    lines(
        tmp_path,
        "daily_artist_analytics",
        [
            {"artistId": "a", "date": "2026-06-01", "viewCount": 3},
            {"artistId": "a", "date": "2026-6-1"},
            {"date": "2026-06-01"},
            {"artistId": "a", "date": {"$date": "2026-06-02T23:30:00-01:00"}, "likesCount": 1},
        ],
    )
    lines(
        tmp_path,
        "earnings",
        [
            {"_id": "m1", "artistId": "a", "amount": "1.10", "currency": "usd", "createdAt": at},
            {"_id": "m2", "artistId": "a", "amount": "NaN", "currency": "USD", "createdAt": at},
            {"_id": "m3", "artistId": "a", "amount": 1, "currency": "US", "createdAt": at},
            {
                "_id": "m4",
                "artistId": "a",
                "amount": "Infinity",
                "currency": "USD",
                "createdAt": at,
            },
            '{"_id": "m5", "artistId": "a", "amount": {"$numberDecimal": "0.105"},'
            ' "currency": "EUR", "createdAt": {"$date": 1780826400000}}',
        ],
    )
    problems: list[Any] = []
    store = load_dataset(tmp_path, on_problem=problems.append)
    assert sorted((p.file, p.line) for p in problems) == [
        ("daily_artist_analytics.jsonl", 2),
        ("daily_artist_analytics.jsonl", 3),
        ("earnings.jsonl", 2),
        ("earnings.jsonl", 3),
        ("earnings.jsonl", 4),
        ("post_engagement_events.jsonl", 2),
        ("post_engagement_events.jsonl", 3),
        ("post_engagement_events.jsonl", 4),
        ("post_view_events.jsonl", 2),
    ]
    assert {e.id for e in store.events} == {"v1", "g1"}
    # {"$date": …} is taken as its UTC date: 23:30 at -01:00 is the next day in UTC.
    assert sorted(r.day.isoformat() for r in store.daily) == ["2026-06-01", "2026-06-03"]
    amounts = {e.id: (e.amount, e.currency) for e in store.earnings}
    assert amounts == {"m1": (Decimal("1.10"), "USD"), "m5": (Decimal("0.105"), "EUR")}


def test_a_later_document_with_the_same_key_replaces_an_earlier_one(tmp_path: Path) -> None:
    """Events by _id within their collection, daily rows by (artistId, date), earnings by _id;
    the same _id in two event collections is two events."""
    at, later = "2026-06-07T10:00:00Z", "2026-06-07T11:00:00Z"
    lines(tmp_path, "post_view_events", [{"_id": "e", "postId": "p", "createdAt": at}] * 2)
    lines(tmp_path, "post_play_events", [{"_id": "e", "postId": "p", "createdAt": later}])
    lines(
        tmp_path,
        "daily_artist_analytics",
        [{"artistId": "a", "date": "2026-06-01", "viewCount": n} for n in (1, 2)],
    )
    store = load_dataset(tmp_path, strict=True)
    assert sorted((e.kind, e.id) for e in store.events) == [("play", "e"), ("view", "e")]
    assert [r.view_count for r in store.daily] == [2]


def test_a_source_is_configured_by_its_file_even_empty(tmp_path: Path) -> None:
    """An empty file configures its source (real zeros, flag true); an absent one does not."""
    lines(tmp_path, "users", [{"_id": "a"}])
    assert configured_sources(tmp_path) == []
    lines(tmp_path, "earnings", [])
    lines(tmp_path, "post_engagement_events", [])
    assert configured_sources(tmp_path) == ["post_engagement_events", "earnings"]
    dashboard = build_dashboard("a", load_dataset(tmp_path).repos, FixedClock(NOW))
    meta = dashboard.meta
    assert meta.chart_available
    assert not meta.audience_analytics_available
    assert meta.earnings_available
    assert meta.earnings_currency is None
    assert len(dashboard.engagement_chart) == 30
    assert dashboard.comparison is not None


def test_without_sources_the_dashboard_keeps_the_safe_defaults() -> None:
    """No source: an empty chart, null comparison, zeros, every flag false, null currency."""
    from artist_dashboard.demo import demo_dashboard

    data = json.loads(to_json(demo_dashboard()))
    assert data["engagementChart"] == []
    assert data["comparison"] is None
    assert (data["stats"]["scorePercentage"], data["stats"]["earnings"]) == (0, 0)
    assert data["audience"]["nonFollowers"] == 0
    assert data["meta"] == {
        "generatedAt": "2026-06-08T00:00:00.000Z",
        "chartAvailable": False,
        "earningsAvailable": False,
        "audienceAnalyticsAvailable": False,
        "earningsCurrency": None,
    }


def test_the_analytics_demo_shows_every_source() -> None:
    """`demo --analytics`: a full chart, a comparison, a real audience split, USD earnings
    with a refund, and a standing among its peers."""
    from artist_dashboard.demo import demo_analytics_dashboard

    dashboard = demo_analytics_dashboard()
    assert len(dashboard.engagement_chart) == 30
    assert any(p.view_count for p in dashboard.engagement_chart)
    assert dashboard.comparison is not None
    assert 0 < dashboard.audience.non_followers < dashboard.audience.followers
    assert dashboard.meta.earnings_currency == "USD"
    assert dashboard.stats.earnings == Decimal("60.80")
    assert 0 < dashboard.stats.score_percentage < 100
    assert dashboard.meta.chart_available
    assert dashboard.meta.audience_analytics_available


def test_demo_analytics_reads_the_same_through_every_store(tmp_path: Path) -> None:
    """The analytics demo written as a dataset and read back (into memory, and into SQLite)
    gives the same dashboard as the demo itself."""
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import create_engine

    from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_analytics_dashboard
    from artist_dashboard.sql import SqlStore, load_dataset_into

    from ..helpers import demo_folder

    folder = demo_folder(tmp_path / "demo")
    clock = FixedClock(DEMO_NOW)
    expected = demo_analytics_dashboard()
    assert build_dashboard(DEMO_USER_ID, load_dataset(folder).repos, clock) == expected
    engine = create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    load_dataset_into(engine, folder)
    assert build_dashboard(DEMO_USER_ID, SqlStore(engine).repos, clock) == expected
