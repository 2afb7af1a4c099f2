"""Core: the clocks, real (`SystemClock`) and fixed (`FixedClock`) for tests and scripts."""

from __future__ import annotations

from datetime import UTC, datetime

from attrs import field, frozen

from .values import as_utc


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@frozen
class FixedClock:
    """Always the same instant: for tests, scripts and reproducible builds."""

    instant: datetime = field(converter=as_utc)

    def now(self) -> datetime:
        return self.instant
