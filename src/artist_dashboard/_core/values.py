"""Core: stored values as the core reads them (SPEC §5), times in UTC, counters clamped at 0.

The lowest rules of all, kept apart so that records and rules can both use them; the public
names are re-exported by `artist_dashboard.rules`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

#: The logger of every correction the library makes to stored data.
log = logging.getLogger("artist_dashboard")


#: The longest id the library accepts, in UTF-8 bytes: far above a MongoDB ObjectId (24) or a
#: UUID (36), and well below what a database index entry can hold (about 2.7 KB on PostgreSQL).
MAX_ID_BYTES = 512
#: The largest counter a post may carry: what a BIGINT column holds.
MAX_COUNTER = 2**63 - 1


def is_storable_id(value: object) -> bool:
    """True for an id every store can hold and look up: a non-empty string of at most
    `MAX_ID_BYTES` UTF-8 bytes, without NUL characters or lone surrogates.

    An id that fails this names nothing, anywhere: a lookup answers "no such user" without
    asking storage, and a dataset line carrying one is reported.
    """
    if not isinstance(value, str) or not value or "\x00" in value:
        return False
    try:
        return len(value.encode("utf-8")) <= MAX_ID_BYTES
    except UnicodeEncodeError:
        return False


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
