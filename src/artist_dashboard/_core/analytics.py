"""Core: the rules of the analytics sources (SPEC §6), each defined once: UTC days, the dense
30-point chart, which figure a day takes, the standing, the period comparison, and earnings in
one currency.

A store answers aggregates (a day's rows, a day's event counts, a count of viewers, sums per
currency); these functions turn them into the dashboard's figures. A store that pushes one of
them into a query (the standing, say) is checked against them by the conformance kit.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from operator import attrgetter

from attrs import frozen

from .numbers import half_up, round_money
from .records import CurrencyTotal, DayFigures, Standing
from .rules import REACH_COUNTERS, SCORE_COUNTERS, ZERO, engagement_rate
from .values import as_utc, log

__all__ = [
    "AUDIENCE_WINDOW",
    "CHART_DAYS",
    "COMPARISON_DAYS",
    "EARNINGS_WINDOW",
    "EVENT_COUNTERS",
    "STANDING_DAYS",
    "Earnings",
    "change_percent",
    "chart_days",
    "comparison_days",
    "day_figures",
    "day_start",
    "earnings",
    "engagements_of",
    "percentile",
    "rank_all",
    "rank_standing",
    "reach_of",
    "standing_days",
    "utc_day",
]

#: The chart has one point per day for this many days, today's last.
CHART_DAYS = 30
#: The standing compares engagement rates over this many whole days before today.
STANDING_DAYS = 30
#: The comparison sets this many days (the chart's) against as many before them.
COMPARISON_DAYS = 30
#: Non-followers are the viewers of this rolling window (``now - 30d < t <= now``).
AUDIENCE_WINDOW = timedelta(days=30)
#: Earnings add up the entries of this rolling window.
EARNINGS_WINDOW = timedelta(days=30)
#: Which counter of a day an event of each kind adds one to.
EVENT_COUNTERS = {
    "view": "view_count",
    "play": "play_count",
    "like": "likes_count",
    "comment": "comments_count",
    "save": "saves_count",
    "share": "shares_count",
}
_DAY = timedelta(days=1)


def utc_day(instant: datetime) -> date:
    """The UTC calendar day an instant belongs to (``00:00:00.000`` starts a day)."""
    return as_utc(instant).date()


def day_start(day: date) -> datetime:
    """The first instant of a UTC day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def chart_days(now: datetime) -> tuple[date, ...]:
    """today - 29 … today, oldest first: the chart's days and the comparison's current period."""
    return _periods(utc_day(now))[0]


def comparison_days(now: datetime) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """(current, previous): today - 29 … today, and the 30 days before them."""
    return _periods(utc_day(now))


@lru_cache(maxsize=16)
def _periods(today: date) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """Every build of a day asks for the same days: they are made once."""
    current = tuple(today - (CHART_DAYS - 1 - n) * _DAY for n in range(CHART_DAYS))
    first = current[0] - COMPARISON_DAYS * _DAY
    return current, tuple(first + n * _DAY for n in range(COMPARISON_DAYS))


def standing_days(now: datetime) -> tuple[date, date]:
    """The standing's window: today - 30 … today - 1, whole days before today."""
    today = utc_day(now)
    return today - STANDING_DAYS * _DAY, today - _DAY


def day_figures(day: date, row: DayFigures | None, events: DayFigures | None) -> DayFigures:
    """A day's figures: its daily row where there is one — even one of zeros — else the count
    of its events (a rollup settles a day; late events show once it is rolled up again)."""
    if row is not None:
        return row
    return events if events is not None else DayFigures(day)


_REACH = attrgetter(*REACH_COUNTERS)
_ENGAGEMENTS = attrgetter(*SCORE_COUNTERS)
_COUNTERS = (*REACH_COUNTERS, *SCORE_COUNTERS)
_ALL = attrgetter(*_COUNTERS)


def reach_of(figures: DayFigures) -> int:
    """views + plays."""
    return sum(_REACH(figures))


def engagements_of(figures: DayFigures) -> int:
    """likes + comments + saves + shares."""
    return sum(_ENGAGEMENTS(figures))


def day_rate(figures: DayFigures) -> Decimal:
    """A day's engagement rate, by the §4 rule on that day's figures."""
    return engagement_rate(engagements_of(figures), reach_of(figures))


def rank_all(totals: Mapping[str, tuple[int, int]]) -> dict[str, Standing]:
    """Every ranked artist's standing among `totals` (artist -> (engagements, reach) over the
    window): only artists with reach > 0 are ranked, and an artist's rate counts every ranked
    rate at most equal to it, compared as exact fractions."""
    rates = {a: Fraction(e, r) for a, (e, r) in totals.items() if r > 0}
    ordered = sorted(rates.values())
    ranked = len(ordered)
    return {a: Standing(bisect_right(ordered, rate), ranked) for a, rate in rates.items()}


def rank_standing(artist_id: str, totals: Mapping[str, tuple[int, int]]) -> Standing:
    """The artist's standing among `totals`; 0 of N when the artist is not ranked."""
    everyone = rank_all(totals)
    return everyone.get(artist_id, Standing(0, len(everyone)))


def percentile(standing: Standing) -> Decimal:
    """``100 x (ranked artists whose rate <= the artist's) / N``, half-up to 2 decimals; 0 when
    the artist is not ranked."""
    if standing.at_or_below <= 0 or standing.ranked <= 0:
        return ZERO
    return half_up(100 * standing.at_or_below, standing.ranked)


def change_percent(current: int, previous: int) -> Decimal | None:
    """(current - previous) / previous x 100, half-up (away from zero) to 2 decimals; None when
    previous is 0."""
    if previous == 0:
        return None
    return half_up((current - previous) * 100, previous)


def total(figures: Iterable[DayFigures]) -> DayFigures:
    """The six counters summed over days (the day of the result is the first one's)."""
    days = list(figures)
    sums = [sum(column) for column in zip(*map(_ALL, days), strict=True)] or [0] * len(_COUNTERS)
    return DayFigures(days[0].day if days else date.min, **dict(zip(_COUNTERS, sums, strict=True)))


@frozen
class Earnings:
    """`stats.earnings`, `meta.earningsCurrency` and `meta.earningsAvailable`, together."""

    amount: Decimal
    currency: str | None
    available: bool


def earnings(totals: Sequence[CurrencyTotal]) -> Earnings:
    """The window's entries in one currency: their exact sum, half-up to 2 decimals. No
    entries: 0 and no currency. Entries in more than one currency cannot be summed: 0, no
    currency, and unavailable (the one exception to the flag rule), with the reason logged."""
    present = [t for t in totals if t.entries > 0]
    if not present:
        return Earnings(ZERO, None, True)
    if len({t.currency for t in present}) > 1:
        log.warning(
            "earnings in the window are in %d currencies (%s): they cannot be summed, so the "
            "dashboard shows earnings unavailable",
            len({t.currency for t in present}),
            ", ".join(sorted({t.currency for t in present})),
        )
        return Earnings(ZERO, None, False)
    return Earnings(
        round_money(sum((t.amount for t in present), Decimal(0))), present[0].currency, True
    )
