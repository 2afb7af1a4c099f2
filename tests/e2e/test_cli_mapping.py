"""A team's own schema through the command line: a TOML mapping, checked up front."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import create_engine

from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_records
from artist_dashboard.sql import MappingError, SqlStore, load_records_into, read_mapping
from artist_dashboard.wire import format_instant

SECRET = {"ARTIST_DASHBOARD_JWT_SECRET": "s" * 32}
TEAM_MAPPING = """
[users]
name = "accounts"
columns = { id = "account_id", stage_name = "display_name", is_verified = "verified" }

[posts]
name = "media_items"
columns = { author_id = "owner_id", post_type = "kind", is_deleted = "removed" }

[post_collaborators]
name = "media_credits"
columns = { post_id = "media_id", user_id = "account_id", author_id = false }

[follows]
name = "subscriptions"
columns = { follower_id = "subscriber_id", followee_id = "artist_id", created_at = "since" }
"""


def run(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIST_DASHBOARD_")}
    env |= environ
    return subprocess.run(
        [sys.executable, "-m", "artist_dashboard", *args], capture_output=True, text=True, env=env
    )


@pytest.fixture
def team(tmp_path: Path) -> tuple[Path, str]:
    """A SQLite database in the team's own names, holding the demo, and its mapping file."""
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(TEAM_MAPPING)
    url = f"sqlite:///{tmp_path / 'team.db'}"
    load_records_into(create_engine(url), *demo_records(), read_mapping(mapping))
    return mapping, url


def test_build_and_check_run_on_a_mapped_schema(team: tuple[Path, str]) -> None:
    """With --mapping, `build` reads the team's tables (the demo's dashboard comes out) and
    `check` finds the database ready; without it, both say which library table is missing."""
    mapping, url = team
    now = format_instant(DEMO_NOW)
    built = run(
        "build", "--user", DEMO_USER_ID, "--db", url, "--mapping", str(mapping), "--now", now
    )
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["stats"]["followersCount"] == 120
    checked = run("check", "--db", url, "--mapping", str(mapping))
    assert (checked.returncode, checked.stdout) == (0, "")
    assert "ready" in checked.stderr
    unmapped = run("build", "--user", DEMO_USER_ID, "--db", url)
    assert unmapped.returncode == 1
    assert "table users does not exist" in unmapped.stderr
    assert len(unmapped.stderr.strip().splitlines()) == 1


def test_check_prints_the_ddl_of_a_missing_index(team: tuple[Path, str]) -> None:
    """A dropped index is listed as the CREATE INDEX statement that restores it, runnable as is."""
    mapping, url = team
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_media_items_author_rank")
    checked = run("check", "--db", url, "--mapping", str(mapping))
    assert checked.returncode == 1
    (statement,) = checked.stdout.splitlines()
    assert statement.startswith("CREATE INDEX ix_media_items_author_rank ON media_items")
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert run("check", "--db", url, "--mapping", str(mapping)).returncode == 0


def test_a_wrong_column_is_named_when_the_store_is_made(team: tuple[Path, str]) -> None:
    """A mapped column that is not there, or of a type the store cannot read, stops the store
    at once with the table, the column and the key — not a 503 at request time."""
    mapping, url = team
    engine = create_engine(url)
    mapping.write_text(TEAM_MAPPING.replace('created_at = "since"', 'created_at = "sinse"'))
    with pytest.raises(MappingError, match=r"subscriptions has no column sinse \(for created_at\)"):
        SqlStore(engine, read_mapping(mapping))
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE subscriptions ADD COLUMN sinse INTEGER")
    with pytest.raises(MappingError, match=r"subscriptions.sinse \(for created_at\) is integer"):
        SqlStore(engine, read_mapping(mapping))
    served = run(
        "serve", "--db", url, "--port", "1", ARTIST_DASHBOARD_MAPPING=str(mapping), **SECRET
    )
    assert served.returncode == 1
    assert "sinse" in served.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[post]\nname = 'x'", r"\[post\] is not a library table"),
        ("[posts]\ncolumns = { autor_id = 'owner' }", "did you mean 'author_id'"),
        ("[posts]\ncolumns = { content = false }", "'content' cannot be mapped to nothing"),
        ("[posts]\ntable = 'x'", "it takes columns, derived, extra_columns, name"),
        ("[posts]\nextra_columns = { kind = 'enum' }", "extra_columns.kind is 'enum'"),
        ("[posts]\nderived = { is_deleted = 3 }", "derived must be a table of key"),
        ("[posts\n", "not TOML"),
        ("[posts]\ncolumns = { content = 3 }", "columns.content must be a column name"),
    ],
)
def test_a_bad_mapping_file_is_one_line_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    """Every mistake in a mapping file is a `MappingError` naming the file and the key, and on
    the command line one line and exit 1, before any database is opened."""
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(text)
    with pytest.raises(MappingError, match=message):
        read_mapping(mapping)
    result = run("check", "--db", str(tmp_path / "absent.db"), "--mapping", str(mapping))
    assert result.returncode == 1
    assert str(mapping) in result.stderr
    assert "absent.db" not in result.stderr  # the mapping is read first
