"""The metric rules, one by one: rate, score, ranking, windows, clamping, collaborations."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from artist_dashboard import CalendarWindows, DashboardOptions, InvalidOptions, Post, rules

NOW = datetime(2026, 6, 8, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def post(id: str = "p", score: int = 0, at: datetime = NOW, **fields: object) -> Post:
    return Post(id=id, author_id="a", created_at=at, likes_count=score, **fields)  # type: ignore[arg-type]


def half_up(engagements: int, reach: int) -> Fraction:
    """Reference rounding with Fractions: floor(x * 100 + 1/2) / 100."""
    exact = Fraction(engagements * 100, reach)
    return Fraction(int(exact * 100 + Fraction(1, 2)), 100)


def test_rate_of_the_seed_example() -> None:
    """289 engagements over 3000 views + 980 plays is 7.26, as the app's example says."""
    assert rules.engagement_rate(220 + 40 + 18 + 11, 3000 + 980) == Decimal("7.26")


@pytest.mark.parametrize(
    ("engagements", "reach", "expected"),
    [(1, 800, "0.13"), (3, 800, "0.38"), (1, 3, "33.33"), (2, 3, "66.67"), (5, 1, "500")],
)
def test_rate_rounds_half_up_not_to_even(engagements: int, reach: int, expected: str) -> None:
    """A tie at the third decimal rounds away from zero (0.125 -> 0.13), and 500% is not capped."""
    assert rules.engagement_rate(engagements, reach) == Decimal(expected)


@given(st.integers(0, 2**64), st.integers(0, 2**64))
def test_rate_is_exact_half_up_and_finite(engagements: int, reach: int) -> None:
    """The rate is finite, >= 0, 0 without reach, and exactly the half-up rounding."""
    rate = rules.engagement_rate(engagements, reach)
    assert rate.is_finite()
    assert rate >= 0
    if reach == 0:
        assert rate == 0
    else:
        assert Fraction(rate) == half_up(engagements, reach)


def test_score_of_the_seed_top_post() -> None:
    """90 likes + 10 comments + 8 saves + 5 shares score 113; views and plays do not count."""
    top = Post(
        id="p",
        author_id="a",
        created_at=NOW,
        view_count=1000,
        play_count=600,
        likes_count=90,
        comments_count=10,
        saves_count=8,
        shares_count=5,
    )
    assert rules.engagement_score(top) == 113


def test_ranking_breaks_ties_by_newest_then_id_descending() -> None:
    """Equal scores go newest first; equal scores and times go by id, descending as strings."""
    posts = [
        post("a", 5, NOW),
        post("b", 5, NOW),
        post("B", 5, NOW),
        post("c", 5, NOW - MS),
        post("d", 6, NOW - timedelta(days=400)),
    ]
    assert [p.id for p in rules.rank_top_content(posts, 10)] == ["d", "b", "a", "B", "c"]


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(["a", "b", "aa", "Z"])),
        unique_by=lambda t: t[2],
    ),
    st.randoms(),
    st.integers(0, 50),
)
def test_ranking_is_a_total_order_independent_of_input_order(
    specs: list[tuple[int, int, str]], shuffle: random.Random, limit: int
) -> None:
    """Shuffling the input never changes the top N, and the top N is sorted by the key."""
    posts = [post(i, s, NOW - t * MS) for s, t, i in specs]
    expected = rules.rank_top_content(posts, limit)
    shuffled = posts[:]
    shuffle.shuffle(shuffled)
    assert rules.rank_top_content(shuffled, limit) == expected
    assert len(expected) == min(limit, len(posts))
    keys = [rules.ranking_key(p) for p in expected]
    assert all(a > b for a, b in itertools.pairwise(keys))


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        (NOW - timedelta(days=7), False),
        (NOW - timedelta(days=7) + MS, True),
        (NOW, True),
        (NOW + MS, False),
    ],
)
def test_week_window_edges_to_the_millisecond(instant: datetime, inside: bool) -> None:
    """now - 7d is outside, a millisecond later is inside, now is inside, the future is not."""
    week_after, _ = DashboardOptions().new_follower_windows(NOW)
    assert rules.in_window(instant, week_after, NOW) is inside


@given(st.one_of(st.integers(), st.none(), st.floats(), st.booleans(), st.text()))
def test_clamp_gives_a_non_negative_int(value: object) -> None:
    """Whatever storage holds, a counter counts as a non-negative int; good values unchanged."""
    clamped = rules.clamp_counter(value)
    assert isinstance(clamped, int)
    assert clamped >= 0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        assert clamped == value


@pytest.mark.parametrize(
    ("author", "collaborators", "deleted", "counted"),
    [
        ("me", ["x"], False, True),
        ("me", [], False, False),
        ("me", ["me"], False, False),
        ("x", ["me"], False, True),
        ("x", ["y"], False, False),
        ("x", ["me"], True, False),
    ],
)
def test_collaboration_needs_someone_else(
    author: str, collaborators: list[str], deleted: bool, counted: bool
) -> None:
    """Authored with another collaborator, or listed on another's post; live posts only."""
    p = Post(
        id="p",
        author_id=author,
        created_at=NOW,
        collaborator_ids=collaborators,
        is_deleted=deleted,
    )
    assert rules.is_collaboration(p, "me") is counted


def test_calendar_windows_start_at_local_midnight() -> None:
    """In Berlin (UTC+2 in June) with Sunday weeks, Wednesday 10:00 UTC looks back to Sunday
    00:00 local and to the 1st 00:00 local, both inclusive."""
    now = datetime(2026, 6, 10, 10, tzinfo=UTC)  # a Wednesday
    options = DashboardOptions(
        calendar_windows=CalendarWindows(time_zone="Europe/Berlin", week_start=6)
    )
    week_after, month_after = options.new_follower_windows(now)
    week_start = datetime(2026, 6, 6, 22, tzinfo=UTC)
    month_start = datetime(2026, 5, 31, 22, tzinfo=UTC)
    assert rules.in_window(week_start, week_after, now)
    assert not rules.in_window(week_start - timedelta(microseconds=1), week_after, now)
    assert rules.in_window(month_start, month_after, now)
    assert not rules.in_window(month_start - MS, month_after, now)


def test_options_out_of_range_are_refused() -> None:
    """Top content is 0-50; an unknown time zone is an error, not UTC."""
    with pytest.raises(InvalidOptions):
        DashboardOptions(top_content_limit=51)
    with pytest.raises(InvalidOptions):
        DashboardOptions(top_content_limit=-1)
    with pytest.raises(InvalidOptions):
        CalendarWindows(time_zone="Mars/Olympus")


@given(st.text(max_size=40) | st.sampled_from(["", "\x00", "a\x00", "\ud800", "x" * 513]))
def test_a_storable_id_is_short_text_without_nul_or_lone_surrogates(value: str) -> None:
    """`is_storable_id` holds exactly for non-empty UTF-8-encodable text without NUL of at
    most MAX_ID_BYTES bytes."""
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        size = None
    expected = bool(value) and "\x00" not in value and size is not None
    expected = expected and size is not None and size <= rules.MAX_ID_BYTES
    assert rules.is_storable_id(value) is expected


def test_ids_at_the_byte_limit() -> None:
    """The limit counts UTF-8 bytes: 512 ASCII letters pass, 257 two-byte letters do not."""
    assert rules.is_storable_id("a" * rules.MAX_ID_BYTES)
    assert not rules.is_storable_id("a" * (rules.MAX_ID_BYTES + 1))
    assert not rules.is_storable_id("é" * 257)
    assert not rules.is_storable_id(None)
