"""Core: stored values as the core reads them (SPEC §5), times in UTC, counters clamped at 0.

The lowest rules of all, kept apart so that records and rules can both use them; the public
names are re-exported by `artist_dashboard.rules`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

#: The logger of every correction the library makes to stored data.
log = logging.getLogger("artist_dashboard")


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def clamp_counter(value: object) -> int:
    """A stored counter as the dashboard counts it: negative, null or non-integer becomes 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        if (
            isinstance(value, float)
            and value == value
            and value not in (float("inf"), -float("inf"))
        ):
            return max(int(value), 0)
        return 0
    return max(value, 0)
