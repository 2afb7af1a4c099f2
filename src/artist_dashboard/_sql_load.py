"""Load a dataset folder into SQL tables: create what is missing, upsert in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from attrs import frozen
from sqlalchemy import Column, Connection, Engine, Executable, Table, delete
from sqlalchemy.dialects import postgresql, sqlite

from ._errors import DashboardError
from ._records import Follow, Post, User
from .dataset import (
    OnProblem,
    Problem,
    check_dataset,
    iter_follows,
    iter_posts,
    iter_users,
)
from .sql import DashboardTables, tables

_T = TypeVar("_T")


@frozen
class LoadReport:
    """How many records were written, and the lines that were not."""

    users: int
    posts: int
    follows: int
    problems: tuple[Problem, ...]


def _batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _upsert(table: Table, keys: list[str], dialect: str) -> Executable:
    """INSERT … ON CONFLICT (keys) DO UPDATE every other column: a rerun changes nothing."""
    if dialect == "sqlite":
        lite = sqlite.insert(table)
        return lite.on_conflict_do_update(
            index_elements=keys, set_={c.key: lite.excluded[c.key] for c in _rest(table, keys)}
        )
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=keys, set_={c.key: pg.excluded[c.key] for c in _rest(table, keys)}
        )
    raise DashboardError(f"loading supports SQLite and PostgreSQL, not {dialect}")


def _rest(table: Table, keys: list[str]) -> list[Column[Any]]:
    return [c for c in table.c if c.key not in keys]


def _user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "stage_name": user.stage_name,
        "bio": user.bio,
        "avatar": user.avatar,
        "cover_image": user.cover_image,
        "is_verified": user.is_verified,
    }


def _post_row(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "author_id": post.author_id,
        "post_type": post.post_type,
        "content": post.content,
        "thumbnail_url": post.thumbnail_url,
        "display_url": post.display_url,
        "view_count": post.view_count,
        "play_count": post.play_count,
        "likes_count": post.likes_count,
        "comments_count": post.comments_count,
        "saves_count": post.saves_count,
        "shares_count": post.shares_count,
        "created_at": post.created_at,
        "is_deleted": post.is_deleted,
    }


def _follow_row(follow: Follow) -> dict[str, Any]:
    return {
        "follower_id": follow.follower_id,
        "followee_id": follow.followee_id,
        "created_at": follow.created_at,
    }


def load_dataset_into(
    engine: Engine,
    folder: str | Path,
    target: DashboardTables = tables,
    *,
    batch_size: int = 5000,
    strict: bool = False,
    on_problem: OnProblem | None = None,
) -> LoadReport:
    """Create the tables that are missing and upsert the dataset, one transaction per batch.

    Loading the same dataset twice changes nothing; a record whose id exists is replaced (a
    post's collaborators with it). Bad lines go to `on_problem` and are skipped; with
    ``strict=True`` the whole dataset is read and checked first, and nothing is written if any
    line is bad.
    """
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        problems.append(problem)
        if on_problem is not None:
            on_problem(problem)

    if strict:
        check_dataset(folder)
    counts = load_records_into(
        engine,
        iter_users(folder, report),
        iter_posts(folder, report),
        iter_follows(folder, report),
        target,
        batch_size=batch_size,
    )
    return LoadReport(*counts, problems=tuple(problems))


def load_records_into(
    engine: Engine,
    users: Iterable[User] = (),
    posts: Iterable[Post] = (),
    follows: Iterable[Follow] = (),
    target: DashboardTables = tables,
    *,
    batch_size: int = 5000,
) -> tuple[int, int, int]:
    """Create missing tables and upsert records; returns how many users, posts, follows."""
    dialect = engine.dialect.name
    target.metadata.create_all(engine, checkfirst=True)
    written_users = _write(engine, target.users, ["id"], dialect, users, _user_row, batch_size)
    written_posts = _write_posts(engine, target, dialect, posts, batch_size)
    keys = ["follower_id", "followee_id"]
    written_follows = _write(
        engine, target.follows, keys, dialect, follows, _follow_row, batch_size
    )
    _analyze(engine, target)
    return written_users, written_posts, written_follows


def _analyze(engine: Engine, target: DashboardTables) -> None:
    """Fresh planner statistics, and on PostgreSQL the visibility map for index-only scans."""
    names = [
        engine.dialect.identifier_preparer.format_table(t)
        for t in (target.users, target.posts, target.post_collaborators, target.follows)
    ]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(names)}")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


@contextmanager
def _batch(engine: Engine) -> Iterator[Connection]:
    """One transaction per batch; on PostgreSQL in UTC, so that a naive ``timestamp`` column
    of an existing schema receives UTC whatever the server's time zone."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        yield conn


def _write(
    engine: Engine,
    table: Table,
    keys: list[str],
    dialect: str,
    records: Iterable[_T],
    to_row: Callable[[_T], dict[str, Any]],
    batch_size: int,
) -> int:
    statement = _upsert(table, keys, dialect)
    written = 0
    for batch in _batches(records, batch_size):
        with _batch(engine) as conn:
            conn.execute(statement, [to_row(r) for r in batch])
        written += len(batch)
    return written


def _write_posts(
    engine: Engine, target: DashboardTables, dialect: str, posts: Iterable[Post], batch_size: int
) -> int:
    statement = _upsert(target.posts, ["id"], dialect)
    collaborators = target.post_collaborators
    written = 0
    for batch in _batches(posts, batch_size):
        pairs = [{"post_id": p.id, "user_id": u} for p in batch for u in p.collaborator_ids]
        with _batch(engine) as conn:
            conn.execute(statement, [_post_row(p) for p in batch])
            conn.execute(
                delete(collaborators).where(collaborators.c.post_id.in_([p.id for p in batch]))
            )
            if pairs:
                conn.execute(collaborators.insert(), pairs)
        written += len(batch)
    return written
