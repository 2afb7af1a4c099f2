"""The conformance kit on the SQL store, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import Engine, create_engine, delete
from sqlalchemy.pool import StaticPool

from artist_dashboard import Repos
from artist_dashboard.sql import SqlStore, load_records_into, tables
from artist_dashboard.testing import Dataset, Loader, StoreConformance


def loader(engine: Engine) -> Loader:
    def load(dataset: Dataset) -> Repos:
        tables.metadata.create_all(engine)
        with engine.begin() as conn:
            for table in reversed(tables.metadata.sorted_tables):
                conn.execute(delete(table))
        load_records_into(engine, dataset.users, dataset.posts, dataset.follows)
        return SqlStore(engine).repos

    return load


@pytest.fixture(scope="module")
def sqlite_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
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
