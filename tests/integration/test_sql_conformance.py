"""The conformance kit on the SQL store, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import Engine, create_engine, delete
from sqlalchemy.pool import StaticPool

from artist_dashboard import Repos
from artist_dashboard.sql import SqlStore, load_records_into, maintain, stop_maintaining, tables
from artist_dashboard.testing import Dataset, Loader, StoreConformance


def loader(engine: Engine, *, maintained: bool = False) -> Loader:
    """Empties the tables and loads a dataset; with `maintained`, through the triggers of the
    maintained aggregates (installed once), so the kit checks the figures they keep."""
    if maintained:
        maintain(engine)
    else:
        stop_maintaining(engine)

    def load(dataset: Dataset) -> Repos:
        tables.metadata.create_all(engine)
        with engine.begin() as conn:
            for table in reversed(tables.metadata.sorted_tables):
                conn.execute(delete(table))
        load_records_into(engine, dataset.users, dataset.posts, dataset.follows)
        store = SqlStore(engine)
        assert store.maintained is maintained
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
