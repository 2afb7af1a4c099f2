"""The conformance kit on the SQL store, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import Engine, create_engine, delete
from sqlalchemy.pool import StaticPool

from artist_dashboard import Repos
from artist_dashboard.sql import (
    Sources,
    SqlStore,
    load_records_into,
    maintain,
    rollup,
    sources_metadata,
    stop_maintaining,
    tables,
)
from artist_dashboard.testing import NOW, AnalyticsConformance, Dataset, Loader, StoreConformance

from ..helpers import drop_analytics_tables


def loader(
    engine: Engine, *, maintained: bool = False, audience: bool = False, ranked: bool = False
) -> Loader:
    """Empties the tables and loads a dataset; with `maintained`, through the triggers of the
    maintained aggregates (installed once), so the kit checks the figures they keep. With
    `audience` too, they are installed again over each dataset's event tables, before its
    rows are written, so the kit checks the maintained audience as well. With `ranked`, the
    rollup stores every artist's standing for the kit's now (and rolls no day up), so that
    dashboards read it — and whole dashboards are read in one statement."""
    if maintained:
        maintain(engine)
    else:
        stop_maintaining(engine)

    def load(dataset: Dataset) -> Repos:
        tables.metadata.create_all(engine)
        if audience:
            stop_maintaining(engine)  # its triggers read the event tables dropped next
        drop_analytics_tables(engine)  # a source is configured only where the dataset has it
        with engine.begin() as conn:
            for table in reversed(tables.metadata.sorted_tables):
                conn.execute(delete(table))
        if audience:
            if dataset.events is not None:
                configured = [tables.source(n) for n in sorted(dataset.event_sources)]
                sources_metadata.create_all(engine, tables=configured)
            maintain(engine)
        sources = Sources(
            events=dataset.events,
            event_sources=dataset.event_sources if dataset.events is not None else None,
            daily=dataset.daily,
            earnings=dataset.earnings,
        )
        load_records_into(engine, dataset.users, dataset.posts, dataset.follows, sources=sources)
        if ranked and dataset.events is not None:
            rollup(engine, first=NOW.date(), last=NOW.date(), now=NOW)
        store = SqlStore(engine)
        assert store.maintained is maintained
        if audience and dataset.event_sources & {"post_view_events", "post_play_events"}:
            assert store.audience_maintained
        return store.repos

    return load


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
    stop_maintaining(engine)
    engine.dispose()


class TestSqliteStore(StoreConformance):
    """Every kit test on SqlStore over SQLite."""

    @pytest.fixture
    def load(self, sqlite_engine: Engine) -> Loader:
        return loader(sqlite_engine)


@pytest.mark.postgres
class TestPostgresStore(StoreConformance):
    """Every kit test on SqlStore over a real PostgreSQL server."""

    @pytest.fixture
    def load(self, postgres_engine: Engine) -> Loader:
        return loader(postgres_engine)


class TestSqliteMaintained(StoreConformance):
    """Every kit test on SqlStore over SQLite with the maintained aggregates installed."""

    @pytest.fixture
    def load(self, sqlite_engine: Engine) -> Loader:
        return loader(sqlite_engine, maintained=True)


@pytest.mark.postgres
class TestPostgresMaintained(StoreConformance):
    """Every kit test on SqlStore over PostgreSQL with the maintained aggregates installed."""

    @pytest.fixture
    def load(self, postgres_engine: Engine) -> Loader:
        return loader(postgres_engine, maintained=True)


class TestSqliteAnalytics(AnalyticsConformance):
    """Every analytics kit test on SqlStore over SQLite."""

    @pytest.fixture
    def load(self, sqlite_engine: Engine) -> Loader:
        return loader(sqlite_engine)


@pytest.mark.postgres
class TestPostgresAnalytics(AnalyticsConformance):
    """Every analytics kit test on SqlStore over a real PostgreSQL server."""

    @pytest.fixture
    def load(self, postgres_engine: Engine) -> Loader:
        return loader(postgres_engine)


class TestSqliteMaintainedAnalytics(AnalyticsConformance):
    """Every analytics kit test on SqlStore over SQLite, the audience kept by triggers."""

    @pytest.fixture
    def load(self, sqlite_engine: Engine) -> Loader:
        return loader(sqlite_engine, maintained=True, audience=True)


@pytest.mark.postgres
class TestPostgresMaintainedAnalytics(AnalyticsConformance):
    """Every analytics kit test on SqlStore over PostgreSQL, the audience kept by triggers."""

    @pytest.fixture
    def load(self, postgres_engine: Engine) -> Loader:
        return loader(postgres_engine, maintained=True, audience=True)


class TestSqliteRankedAnalytics(AnalyticsConformance):
    """Every analytics kit test on SQLite with the standings stored by the rollup, so that
    dashboards are read whole, in one statement."""

    @pytest.fixture
    def load(self, sqlite_engine: Engine) -> Loader:
        return loader(sqlite_engine, ranked=True)


@pytest.mark.postgres
class TestPostgresRankedAnalytics(AnalyticsConformance):
    """Every analytics kit test on PostgreSQL with the standings stored by the rollup."""

    @pytest.fixture
    def load(self, postgres_engine: Engine) -> Loader:
        return loader(postgres_engine, ranked=True)
