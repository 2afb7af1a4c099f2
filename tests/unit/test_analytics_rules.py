"""The analytics rules (SPEC §6): exact half-up rounding, days, the chart's and the standing's
windows, which figure a day takes, the standing, changePercent and earnings."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from artist_dashboard import CurrencyTotal, DayFigures, Standing
from artist_dashboard import rules as r


def reference_half_up(numerator: int, denominator: int) -> Fraction:
    """Half-up to 2 places, a tie away from zero, with Fractions (written from the spec)."""
    exact = Fraction(numerator, denominator) * 100
    magnitude = int(abs(exact) + Fraction(1, 2))
    return Fraction(-magnitude if exact < 0 else magnitude, 100)


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**30))
def test_half_up_is_exact_and_away_from_zero(numerator: int, denominator: int) -> None:
    """half_up equals the exact half-up rounding for any sign and size; never -0."""
    got = r.half_up(numerator, denominator)
    assert Fraction(got) == reference_half_up(numerator, denominator)
    assert r.plain(got) != "-0"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(1, 8, "0.13"), (-1, 8, "-0.13"), (-1, 800, "0"), (5, 1, "5"), (-3, 2, "-1.5")],
)
def test_half_up_ties_and_printing(numerator: int, denominator: int, expected: str) -> None:
    """0.125 rounds to 0.13 and -0.125 to -0.13; -0.00125 prints 0; whole values print bare."""
    assert r.plain(r.half_up(numerator, denominator)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7.50", "7.5"), ("50.00", "50"), ("0.00", "0"), ("-0.00", "0"), ("1E+3", "1000")],
)
def test_plain_is_the_shortest_plain_decimal(value: str, expected: str) -> None:
    """No exponent, no trailing zeros, no -0 (SPEC §6 Numbers)."""
    assert r.plain(Decimal(value)) == expected


def test_days_are_utc_and_midnight_starts_a_day() -> None:
    """An instant belongs to its UTC date; 00:00:00.000 is the first instant of a day."""
    midnight = datetime(2026, 6, 8, tzinfo=UTC)
    assert r.utc_day(midnight) == date(2026, 6, 8)
    assert r.utc_day(midnight - timedelta(milliseconds=1)) == date(2026, 6, 7)
    east = datetime(2026, 6, 8, 1, 0, tzinfo=UTC).astimezone()  # any zone: still that UTC day
    assert r.utc_day(east) == date(2026, 6, 8)


def test_the_windows_of_the_chart_comparison_and_standing() -> None:
    """Chart: today-29..today; previous period: today-59..today-30; standing: today-30..today-1."""
    now = datetime(2026, 6, 8, 12, tzinfo=UTC)
    chart = r.chart_days(now)
    current, previous = r.comparison_days(now)
    assert (chart[0], chart[-1], len(chart)) == (date(2026, 5, 10), date(2026, 6, 8), 30)
    assert current == chart
    assert (previous[0], previous[-1], len(previous)) == (date(2026, 4, 10), date(2026, 5, 9), 30)
    assert r.standing_days(now) == (date(2026, 5, 9), date(2026, 6, 7))


def test_a_daily_row_wins_even_all_zeros() -> None:
    """Any row for a day is that day's figure, zeros included; else the events; else zeros."""
    day = date(2026, 6, 1)
    row, events = DayFigures(day), DayFigures(day, view_count=9, likes_count=3)
    assert r.day_figures(day, row, events) == row
    assert r.day_figures(day, None, events) == events
    assert r.day_figures(day, None, None) == DayFigures(day)


@given(
    st.dictionaries(
        st.sampled_from("abcdefg"),
        st.tuples(st.integers(0, 50), st.integers(0, 50)),
        max_size=7,
    )
)
def test_standing_counts_rates_at_most_the_artists(totals: dict[str, tuple[int, int]]) -> None:
    """Ranked: artists with reach > 0; at_or_below: ranked rates <= the artist's, exactly."""
    ranked = {a: Fraction(e, n) for a, (e, n) in totals.items() if n > 0}
    for artist in "abcdefgh":
        standing = r.rank_standing(artist, totals)
        assert standing.ranked == len(ranked)
        if artist in ranked:
            mine = ranked[artist]
            assert standing.at_or_below == sum(rate <= mine for rate in ranked.values())
        else:
            assert standing.at_or_below == 0


@pytest.mark.parametrize(
    ("standing", "expected"),
    [
        (Standing(3, 8), "37.5"),
        (Standing(1, 3), "33.33"),
        (Standing(0, 5), "0"),
        (Standing(0, 0), "0"),
    ],
)
def test_percentile(standing: Standing, expected: str) -> None:
    """100 x at_or_below / N, half-up to 2 places; 0 when not ranked."""
    assert r.plain(r.percentile(standing)) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (110, 100, "10"),
        (0, 3, "-100"),
        (1, 3, "-66.67"),
        (5, 0, None),
        (0, 0, None),
        (7, 8, "-12.5"),
    ],
)
def test_change_percent(current: int, previous: int, expected: str | None) -> None:
    """(current - previous) / previous x 100, half-up away from zero; None when previous is 0."""
    got = r.change_percent(current, previous)
    assert (None if got is None else r.plain(got)) == expected


def test_earnings_in_one_currency_are_summed_exactly() -> None:
    """Exact sum, half-up to 2 places (10.005 - 2.5 = 7.505 -> 7.51); refunds may win."""
    got = r.earnings([CurrencyTotal("USD", Decimal("7.505"), 2)])
    assert (r.plain(got.amount), got.currency, got.available) == ("7.51", "USD", True)
    refunded = r.earnings([CurrencyTotal("USD", Decimal("-0.005"), 1)])
    assert (r.plain(refunded.amount), refunded.currency) == ("-0.01", "USD")


def test_no_entries_is_zero_with_no_currency_and_available() -> None:
    """A configured revenue source without entries in the window: 0, null currency, available."""
    assert r.earnings([]) == r.Earnings(Decimal(0), None, True)


def test_mixed_currencies_are_unavailable_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Two currencies in the window cannot be summed: 0, no currency, unavailable, and why."""
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        got = r.earnings([CurrencyTotal("EUR", Decimal(5), 1), CurrencyTotal("USD", Decimal(3), 2)])
    assert got == r.Earnings(Decimal(0), None, False)
    assert "2 currencies (EUR, USD)" in caplog.text
