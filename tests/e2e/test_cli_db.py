"""`load` and `build --db` as a user runs them, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import create_engine

from artist_dashboard.cli import main
from artist_dashboard.dataset import write_dataset
from artist_dashboard.demo import DEMO_USER_ID, demo_records
from artist_dashboard.sql import tables
from artist_dashboard.testing import Documents, documents
from artist_dashboard.wire import format_instant

from ..helpers import write_documents
from ..oracle import exact, expected_dashboard


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARTIST_DASHBOARD_DB"}
    return subprocess.run(
        [sys.executable, "-m", "artist_dashboard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database URL to load into: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'dashboard.sqlite3'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url)
    tables.metadata.drop_all(engine)
    engine.dispose()


def empty(url: str) -> None:
    engine = create_engine(url)
    tables.metadata.drop_all(engine)
    engine.dispose()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(docs=documents(max_posts=12, max_follows=20))
def test_load_then_build_prints_what_the_spec_computes(
    docs: Documents,
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A random dataset loaded with `load` and read with `build --db` gives, for each user, the
    independent computation of the spec."""
    empty(database)
    folder = write_documents(tmp_path_factory.mktemp("data"), docs, seed=5)
    assert main(["load", "--data", str(folder), "--db", database]) == 0
    capsys.readouterr()
    for user in docs.users[:3]:
        now = format_instant(docs.now)
        assert main(["build", "--user", user["_id"], "--db", database, "--now", now]) == 0
        printed = exact(capsys.readouterr().out)
        assert printed == expected_dashboard(
            user["_id"], docs.users, docs.posts, docs.follows, docs.now
        )


def test_loading_twice_changes_nothing(database: str, tmp_path: Path) -> None:
    """The second `load` of a dataset reports the same counts and the dashboard is unchanged."""
    folder = write_dataset(tmp_path / "demo", *demo_records())
    first = run("load", "--data", str(folder), "--db", database)
    dashboard = run(
        "build", "--user", DEMO_USER_ID, "--db", database, "--now", "2026-06-08T00:00:00Z"
    )
    second = run("load", "--data", str(folder), "--db", database)
    again = run("build", "--user", DEMO_USER_ID, "--db", database, "--now", "2026-06-08T00:00:00Z")
    assert first.returncode == second.returncode == 0
    assert json.loads(first.stdout) == json.loads(second.stdout)
    assert json.loads(first.stdout)["posts"] == 14
    assert dashboard.stdout == again.stdout
    assert json.loads(dashboard.stdout)["stats"]["engagementRate"] == 7.26


def test_default_database_is_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    """Without --db, `load` writes ./artist-dashboard.sqlite3 and `build` reads it."""
    folder = write_dataset(tmp_path / "demo", *demo_records())
    assert run("load", "--data", str(folder), cwd=tmp_path).returncode == 0
    assert (tmp_path / "artist-dashboard.sqlite3").is_file()
    built = run("build", "--user", DEMO_USER_ID, cwd=tmp_path)
    assert json.loads(built.stdout)["stats"]["followersCount"] == 120


def test_unreachable_database_is_named_without_its_password() -> None:
    """A server that refuses is one line naming the database, the password masked."""
    url = "postgresql+psycopg://dash:hunter2-secret@127.0.0.1:1/app"
    line = one_line_error(run("build", "--user", "u", "--db", url))
    assert "postgresql+psycopg://dash:***@127.0.0.1:1/app" in line
    assert "hunter2" not in line


def test_missing_or_damaged_sqlite_file_is_one_line(tmp_path: Path) -> None:
    """`build` never creates an empty database, and a file that is not one is named."""
    missing = one_line_error(run("build", "--user", "u", "--db", str(tmp_path / "none.db")))
    assert "no such file" in missing
    assert not (tmp_path / "none.db").exists()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database" * 100)
    assert "not a database" in one_line_error(run("build", "--user", "u", "--db", str(damaged)))


def test_strict_load_writes_nothing_when_a_line_is_bad(tmp_path: Path) -> None:
    """`load --strict` checks the whole dataset first: one bad line, no tables, exit 1."""
    folder = write_dataset(tmp_path / "demo", *demo_records())
    with (folder / "posts.jsonl").open("a") as posts:
        posts.write("{broken\n")
    db = tmp_path / "strict.db"
    line = one_line_error(run("load", "--data", str(folder), "--db", str(db), "--strict"))
    assert "posts.jsonl:15" in line
    assert not db.exists()


def test_aggregates_and_reconcile_from_the_command_line(tmp_path: Path) -> None:
    """`aggregates install` keeps the figures; `reconcile --check` reports drift, `reconcile`
    fixes it, and the dashboard reads the right figures again."""
    import sqlite3

    db = tmp_path / "kept.db"
    folder = write_dataset(tmp_path / "demo", *demo_records())
    assert run("load", "--data", str(folder), "--db", str(db)).returncode == 0
    assert "aggregates install" in one_line_error(run("reconcile", "--db", str(db)))
    assert json.loads(run("aggregates", "install", "--db", str(db)).stdout)["maintained"] is True
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE artist_stats SET followers = 7 WHERE user_id = ?", (DEMO_USER_ID,))
    assert json.loads(run("reconcile", "--db", str(db), "--check").stdout)["drifted"] == 1
    fixed = json.loads(run("reconcile", "--db", str(db)).stdout)
    assert (fixed["fixed"], fixed["users"]) == (1, [DEMO_USER_ID])
    assert json.loads(run("reconcile", "--db", str(db), "--check").stdout)["drifted"] == 0
    built = run("build", "--user", DEMO_USER_ID, "--db", str(db), "--now", "2026-06-08T00:00:00Z")
    assert json.loads(built.stdout)["stats"]["followersCount"] == 120
    assert json.loads(run("aggregates", "remove", "--db", str(db)).stdout)["maintained"] is False
