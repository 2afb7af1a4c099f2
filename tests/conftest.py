"""Shared fixtures: real databases. SQLite is always there; PostgreSQL comes from
ARTIST_DASHBOARD_TEST_POSTGRES_URL (``.ci/run`` starts one). Outside CI a missing server skips
its tests with the reason; inside CI (CI set) it fails them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL_VARIABLE = "ARTIST_DASHBOARD_TEST_POSTGRES_URL"


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs PostgreSQL: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests SKIPPED: {reason} (see .ci/postgres.sh)")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The URL of a PostgreSQL server we may create databases on."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        _missing(f"{POSTGRES_URL_VARIABLE} is not set")
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url)  # type: ignore[arg-type]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        _missing(f"cannot connect to {engine.url.render_as_string()}: {exc.orig}")
    finally:
        engine.dispose()
    return url  # type: ignore[return-value]


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for this test session, dropped at the end."""
    from sqlalchemy import create_engine, make_url, text

    name = f"artist_dashboard_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
