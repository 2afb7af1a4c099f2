"""Core: exact numbers (SPEC §6): ratios and money stay exact until one final half-up rounding
to 2 decimal places, away from zero for negatives too, and print as plain decimals.

Python's default decimal context keeps 28 significant digits and rounds beyond them; nothing
here depends on it: results are built from integers, and sums and roundings of amounts run in
`EXACT`, whose precision holds any sum of amounts the dataset reader accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache

__all__ = ["MAX_AMOUNT_DIGITS", "PLACES", "exact_sum", "half_up", "plain", "round_money"]

#: Rates, percentages and amounts keep this many decimal places.
PLACES = 2
#: The most significant digits an amount may have (the dataset reader refuses more), so that
#: sums of up to 10^100 amounts stay exact in `EXACT`.
MAX_AMOUNT_DIGITS = 60
#: A context in which sums and roundings of accepted amounts are exact.
EXACT = Context(prec=MAX_AMOUNT_DIGITS + 140, rounding=ROUND_HALF_UP, Emax=10**6, Emin=-(10**6))
_QUANTUM = Decimal((0, (1,), -PLACES))


# Every build of an artist's dashboard rounds the same days' rates again (the chart's 30):
# remembered, a rate costs a tenth. Decimals are immutable, so sharing them is safe.
@lru_cache(maxsize=8192)
def half_up(numerator: int, denominator: int, places: int = PLACES) -> Decimal:
    """numerator / denominator rounded half-up (a tie away from zero) to `places` decimals,
    with integer arithmetic only; `denominator` must be positive."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    units, remainder = divmod(abs(numerator) * 10**places, denominator)
    if 2 * remainder >= denominator:
        units += 1
    # Exact: the decimal is read from its own digits (faster than building the tuple).
    sign = "-" if numerator < 0 and units else ""
    return Decimal(f"{sign}{units}e-{places}")


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of amounts."""
    with localcontext(EXACT):
        return sum(amounts, Decimal(0))


def round_money(amount: Decimal) -> Decimal:
    """An exact amount rounded half-up (away from zero) to 2 decimal places."""
    return amount.quantize(_QUANTUM, context=EXACT)


def plain(value: Decimal) -> str:
    """The shortest plain decimal: ``7.5``, ``50``, ``0`` — never an exponent, never ``-0``."""
    if value.is_zero():
        return "0"
    return format(value.normalize(EXACT), "f")
