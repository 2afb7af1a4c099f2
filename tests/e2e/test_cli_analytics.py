"""The analytics sources from the command line: `load` of source files, `rollup`,
`build --chart-csv`, `demo --analytics`, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import create_engine, inspect

from artist_dashboard.dataset import write_dataset
from artist_dashboard.demo import DEMO_USER_ID, demo_analytics_dashboard, demo_sources
from artist_dashboard.sql import tables
from artist_dashboard.wire import CHART_CSV_HEADER, chart_csv

from ..helpers import demo_folder, drop_analytics_tables

NOW = "2026-06-08T00:00:00Z"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARTIST_DASHBOARD_DB"}
    return subprocess.run(
        [sys.executable, "-m", "artist_dashboard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = (
        f"sqlite:///{tmp_path / 'cli.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    empty(url)
    yield url
    empty(url)


def empty(url: str) -> None:
    """No table of the library's: the session's PostgreSQL database is shared."""
    engine = create_engine(url)
    tables.metadata.drop_all(engine)
    drop_analytics_tables(engine)
    engine.dispose()


def test_the_demo_with_analytics_through_the_database(database: str, tmp_path: Path) -> None:
    """`load` of the analytics demo, then `build` prints `demo --analytics` exactly, and
    `build --chart-csv` prints its chart."""
    loaded = run("load", "--data", str(demo_folder(tmp_path / "d")), "--db", database)
    assert loaded.returncode == 0
    built = run("build", "--user", DEMO_USER_ID, "--db", database, "--now", NOW)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout) == json.loads(run("demo", "--analytics").stdout)
    chart = run("build", "--user", DEMO_USER_ID, "--db", database, "--now", NOW, "--chart-csv")
    assert chart.stdout == chart_csv(demo_analytics_dashboard())
    rows = list(csv.reader(io.StringIO(chart.stdout)))
    assert ",".join(rows[0]) == CHART_CSV_HEADER
    assert len(rows) == 31


def test_a_folder_of_event_files_adds_events_and_nothing_else(
    database: str, tmp_path: Path
) -> None:
    """`load` creates a source's table only when the dataset has its file."""
    run("load", "--data", str(demo_folder(tmp_path / "core", sources=False)), "--db", database)
    only_views = tmp_path / "views"
    only_views.mkdir()
    (only_views / "post_view_events.jsonl").write_text(
        '{"_id": "v1", "postId": "665f00000000000000000100", "createdAt": "2026-06-07T10:00:00Z"}\n'
    )
    loaded = run("load", "--data", str(only_views), "--db", database)
    assert loaded.returncode == 0, loaded.stderr
    names = set(inspect(create_engine(database)).get_table_names())
    assert "post_view_events" in names
    assert not names & {
        "post_play_events",
        "post_engagement_events",
        "daily_artist_analytics",
        "earnings",
    }
    dashboard = json.loads(
        run("build", "--user", DEMO_USER_ID, "--db", database, "--now", NOW).stdout
    )
    assert dashboard["meta"]["chartAvailable"] is True
    assert dashboard["meta"]["audienceAnalyticsAvailable"] is True
    assert dashboard["meta"]["earningsAvailable"] is False
    assert dashboard["stats"]["postsCount"] == 12


def test_rollup_prints_what_it_did_and_refuses_bad_ranges(database: str, tmp_path: Path) -> None:
    """One JSON object (days, rows written, rows removed); --from after --to exits 2; without
    events it exits 1 and changes nothing."""
    folder = demo_folder(tmp_path / "d")
    run("load", "--data", str(folder), "--db", database)
    done = run("rollup", "--db", database, "--now", NOW)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["from"], report["to"], report["days"]) == ("2026-06-07", "2026-06-07", 1)
    assert report["rowsWritten"] == 1
    again = json.loads(run("rollup", "--db", database, "--now", NOW).stdout)
    assert (again["rowsWritten"], again["rowsRemoved"]) == (0, 0)
    backwards = run("rollup", "--db", database, "--from", "2026-06-05", "--to", "2026-06-01")
    assert backwards.returncode == 2
    assert "after the last day" in backwards.stderr
    assert run("rollup", "--db", database, "--to", "June 1st").returncode == 2


def test_rollup_without_events_refuses_in_one_line(tmp_path: Path) -> None:
    """No event table: exit 1, one line, the imported rows untouched."""
    folder = tmp_path / "d"
    users, posts, _events, daily, _earnings = demo_sources()
    write_dataset(folder, users, posts, daily=daily)
    db = f"sqlite:///{tmp_path / 'x.db'}"
    run("load", "--data", str(folder), "--db", db)
    refused = run("rollup", "--db", db, "--now", NOW)
    assert refused.returncode == 1
    assert refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert "needs an event source" in line
    engine = create_engine(db)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM daily_artist_analytics").scalar()
    assert count == len(daily)


def test_demo_prints_the_seed_and_demo_analytics_the_sources() -> None:
    """`demo` is unchanged (no chart, null comparison); `demo --analytics` fills them."""
    plain, rich = json.loads(run("demo").stdout), json.loads(run("demo", "--analytics").stdout)
    assert (plain["engagementChart"], plain["comparison"]) == ([], None)
    assert len(rich["engagementChart"]) == 30
    assert rich["comparison"]["days"] == 30
    assert rich["meta"]["earningsCurrency"] == "USD"
