"""Loading into SQL never half-loads: bad lines are reported (and the rest loads), strict mode
writes nothing, a killed load leaves the tables and their indexes as they were, and any load
restores an index that is missing."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import Engine, create_engine, func, select, text

from artist_dashboard.dataset import DatasetError
from artist_dashboard.dataset import _folder as dataset_folder
from artist_dashboard.sql import SqlStore, load_dataset_into, tables
from artist_dashboard.sql._catalog import index_names

GOOD = {"authorId": "a", "createdAt": "2026-06-01T00:00:00Z", "likesCount": 1}
#: Lines that once aborted a load (or made a later write fail) instead of being reported.
BAD_POSTS = {
    "a counter of 2^63": {"_id": "p1", **GOOD, "likesCount": 2**63},
    "1e300 as a number": {"_id": "p2", **GOOD, "viewCount": 1e300},
    "1e300 as text": {"_id": "p3", **GOOD, "viewCount": "1e300"},
    "a huge $numberLong": {"_id": "p4", **GOOD, "playCount": {"$numberLong": "9" * 30}},
    "a time before year 1 in UTC": {"_id": "p5", **GOOD, "createdAt": "0001-01-01T00:00:00+01:00"},
    "a time after 9999 in UTC": {"_id": "p6", **GOOD, "createdAt": "9999-12-31T23:59:59-01:00"},
    "a lone surrogate": {"_id": "p7", **GOOD, "content": "\ud800"},
    "a NUL in text": {"_id": "p8", **GOOD, "content": "a\x00b"},
    "a NUL in an id": {"_id": "p9\x00", **GOOD},
    "an id over 2.7 KB": {"_id": "p" * 3000, **GOOD},
}
RAW_BAD_LINES = [
    "[" * 50_000 + "]" * 50_000,  # nested too deeply
    '{"_id": "p10", "authorId": "a", "createdAt": "2026-06-01T00:00:00Z", "likesCount": '
    + "9" * 5000
    + "}",
]


def write_folder(folder: Path, bad: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users.jsonl").write_text(json.dumps({"_id": "a", "name": "A"}) + "\n")
    lines = [json.dumps({"_id": "ok", **GOOD})]
    if bad:
        lines += [json.dumps(doc) for doc in BAD_POSTS.values()] + RAW_BAD_LINES
    lines.append(json.dumps({"_id": "ok2", **GOOD, "likesCount": 2**63 - 1}))
    (folder / "posts.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'load.db'}")
    else:
        made = create_engine(request.getfixturevalue("postgres_url"))
        tables.metadata.drop_all(made)
    yield made
    tables.metadata.drop_all(made)
    made.dispose()


@pytest.fixture(params=["in process", "read ahead"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Files read in the loading process, or each by a reading process of its own (what a
    file of `READ_AHEAD_BYTES` or more gets)."""
    if request.param == "read ahead":
        monkeypatch.setattr(dataset_folder, "READ_AHEAD_BYTES", 0)
    return str(request.param)


def test_every_bad_line_is_reported_and_the_rest_loads(
    engine: Engine, tmp_path: Path, reading: str
) -> None:
    """Each bad line becomes one report naming its file and line, without SQL; the good lines
    load, and a later write to the loaded rows works — whichever process reads the file."""
    problems: list[Any] = []
    report = load_dataset_into(engine, write_folder(tmp_path / "d"), on_problem=problems.append)
    assert report.posts == 2
    assert [p.line for p in problems] == list(range(2, 2 + len(BAD_POSTS) + len(RAW_BAD_LINES)))
    for problem in problems:
        shown = str(problem)
        assert shown.startswith(f"posts.jsonl:{problem.line}: ")
        assert "\n" not in shown
        assert "SELECT" not in shown
        assert "INSERT" not in shown
    with engine.begin() as conn:
        conn.execute(text("UPDATE posts SET likes_count = likes_count - 1 WHERE id = 'ok2'"))
    assert SqlStore(engine).post_totals("a").likes_count == 1 + 2**63 - 2


def test_strict_mode_writes_nothing_when_a_line_is_bad(engine: Engine, tmp_path: Path) -> None:
    """With strict=True the first bad line stops the load before anything is written — users
    and the good posts before it included."""
    with pytest.raises(DatasetError, match=r"posts\.jsonl:2: "):
        load_dataset_into(engine, write_folder(tmp_path / "d"), strict=True)
    with engine.connect() as conn:
        for table in (tables.users, tables.posts):
            if engine.dialect.has_table(conn, table.name):
                assert conn.execute(select(func.count()).select_from(table)).scalar() == 0


def _all_indexes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {n for t in tables.metadata.sorted_tables for n in index_names(conn, t)}


def _declared() -> set[str]:
    return {str(i.name) for t in tables.metadata.sorted_tables for i in t.indexes}


def test_a_load_restores_indexes_a_failure_left_missing(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Indexes dropped by an earlier crash: the store warns with the DDL; the next load
    builds them again."""
    load_dataset_into(engine, write_folder(tmp_path / "d", bad=False))
    with engine.begin() as conn:
        for table in tables.metadata.sorted_tables:
            for index in table.indexes:
                index.drop(conn)
    assert _all_indexes(engine) & _declared() == set()
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        SqlStore(engine)
    assert "7 index(es) the dashboard's queries need are missing" in caplog.text
    assert "CREATE INDEX ix_posts_author_totals" in caplog.text
    load_dataset_into(engine, write_folder(tmp_path / "d", bad=False))
    assert _declared() <= _all_indexes(engine)


def _big_dataset(folder: Path, posts: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "posts.jsonl").open("w") as out:
        for n in range(posts):
            out.write(json.dumps({"_id": f"p{n:07d}", **GOOD, "authorId": f"a{n % 97}"}) + "\n")
    return folder


def test_a_killed_load_leaves_nothing_half_done(engine: Engine, tmp_path: Path) -> None:
    """`artist-dashboard load` killed with SIGKILL part way: the tables are as before (empty,
    every index in place); running it again loads everything."""
    url = engine.url.render_as_string(hide_password=False)
    folder = _big_dataset(tmp_path / "big", 150_000)
    command = [sys.executable, "-m", "artist_dashboard", "load", "--data", str(folder)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    tables.metadata.create_all(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    process = subprocess.Popen([*command, "--db", url], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if _writing(engine):
                break
            time.sleep(0.05)
        assert process.poll() is None, "the load finished before it could be killed"
        time.sleep(0.3)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        assert process.stderr is not None
        process.stderr.close()
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.posts)).scalar() == 0
    assert _declared() <= _all_indexes(engine)
    rerun = subprocess.run([*command, "--db", url], env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["posts"] == 150_000
    assert _declared() <= _all_indexes(engine)


def _writing(engine: Engine) -> bool:
    """True once the load holds its write transaction (so the kill lands in the middle)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE state <> 'idle'"
                    " AND query ILIKE 'INSERT INTO posts%'"
                )
            ).scalar()
        return bool(found)
    journal = Path(str(engine.url.database) + "-journal")
    return journal.exists() and journal.stat().st_size > 0


def test_a_load_refreshes_the_statistics_of_what_it_wrote_only(tmp_path: Path) -> None:
    """An events-only load analyses the event tables it wrote, and leaves the other tables'
    statistics alone (analysing a large database whole cost a tenth of the load)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    load_dataset_into(engine, write_folder(tmp_path / "core", bad=False))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, name) VALUES ('b', 'B'), ('c', 'C')"))
    stats = "SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl = :t ORDER BY idx"
    with engine.connect() as conn:
        users_before = conn.execute(text(stats), {"t": "users"}).all()
    events = tmp_path / "events"
    events.mkdir()
    view = {"_id": "e1", "postId": "ok", "userId": "fan", "createdAt": "2026-06-01T00:00:00Z"}
    (events / "post_view_events.jsonl").write_text(json.dumps(view) + "\n")
    load_dataset_into(engine, events)
    with engine.connect() as conn:
        assert conn.execute(text(stats), {"t": "users"}).all() == users_before
        assert conn.execute(text(stats), {"t": "post_view_events"}).all() != []
    engine.dispose()


def test_events_carry_their_posts_author_through_later_loads(engine: Engine) -> None:
    """An event loaded before its post gets the post's author when the post arrives; a post
    loaded again under another author takes its events along; an event without a post has
    none — in batches smaller than the loads, so each batch's ids are matched."""
    from artist_dashboard import Post, PostEvent
    from artist_dashboard.sql import Sources, load_records_into, sources_metadata

    at = datetime(2026, 6, 1, tzinfo=UTC)
    events = [PostEvent(f"e{n}", f"p{n % 3}", at) for n in range(7)] + [PostEvent("x", "gone", at)]
    sources_metadata.drop_all(engine)
    try:
        load_records_into(engine, sources=Sources(events=events), batch_size=2)
        assert authors(engine) == {"x": None, **{f"e{n}": None for n in range(7)}}
        posts = [Post(id=f"p{n}", author_id=f"a{n}", created_at=at) for n in range(3)]
        load_records_into(engine, posts=posts, batch_size=2)
        assert authors(engine) == {"x": None, **{f"e{n}": f"a{n % 3}" for n in range(7)}}
        moved = [Post(id="p1", author_id="b", created_at=at)]
        load_records_into(engine, posts=moved, batch_size=2)
        expected = {f"e{n}": "b" if n % 3 == 1 else f"a{n % 3}" for n in range(7)}
        assert authors(engine) == {"x": None, **expected}
    finally:
        sources_metadata.drop_all(engine)


def test_every_collection_loads_the_same_whichever_process_reads_it(
    engine: Engine, tmp_path: Path, reading: str
) -> None:
    """The analytics demo as a dataset (every collection, times, days and amounts) gives the
    demo's dashboard after a load — whether the rows were made ready for the database by the
    loading process or by a reading process of their own."""
    from artist_dashboard import FixedClock, build_dashboard
    from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_analytics_dashboard

    from ..helpers import demo_folder, drop_analytics_tables

    folder = demo_folder(tmp_path / "demo")
    drop_analytics_tables(engine)
    try:
        load_dataset_into(engine, folder)
        built = build_dashboard(DEMO_USER_ID, SqlStore(engine).repos, FixedClock(DEMO_NOW))
        assert built == demo_analytics_dashboard()
    finally:
        drop_analytics_tables(engine)


def test_an_events_copy_joins_its_authors_from_a_covering_index(tmp_path: Path) -> None:
    """SQLite copies a batch of events with each post's author from an index that holds it,
    in file order without a sort (a scalar subquery read the key's index, then the post's
    wide row: a third of a big load's time)."""
    import sqlite3

    from sqlalchemy import event

    from artist_dashboard import PostEvent
    from artist_dashboard.sql import Sources, load_records_into

    engine = create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    load_dataset_into(engine, write_folder(tmp_path / "d", bad=False))
    statements: list[str] = []
    event.listen(engine, "connect", lambda raw, _: raw.set_trace_callback(statements.append))
    engine.dispose()  # new connections, traced
    at = datetime(2026, 6, 1, tzinfo=UTC)
    load_records_into(engine, sources=Sources(events=[PostEvent("e", "ok", at)]))
    assert authors(engine) == {"e": "a"}
    scratch = next(s for s in statements if s.startswith("CREATE TABLE temp."))
    copy = next(s for s in statements if s.startswith("INSERT INTO post_view_events"))
    with sqlite3.connect(tmp_path / "plan.db") as raw:
        raw.execute(scratch)
        plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {copy}")]
    assert any(step.startswith("SEARCH p USING COVERING INDEX") for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    engine.dispose()


def authors(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, author_id FROM post_view_events")).all()
    return dict(rows)


def test_a_sqlite_load_sorts_with_its_own_settings_and_puts_them_back(tmp_path: Path) -> None:
    """The index builds run with a bigger page cache and helper threads for sorting, and the
    pooled connection comes back with the settings it had."""
    from sqlalchemy import event

    from artist_dashboard.sql._load import SQLITE_LOAD_PRAGMAS

    engine = create_engine(f"sqlite:///{tmp_path / 'settings.db'}", pool_size=1, max_overflow=0)

    def settings() -> dict[str, Any]:
        with engine.connect() as conn:
            return {k: conn.exec_driver_sql(f"PRAGMA {k}").scalar() for k in SQLITE_LOAD_PRAGMAS}

    before = settings()
    assert before != SQLITE_LOAD_PRAGMAS
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    load_dataset_into(engine, write_folder(tmp_path / "data", bad=False))
    set_at = max(statements.index(f"PRAGMA {k} = {v}") for k, v in SQLITE_LOAD_PRAGMAS.items())
    put_back = statements.index(f"PRAGMA threads = {before['threads']}", set_at)
    assert any(s.startswith("CREATE INDEX") for s in statements[set_at:put_back])
    assert settings() == before
    engine.dispose()


def test_corrections_made_while_reading_count_in_the_loads_summary(
    tmp_path: Path, reading: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A value the records correct (a negative counter) is counted in the load's one summary
    line, whichever process read it."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "users.jsonl").write_text(json.dumps({"_id": "a"}) + "\n")
    (folder / "posts.jsonl").write_text(json.dumps({"_id": "p", **GOOD, "viewCount": -3}) + "\n")
    engine = create_engine(f"sqlite:///{tmp_path / 'corrected.db'}")
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        load_dataset_into(engine, folder)
    assert "1 stored value(s) corrected" in caplog.text
    assert "post p: view_count -3 counted as 0" in caplog.text
    engine.dispose()


def test_a_reading_process_that_dies_fails_the_load_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading process that ends without finishing its file is a DatasetError naming the
    file, and the load writes nothing."""
    monkeypatch.setattr(dataset_folder, "READ_AHEAD_BYTES", 0)
    monkeypatch.setattr(dataset_folder, "_READER", "import sys; sys.exit(3)")
    engine = create_engine(f"sqlite:///{tmp_path / 'died.db'}")
    with pytest.raises(DatasetError, match=r"users\.jsonl: the process reading it stopped"):
        load_dataset_into(engine, write_folder(tmp_path / "d", bad=False))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.users)).scalar() == 0
    engine.dispose()


def test_a_load_that_stops_early_stops_its_reading_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """When the load stops (here `on_problem` raises at the first bad line), the process
    reading the file is not left running, and says nothing on the way out."""
    monkeypatch.setattr(dataset_folder, "READ_AHEAD_BYTES", 0)
    started: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def recorded(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(dataset_folder.subprocess, "Popen", recorded)

    class Stop(Exception):
        pass

    def stop(problem: object) -> None:
        raise Stop(problem)

    engine = create_engine(f"sqlite:///{tmp_path / 'stopped.db'}")
    with pytest.raises(Stop):
        load_dataset_into(engine, write_folder(tmp_path / "d"), on_problem=stop)
    assert started
    assert all(reader.poll() is not None for reader in started)
    engine.dispose()
    assert capfd.readouterr().err == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_a_reading_process_gets_room_for_batches_in_its_pipe() -> None:
    """The pipe from a reading process holds `PIPE_BYTES` (Linux gives 64 KB, a fifth of a
    batch), so it writes ahead instead of waiting for each read."""
    import fcntl

    reader, writer = os.pipe()
    with os.fdopen(reader, "rb") as pipe, os.fdopen(writer, "wb"):
        dataset_folder._widen(pipe)
        assert fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ) >= dataset_folder.PIPE_BYTES


def test_without_a_python_to_start_big_files_are_read_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where `sys.executable` is not Python (an embedding program such as uWSGI), a big file
    is read by the load itself: nothing is started, and everything loads."""
    monkeypatch.setattr(dataset_folder, "READ_AHEAD_BYTES", 0)
    monkeypatch.setattr(dataset_folder.sys, "executable", "/usr/bin/uwsgi")

    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a process was started")

    monkeypatch.setattr(dataset_folder.subprocess, "Popen", refused)
    engine = create_engine(f"sqlite:///{tmp_path / 'embedded.db'}")
    report = load_dataset_into(engine, write_folder(tmp_path / "d", bad=False))
    assert (report.users, report.posts) == (1, 2)
    engine.dispose()
