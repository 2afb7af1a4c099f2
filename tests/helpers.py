"""Writing generated documents (or the demo) to a dataset folder, mixing plain and Extended
JSON."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from artist_dashboard.dataset import write_dataset
from artist_dashboard.demo import demo_records, demo_sources
from artist_dashboard.testing import Documents
from artist_dashboard.wire import parse_instant

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_OID = re.compile(r"^[0-9a-f]{24}$")
_COUNTERS = {"viewCount", "playCount", "likesCount", "commentsCount", "savesCount", "sharesCount"}


def _extended(key: str, value: Any, rng: random.Random) -> Any:
    """`value` as mongoexport might write it, or as it is."""
    if rng.random() < 0.5:
        return value
    if key in ("_id", "authorId", "followerId", "followeeId") and _OID.match(str(value)):
        return {"$oid": value}
    if key == "collaboratorIds":
        return [{"$oid": v} if _OID.match(v) else v for v in value]
    if key == "createdAt":
        millis = (parse_instant(value) - EPOCH) // timedelta(milliseconds=1)
        return rng.choice([{"$date": value}, {"$date": {"$numberLong": str(millis)}}])
    if key in _COUNTERS and isinstance(value, int) and not isinstance(value, bool):
        if -(2**31) <= value < 2**31 and rng.random() < 0.5:
            return {"$numberInt": str(value)}
        return {"$numberLong": str(value)}
    return value


def write_documents(folder: Path, docs: Documents, seed: int = 0) -> Path:
    """Write `docs` as users/posts/follows.jsonl, about half the values in Extended JSON."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("users", docs.users), ("posts", docs.posts), ("follows", docs.follows)):
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                doc = {k: _extended(k, v, rng) for k, v in row.items()}
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return folder


def demo_folder(folder: Path, *, sources: bool = True) -> Path:
    """The analytics demo as a dataset folder: every collection, or the core three only."""
    users, posts, events, daily, earnings = demo_sources()
    follows = demo_records()[2]
    if not sources:
        return write_dataset(folder, users, posts, follows)
    return write_dataset(
        folder, users, posts, follows, events=events, daily=daily, earnings=earnings
    )


def drop_analytics_tables(engine: Any) -> None:
    """Drop the analytics sources' tables and the rollup's standings (a source is configured
    only where its table exists)."""
    from artist_dashboard.sql import sources_metadata

    sources_metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS artist_standings")
        conn.exec_driver_sql("DROP TABLE IF EXISTS artist_standing_windows")


def _extended_source(key: str, value: Any, rng: random.Random) -> Any:
    """A source document's value as mongoexport might write it, or as it is."""
    if rng.random() < 0.5 or value is None:
        return value
    if key == "createdAt":
        return {"$date": value}
    if key == "amount":
        return {"$numberDecimal": str(value)}
    if key == "date":
        return {"$date": f"{value}T00:00:00.000Z"}
    if key in _COUNTERS and isinstance(value, int) and not isinstance(value, bool):
        return {"$numberLong": str(value)}
    return value


def write_all(folder: Path, docs: Documents, seed: int = 0) -> Path:
    """`write_documents`, and each configured analytics source's file (an empty one too)."""
    write_documents(folder, docs, seed)
    rng = random.Random(seed + 1)
    for name, rows in docs.sources.items():
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                doc = {k: _extended_source(k, v, rng) for k, v in row.items()}
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return folder


@contextmanager
def fresh_postgres_database(admin_url: str, name: str, **engine_options: Any) -> Iterator[Any]:
    """An `Engine` on a PostgreSQL database made for one test, dropped after it."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    made = create_engine(admin_url.rsplit("/", 1)[0] + f"/{name}", **engine_options)
    try:
        yield made
    finally:
        made.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def assert_no_table_scanned(engine: Any, build: Callable[[], object]) -> None:
    """Run `build`, then EXPLAIN every SELECT it sent with sequential scans switched off: a
    plan that still scans a table has no index that can serve it (PostgreSQL)."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        build()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert statements
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
            assert "Seq Scan" not in plan, f"{statement}\n{plan}"
