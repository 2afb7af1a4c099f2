"""The optional whole-dashboard read in the core: the ask names every read a build makes, the
rules apply to the reads exactly as to the ports, and anything short of an answer falls back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artist_dashboard import (
    DashboardAsk,
    DashboardOptions,
    DashboardReads,
    FixedClock,
    Repos,
    StorageError,
    UserNotFound,
    build_dashboard,
)
from artist_dashboard.testing import NOW, Dataset, analytics_datasets, datasets, reads_from_ports
from artist_dashboard.testing._kit import _OPTIONS

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOWS = st.sampled_from([NOW, NOW + timedelta(days=1, hours=3), NOW - timedelta(days=20)])


class WholeOf:
    """A whole-dashboard read answered by the ports (optionally altered on the way out)."""

    def __init__(
        self, repos: Repos, alter: Callable[[DashboardReads], DashboardReads | None] = lambda r: r
    ) -> None:
        self.repos, self.alter, self.asked = repos, alter, 0

    def read_dashboard(self, ask: DashboardAsk) -> DashboardReads | None:
        self.asked += 1
        return self.alter(reads_from_ports(self.repos, ask))


def whole_only(repos: Repos, whole: Any) -> Repos:
    """Repos whose ports cannot be asked in a snapshot: only the whole read can answer."""

    def forbidden() -> Any:
        raise AssertionError("the ports were asked")

    return attrs.evolve(repos, whole=whole, open_snapshot=forbidden)


def outcome(repos: Repos, user_id: str, now: datetime, options: DashboardOptions) -> object:
    try:
        return build_dashboard(user_id, repos, FixedClock(now), options)
    except (UserNotFound, StorageError) as exc:
        return type(exc)


def agree_for(dataset: Dataset, repos: Repos, now: datetime, options: DashboardOptions) -> None:
    whole = whole_only(repos, WholeOf(repos))
    for user_id in [*dataset.user_ids, "no-such-user"]:
        assert outcome(whole, user_id, now, options) == outcome(repos, user_id, now, options)


@SETTINGS
@given(dataset=datasets(), now=NOWS, options=_OPTIONS)
def test_a_build_from_whole_reads_is_the_build_from_the_ports(
    dataset: Dataset, now: datetime, options: DashboardOptions
) -> None:
    """Whatever the data, the time and the options, the ask covers every read the build makes
    (no snapshot is opened) and the dashboard is the one the ports give."""
    agree_for(dataset, dataset.reference().repos, now, options)


@SETTINGS
@given(dataset=analytics_datasets(), now=NOWS, options=_OPTIONS)
def test_with_the_analytics_sources_too(
    dataset: Dataset, now: datetime, options: DashboardOptions
) -> None:
    """The chart, comparison, standing, audience and earnings come out the same."""
    agree_for(dataset, dataset.reference().repos, now, options)


def demo_repos() -> Repos:
    from artist_dashboard.demo import demo_analytics_store

    return demo_analytics_store().repos


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda r: None, id="declined"),
        pytest.param(lambda r: attrs.evolve(r, new_followers={}), id="a window missing"),
        pytest.param(lambda r: attrs.evolve(r, events_from=None), id="no events read"),
        pytest.param(lambda r: attrs.evolve(r, standing=None), id="no standing"),
    ],
)
def test_reads_short_of_an_answer_fall_back_to_the_ports(
    alter: Callable[[DashboardReads], DashboardReads | None], caplog: pytest.LogCaptureFixture
) -> None:
    """A declined read, or reads missing one answer, give the ports' dashboard, never a
    dashboard with a hole."""
    from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID

    repos = demo_repos()
    whole = WholeOf(repos, alter)
    clock = FixedClock(DEMO_NOW)
    with caplog.at_level(logging.DEBUG, logger="artist_dashboard"):
        got = build_dashboard(DEMO_USER_ID, attrs.evolve(repos, whole=whole), clock)
    assert whole.asked == 1
    assert got == build_dashboard(DEMO_USER_ID, repos, clock)


def test_a_failing_whole_read_is_a_storage_error() -> None:
    """The whole read failing is the store failing: StorageError, chained, nothing partial."""
    from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID

    def broken(reads: DashboardReads) -> DashboardReads:
        raise OSError("the connection dropped")

    repos = demo_repos()
    with pytest.raises(StorageError) as caught:
        build_dashboard(
            DEMO_USER_ID, attrs.evolve(repos, whole=WholeOf(repos, broken)), FixedClock(DEMO_NOW)
        )
    assert isinstance(caught.value.__cause__, OSError)
