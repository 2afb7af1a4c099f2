"""The maintained aggregates (the audience of view and play events included) under concurrent
writers on a real PostgreSQL (READ COMMITTED):
explicit two-connection interleavings in every order, racing writers, `reconcile` in the
middle of writes, and a bounded soak with writer processes while dashboards are read.

After each, the figures equal a fresh recount and a hand count of the rows, and no write
failed with a deadlock.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")
pytest.importorskip("psycopg", reason="the postgres extra is not installed")

from sqlalchemy import Connection, Engine, create_engine, make_url, text

from artist_dashboard import FixedClock, build_dashboard
from artist_dashboard.sql import SqlStore, maintain, reconcile, stop_maintaining, tables

from .test_aggregates import _reference, assert_audience_alone

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 6, 8, tzinfo=UTC)
T = "'2026-06-01 12:00:00+00'"
PEOPLE = ["a", "b", "c", "d", "x"]


@pytest.fixture(scope="module")
def engine(postgres_admin_url: str) -> Iterator[Engine]:
    """A database of its own, with the maintained aggregates installed."""
    name = f"concurrency_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name)
    made = create_engine(url, pool_size=12)
    tables.metadata.create_all(made)
    tables.sources_metadata.create_all(made, tables=[tables.view_events, tables.play_events])
    maintain(made)
    assert SqlStore(made).audience_maintained
    yield made
    stop_maintaining(made)
    made.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def reset(engine: Engine, statements: list[str]) -> None:
    """Empty the source tables (through the triggers) and write `statements`."""
    with engine.begin() as conn:
        for table in (
            "post_collaborators",
            "posts",
            "follows",
            "post_view_events",
            "post_play_events",
        ):
            conn.exec_driver_sql(f"DELETE FROM {table}")
        for statement in statements:
            conn.exec_driver_sql(statement)


def assert_exact(engine: Engine) -> None:
    """No drift, and every figure of every user equals a hand count of the rows — maintained,
    and live too (so the collaborators' copies of a post's author were kept in step)."""
    report = reconcile(engine, fix=False)
    assert report.drifted == 0, report
    reference = _reference(engine)
    for store in (SqlStore(engine, maintained=True), SqlStore(engine, maintained=False)):
        for method in ("post_totals", "count_collaborations", "count_followers", "count_following"):
            for user in PEOPLE:
                expected = getattr(reference, method)(user)
                assert getattr(store, method)(user) == expected, (store.maintained, method, user)
    # The events here carry no copy of their post's author: only the audience counts them.
    kept = SqlStore(engine, maintained=True)
    until = datetime.now(UTC)
    after = until - timedelta(days=30)
    for user in PEOPLE:
        expected = reference.count_non_followers(user, after, until)
        assert kept.count_non_followers(user, after, until) == expected, user
        assert_audience_alone(kept, user, after, until, expected)


def post(post_id: str, author: str, deleted: bool = False) -> str:
    return (
        "INSERT INTO posts (id, author_id, created_at, likes_count, view_count, is_deleted)"
        f" VALUES ('{post_id}', '{author}', {T}, 3, 10, {str(deleted).lower()})"
    )


def collaborator(post_id: str, user: str, author: str = "a") -> str:
    return (
        "INSERT INTO post_collaborators (post_id, user_id, author_id)"
        f" VALUES ('{post_id}', '{user}', '{author}')"
    )


def view(event_id: str, post_id: str, user: str, kind: str = "view", hours: int = 1) -> str:
    return (
        f"INSERT INTO post_{kind}_events (id, post_id, user_id, created_at)"
        f" VALUES ('{event_id}', '{post_id}', '{user}', now() - interval '{hours} hours')"
    )


def uncollaborate(post_id: str, user: str) -> str:
    return f"DELETE FROM post_collaborators WHERE post_id = '{post_id}' AND user_id = '{user}'"


#: name -> (rows before, the first transaction's write, the second's): the interleavings that
#: made the earlier triggers drift.
INTERLEAVINGS = {
    "two first collaborators of one post": (
        [post("p", "a")],
        [collaborator("p", "b")],
        [collaborator("p", "c")],
    ),
    "the last two collaborators removed together": (
        [post("p", "a"), collaborator("p", "b"), collaborator("p", "c")],
        [uncollaborate("p", "b")],
        [uncollaborate("p", "c")],
    ),
    "soft delete against a collaborator insert": (
        [post("p", "a")],
        ["UPDATE posts SET is_deleted = true WHERE id = 'p'"],
        [collaborator("p", "b")],
    ),
    "author change against the first collaborator": (
        [post("p", "a")],
        ["UPDATE posts SET author_id = 'c' WHERE id = 'p'"],
        [collaborator("p", "b")],
    ),
    "undelete against a collaborator insert": (
        [post("p", "a", deleted=True)],
        ["UPDATE posts SET is_deleted = false WHERE id = 'p'"],
        [collaborator("p", "b")],
    ),
    "hard delete against a collaborator delete": (
        [post("p", "a"), collaborator("p", "b"), collaborator("p", "c")],
        ["DELETE FROM posts WHERE id = 'p'"],
        [uncollaborate("p", "b")],
    ),
    "a post insert against its collaborator insert": (
        [],
        [post("p", "a")],
        [collaborator("p", "b")],
    ),
    "follows of two artists in opposite orders across statements": (
        [],
        [
            "INSERT INTO follows VALUES ('x', 'a', now())",
            "INSERT INTO follows VALUES ('x', 'b', now())",
        ],
        [
            "INSERT INTO follows VALUES ('d', 'b', now())",
            "INSERT INTO follows VALUES ('d', 'a', now())",
        ],
    ),
    "a view against the viewer following": (
        [post("p", "a")],
        [view("e1", "p", "x")],
        ["INSERT INTO follows VALUES ('x', 'a', now())"],
    ),
    "a view against the viewer unfollowing": (
        [post("p", "a"), "INSERT INTO follows VALUES ('x', 'a', now())"],
        [view("e1", "p", "x", kind="play")],
        ["DELETE FROM follows WHERE follower_id = 'x'"],
    ),
    "a view against its post changing hands": (
        [post("p", "a")],
        [view("e1", "p", "x")],
        ["UPDATE posts SET author_id = 'b' WHERE id = 'p'"],
    ),
    "a view against its post being written": (
        [],
        [view("e1", "p", "x")],
        [post("p", "a")],
    ),
    "a viewer's last view deleted against a new one": (
        [post("p", "a"), post("q", "a"), view("e1", "p", "x", hours=2)],
        ["DELETE FROM post_view_events WHERE id = 'e1'"],
        [view("e2", "q", "x", kind="play")],
    ),
    "views of two artists in opposite orders across statements": (
        [post("p", "a"), post("q", "b")],
        [view("e1", "p", "x"), view("e2", "q", "x")],
        [view("e3", "q", "x", kind="play"), view("e4", "p", "x", kind="play")],
    ),
    "posts of two artists in opposite orders across statements": (
        [post("p", "a"), post("q", "b")],
        [
            "UPDATE posts SET likes_count = likes_count + 1 WHERE id = 'p'",
            collaborator("q", "c", "b"),
        ],
        [
            "UPDATE posts SET likes_count = likes_count + 1 WHERE id = 'q'",
            collaborator("p", "d"),
        ],
    ),
}
#: Which transaction writes first (statement by statement, alternating) and which commits
#: first: every order.
ORDERS = list(itertools.product(("first", "second"), ("first", "second")))


def _open(engine: Engine) -> Connection:
    conn = engine.connect()
    # A write that would wait is a failure of the design here, reported at once, not a hang.
    conn.exec_driver_sql("SET lock_timeout = '3s'")
    conn.commit()
    return conn


@pytest.mark.parametrize(("writes", "commits"), ORDERS, ids=lambda o: f"{o}")
@pytest.mark.parametrize("name", list(INTERLEAVINGS))
def test_two_transactions_interleaved(engine: Engine, name: str, writes: str, commits: str) -> None:
    """Both transactions write before either commits; whatever the order of writes and of
    commits, nothing waits, nothing deadlocks, and the figures are exact."""
    before, first, second = INTERLEAVINGS[name]
    reset(engine, before)
    one, two = _open(engine), _open(engine)
    try:
        steps = [(one, s) for s in first], [(two, s) for s in second]
        ordered = steps if writes == "first" else steps[::-1]
        for pair in itertools.zip_longest(*ordered):
            for step in pair:
                if step is not None:
                    step[0].exec_driver_sql(step[1])
        for conn in (one, two) if commits == "first" else (two, one):
            conn.commit()
    finally:
        one.close()
        two.close()
    assert_exact(engine)


#: A writer holding a collaborator row of the post: it deletes the row, or keeps it.
HOLDERS = {
    "deletes the row": "DELETE FROM post_collaborators WHERE post_id = 'p' AND user_id = 'u'",
    "keeps the row": (
        "UPDATE post_collaborators SET user_id = 'u' WHERE post_id = 'p' AND user_id = 'u'"
    ),
}


@pytest.mark.parametrize("holder_first", [True, False], ids=["holder first", "handover first"])
@pytest.mark.parametrize("holder", list(HOLDERS))
def test_reconcile_leaves_a_held_collaborator_row_to_its_writer(
    engine: Engine, holder: str, holder_first: bool
) -> None:
    """A post changes hands while another writer holds one of its collaborator rows: the
    handover's commit cannot bring that row's copy of the author up to date (it would wait on
    the holder, who waits on it), so for a moment the committed copy is old. `reconcile` run
    then reports no drift — the holder's own commit settles the row — and after it the figures
    are exact."""
    reset(engine, [post("p", "a"), collaborator("p", "u")])
    held, handover = _open(engine), _open(engine)
    checking = create_engine(engine.url, connect_args={"options": "-c lock_timeout=3s"})
    try:
        writes = [
            (held, HOLDERS[holder]),
            (handover, "UPDATE posts SET author_id = 'b' WHERE id = 'p'"),
        ]
        for conn, statement in writes if holder_first else writes[::-1]:
            conn.exec_driver_sql(statement)
        handover.commit()
        assert reconcile(checking, fix=False).drifted == 0
        held.commit()
    finally:
        held.close()
        handover.close()
        checking.dispose()
    assert_exact(engine)


# --- racing writers ------------------------------------------------------------------------

POSTS = [f"p{n}" for n in range(8)]


def random_write(rng: random.Random, events: bool = True) -> str:
    """One single-statement write, as an application makes them (events too, or not)."""
    p, u, v = rng.choice(POSTS), rng.choice(PEOPLE), rng.choice(PEOPLE)
    kind, e = rng.choice(("view", "play")), f"e{rng.randrange(12)}"
    event_writes = [
        f"INSERT INTO post_{kind}_events (id, post_id, user_id, created_at) VALUES"
        f" ('{e}', '{p}', '{u}', now() - interval '{rng.randrange(60)} days')"
        " ON CONFLICT (id) DO UPDATE SET post_id = excluded.post_id,"
        " user_id = excluded.user_id, created_at = excluded.created_at",
        f"DELETE FROM post_{kind}_events WHERE id = '{e}'",
        f"UPDATE post_{kind}_events SET user_id = '{u}' WHERE post_id = '{p}'",
    ]
    return rng.choice(
        [
            *(event_writes if events else []),
            f"INSERT INTO posts (id, author_id, created_at, likes_count, view_count) VALUES"
            f" ('{p}', '{u}', now() - interval '{rng.randrange(40)} days', {rng.randrange(9)},"
            f" {rng.randrange(50)}) ON CONFLICT DO NOTHING",
            f"UPDATE posts SET likes_count = likes_count + 1 WHERE id = '{p}'",
            f"UPDATE posts SET is_deleted = NOT coalesce(is_deleted, false) WHERE id = '{p}'",
            f"UPDATE posts SET author_id = '{u}' WHERE id = '{p}'",
            f"DELETE FROM posts WHERE id = '{p}'",
            f"INSERT INTO post_collaborators SELECT id, '{u}', author_id FROM posts"
            f" WHERE id = '{p}' ON CONFLICT DO NOTHING",
            f"DELETE FROM post_collaborators WHERE post_id = '{p}' AND user_id = '{u}'",
            f"INSERT INTO follows VALUES ('{u}', '{v}',"
            f" now() - interval '{rng.randrange(40)} days') ON CONFLICT (follower_id, followee_id)"
            " DO UPDATE SET created_at = excluded.created_at",
            f"DELETE FROM follows WHERE follower_id = '{u}' AND followee_id = '{v}'",
        ]
    )


def write_many(url: str, seed: int, count: int, events: bool = True) -> dict[str, int]:
    """Run `count` random single-statement transactions; count how each ended."""
    from sqlalchemy.exc import DBAPIError

    rng = random.Random(seed)
    engine = create_engine(url, pool_size=1)
    outcome = {"committed": 0, "deadlocks": 0, "other errors": 0}
    try:
        with engine.connect() as conn:
            for _ in range(count):
                try:
                    conn.exec_driver_sql(random_write(rng, events))
                    conn.commit()
                    outcome["committed"] += 1
                except DBAPIError as exc:
                    conn.rollback()
                    kind = "deadlocks" if "deadlock" in str(exc.orig) else "other errors"
                    outcome[kind] += 1
    finally:
        engine.dispose()
    return outcome


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_racing_writers_never_deadlock_and_stay_exact(engine: Engine) -> None:
    """Four threads of random single-row writes on a few posts and artists, all at once."""
    reset(engine, [])
    results: list[dict[str, int]] = []
    threads = [
        threading.Thread(target=lambda s=s: results.append(write_many(_url(engine), s, 250)))
        for s in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["deadlocks"] for r in results) == 0, results
    assert sum(r["other errors"] for r in results) == 0, results
    assert sum(r["committed"] for r in results) == 1000
    assert_exact(engine)


def test_reconcile_in_the_middle_of_writes_loses_nothing(engine: Engine) -> None:
    """`reconcile` (fixing) runs over and over while three writers go on: afterwards a check
    finds no drift (writers' commits wait for it; nothing committed meanwhile is lost)."""
    reset(engine, [])
    results: list[dict[str, int]] = []
    threads = [
        threading.Thread(target=lambda s=s: results.append(write_many(_url(engine), s, 300)))
        for s in range(10, 13)
    ]
    for thread in threads:
        thread.start()
    fixed = [reconcile(engine, fix=True)]
    while any(thread.is_alive() for thread in threads):
        fixed.append(reconcile(engine, fix=True))
    for thread in threads:
        thread.join()
    assert len(fixed) > 1
    assert all(r.drifted == 0 for r in fixed), fixed
    assert sum(r["committed"] for r in results) == 900
    assert sum(r["deadlocks"] + r["other errors"] for r in results) == 0, results
    assert_exact(engine)


# --- the soak: writer processes, dashboards read meanwhile --------------------------------


def read_dashboards(url: str, stop: Any, counts: Any) -> None:
    """Build every artist's dashboard in a loop until told to stop; count builds and errors."""
    engine = create_engine(url, pool_size=1)
    store = SqlStore(engine)
    clock = FixedClock(NOW)
    try:
        while not stop.is_set():
            for user in PEOPLE:
                try:
                    build_dashboard(user, store.repos, clock)
                    counts[0] += 1
                except Exception:
                    counts[1] += 1
    finally:
        engine.dispose()


def test_soak_writer_processes_with_dashboards_read(engine: Engine) -> None:
    """Three writer processes and one reader process at once; then no drift, no deadlock, no
    failed read, and every dashboard equals the one the in-memory reference builds from the
    rows."""
    from artist_dashboard import User
    from artist_dashboard.memory import InMemoryStore

    reset(engine, [])
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM users")
        for user in PEOPLE:
            conn.exec_driver_sql(f"INSERT INTO users (id, name) VALUES ('{user}', '{user}')")
    context = multiprocessing.get_context("spawn")
    stop, counts = context.Event(), context.Array("i", [0, 0])
    reader = context.Process(target=read_dashboards, args=(_url(engine), stop, counts))
    reader.start()
    with context.Pool(3) as pool:
        # No events: the chart reads their copies of the post's author, which `load` keeps
        # and these writers do not.
        results = pool.starmap(write_many, [(_url(engine), s, 3000, False) for s in range(20, 23)])
    written = sum(r["committed"] for r in results)
    stop.set()
    reader.join(60)
    assert sum(r["deadlocks"] + r["other errors"] for r in results) == 0, results
    assert counts[1] == 0, f"{counts[1]} dashboard reads failed"
    assert counts[0] > 0
    assert written == 9000
    assert_exact(engine)
    reference = _reference(engine)
    people = InMemoryStore(
        [User(id=u, name=u) for u in PEOPLE],
        reference.posts,
        reference.follows,
        events=[],
        event_sources={"post_view_events", "post_play_events"},
    )
    clock = FixedClock(datetime.now(UTC) + timedelta(minutes=1))
    for user in PEOPLE:
        got = build_dashboard(user, SqlStore(engine).repos, clock)
        assert got == build_dashboard(user, people.repos, clock), user
