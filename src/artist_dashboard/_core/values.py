"""Core: stored values as the core reads them (SPEC §5), times in UTC, counters clamped at 0.

The lowest rules of all, kept apart so that records and rules can both use them; the public
names are re-exported by `artist_dashboard.rules`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from attrs import Factory, define

#: The library's logger.
log = logging.getLogger("artist_dashboard")
#: Where corrections of stored data are reported: once per build or load, as a summary.
corrections_log = logging.getLogger("artist_dashboard.corrections")


@define
class Corrections:
    """The stored values corrected (SPEC §5) during one build or load, counted by kind
    (``"post.view_count"``), with the first one described."""

    counts: Counter[str] = Factory(Counter)
    first: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


_under_way: ContextVar[Corrections | None] = ContextVar("corrections", default=None)


def corrected(kind: str, describe: Callable[[], str]) -> None:
    """Note one correction: counted in the build or load under way (described only if it is
    the first), logged on its own outside one."""
    counting = _under_way.get()
    if counting is None:
        corrections_log.warning("%s", describe())
        return
    counting.counts[kind] += 1
    if counting.first is None:
        counting.first = describe()


@contextmanager
def corrections_kept(counting: Corrections | None = None) -> Iterator[Corrections]:
    """Count the corrections made inside the block (in `counting`) without reporting them:
    work done on behalf of another process, which reports them (`add_corrections`)."""
    counting = Corrections() if counting is None else counting
    token = _under_way.set(counting)
    try:
        yield counting
    finally:
        _under_way.reset(token)


def add_corrections(counts: Mapping[str, int], first: str | None) -> None:
    """Count corrections made elsewhere (`corrections_kept`) in the build or load under way;
    outside one, log the first and how many."""
    counting = _under_way.get()
    if counting is None:
        if counts:
            total = sum(counts.values())
            corrections_log.warning("%d stored value(s) corrected; the first: %s", total, first)
        return
    counting.counts.update(counts)
    if counting.first is None:
        counting.first = first


@contextmanager
def counting_corrections(
    work: str, level: int = logging.WARNING, report: Callable[[int], None] | None = None
) -> Iterator[Corrections]:
    """Count the corrections made inside the block; at its end, one line at `level` sums them
    up (nothing when there were none), whether the block finished or failed, and `report` is
    given the total."""
    counting = Corrections()
    try:
        with corrections_kept(counting):
            yield counting
    finally:
        if counting.counts and report is not None:
            report(counting.total)
        if counting.counts and corrections_log.isEnabledFor(level):
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counting.counts.items()))
            corrections_log.log(
                level,
                "%s: %d stored value(s) corrected as SPEC §5 says (%s); the first: %s",
                work,
                counting.total,
                kinds,
                counting.first,
            )


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
