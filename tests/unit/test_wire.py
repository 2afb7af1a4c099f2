"""The wire format: keys, instants, numbers, optional activity keys, round trip and schema."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from artist_dashboard import (
    ArtistDashboard,
    ArtistDashboardActivityPost,
    ArtistDashboardActivityUser,
    ArtistDashboardChartPoint,
    ArtistDashboardRecentActivity,
    wire,
)
from artist_dashboard._core.wire import _standard_json
from artist_dashboard.demo import demo_dashboard

SEED = Path(__file__).parents[1] / "contract" / "seed" / "dashboard-example.json"

instants = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
counts = st.integers(0, 2**63)
#: What a rate, a percentage or an amount can be: exact, 2 places, any sign and size.
decimals = st.one_of(
    st.integers(-(10**6), 10**6).map(lambda h: Decimal(f"{h}E-2")),
    st.integers(-(10**40), 10**40).map(lambda h: Decimal(f"{h}E-2")),
    st.sampled_from([Decimal("-0.00"), Decimal("1E+2"), Decimal("0.10"), Decimal("7.50")]),
)
text = st.text()

st.register_type_strategy(datetime, instants)
st.register_type_strategy(int, counts)
st.register_type_strategy(Decimal, decimals)
st.register_type_strategy(str, text)
activities = st.one_of(
    st.builds(
        ArtistDashboardRecentActivity,
        type=st.just("newFollower"),
        created_at=instants,
        user=st.builds(ArtistDashboardActivityUser),
        post=st.none(),
    ),
    st.builds(
        ArtistDashboardRecentActivity,
        type=st.just("newPost"),
        created_at=instants,
        user=st.none(),
        post=st.builds(ArtistDashboardActivityPost),
    ),
)
dashboards = st.builds(
    ArtistDashboard,
    engagement_chart=st.lists(st.builds(ArtistDashboardChartPoint), max_size=3).map(tuple),
    recent_activity=st.lists(activities, max_size=3).map(tuple),
)
validator = jsonschema.Draft202012Validator(
    wire.json_schema(), format_checker=jsonschema.FormatChecker()
)


def seed_example() -> dict[str, Any]:
    return json.loads(SEED.read_text())  # type: ignore[no-any-return]


@given(dashboards)
def test_any_dashboard_round_trips_through_json(dashboard: ArtistDashboard) -> None:
    """Writing a dashboard as JSON and reading it back gives the same dashboard."""
    assert wire.from_json(wire.to_json(dashboard)) == dashboard


@given(dashboards)
def test_any_dashboard_validates_against_the_schema(dashboard: ArtistDashboard) -> None:
    """Every dashboard the classes can hold is valid under the generated schema."""
    validator.validate(json.loads(wire.to_json(dashboard)))


def test_schema_is_draft_2020_12_and_closed() -> None:
    """The schema is itself valid Draft 2020-12, and every object forbids unknown keys."""
    schema = wire.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    objects = list(schema["$defs"].values())
    assert all(o["additionalProperties"] is False for o in objects)


def test_seed_example_and_demo_validate() -> None:
    """The app team's example and the demo's real output both validate."""
    validator.validate(seed_example())
    validator.validate(wire.to_dict(demo_dashboard()))


def test_unknown_key_does_not_validate() -> None:
    """A key the contract does not name is refused (nothing private slips in unnoticed)."""
    data = seed_example()
    data["stats"]["secret"] = 1
    assert not validator.is_valid(data)


def test_instants_are_milliseconds_and_z() -> None:
    """Instants look like JavaScript's toISOString: three digits, truncated, and Z."""
    assert wire.format_instant(datetime(2026, 6, 8, tzinfo=UTC)) == "2026-06-08T00:00:00.000Z"
    moment = datetime(2026, 6, 8, 1, 2, 3, 999_999, tzinfo=UTC)
    assert wire.format_instant(moment) == "2026-06-08T01:02:03.999Z"
    plus_two = timezone(timedelta(hours=2))
    assert wire.format_instant(datetime(2026, 6, 8, 1, tzinfo=plus_two)) == (
        "2026-06-07T23:00:00.000Z"
    )
    assert wire.format_instant(datetime(2026, 6, 8)) == "2026-06-08T00:00:00.000Z"  # naive: UTC
    assert wire.format_instant(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00.000Z"


@given(dashboards)
def test_the_fast_encoder_writes_what_the_standard_library_writes(
    dashboard: ArtistDashboard,
) -> None:
    """With orjson installed, `to_json` writes byte for byte the standard library's text."""
    assert wire.to_json(dashboard) == _standard_json(dashboard, None)


def test_counts_past_64_bits_are_written_too() -> None:
    """A sum of counters past 2^64 (which orjson cannot write) is still written exactly."""
    from attrs import evolve

    base = demo_dashboard()
    text = wire.to_json(evolve(base, stats=evolve(base.stats, view_count=2**70)))
    assert f'"viewCount":{2**70},' in text


def test_to_json_needs_no_orjson() -> None:
    """Without orjson (an optional extra) the dashboard is written the same, compact."""
    program = (
        "import sys; sys.modules['orjson'] = None\n"
        "from artist_dashboard.demo import demo_dashboard\n"
        "from artist_dashboard.wire import to_json\n"
        "print(to_json(demo_dashboard()))"
    )
    found = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == wire.to_json(demo_dashboard())
    assert found.startswith('{"profile":{"_id":')


def test_whole_floats_are_written_as_integers() -> None:
    """scorePercentage 0.0 is written 0 and engagementRate 7.26 stays 7.26, as in the example."""
    stats = wire.to_dict(demo_dashboard())["stats"]
    assert json.dumps(stats["scorePercentage"]) == "0"
    assert json.dumps(stats["earnings"]) == "0"
    assert json.dumps(stats["engagementRate"]) == "7.26"
    assert all(type(v) is int for k, v in stats.items() if k.endswith("Count"))


def test_activity_items_carry_only_their_own_payload() -> None:
    """A newFollower item has `user` and no `post`; a newPost item the other way round."""
    items = wire.to_dict(demo_dashboard())["recentActivity"]
    kinds = {i["type"]: set(i) for i in items}
    assert kinds == {
        "newFollower": {"type", "createdAt", "user"},
        "newPost": {"type", "createdAt", "post"},
    }


def test_rates_and_amounts_are_plain_decimals_of_any_size() -> None:
    """Exact values print as the shortest plain decimal: no exponent, no float drift, no -0."""
    from attrs import evolve

    base = demo_dashboard()
    huge = Decimal(f"{10**30 + 1}E-2")  # (scaleb would round to 28 digits)
    stats = evolve(base.stats, engagement_rate=huge, earnings=Decimal("-0.00"))
    text = wire.to_json(evolve(base, stats=stats))
    assert '"engagementRate":10000000000000000000000000000.01' in text
    assert '"earnings":0' in text
    assert "e+" not in text.lower()
    assert wire.from_json(text).stats.engagement_rate == huge


def test_the_chart_as_csv() -> None:
    """A header, one line per point in order, numbers as in the JSON, LF and a final newline."""
    from artist_dashboard.demo import demo_analytics_dashboard

    dashboard = demo_analytics_dashboard()
    text = wire.chart_csv(dashboard)
    lines = text.split("\n")
    assert lines[0] == wire.CHART_CSV_HEADER
    assert lines[-1] == ""
    assert "\r" not in text
    points = wire.to_dict(dashboard)["engagementChart"]
    for line, point in zip(lines[1:-1], points, strict=True):
        assert line.split(",") == [json.dumps(v).strip('"') for v in point.values()]
