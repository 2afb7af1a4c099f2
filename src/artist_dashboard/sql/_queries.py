"""SQL adapter: every statement of the store's ports, built once per store.

Building a SQLAlchemy statement costs far more than running a small indexed query, so the
request path only executes these. `SqlStore` runs them one port call at a time; the
whole-dashboard read (`_whole`) puts the same statements together into one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    Table,
    bindparam,
    exists,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from .._core import rules
from .._core.records import Post, User
from .._core.values import as_utc
from ._schema import (
    DashboardTables,
    UtcDateTime,
    clamped,
    clamped_fast,
    id_order,
    live_post,
    score_expression,
)

__all__ = ["HALF", "Queries", "maintained_window", "post_of", "user_of"]

#: 2^32: a counter (< 2^63) split into halves whose sums cannot pass 2^63 on SQLite.
HALF = 2**32


class Queries:
    """Every statement of the store, built once per store with bound parameters.

    Building a SQLAlchemy statement costs far more than running a small indexed query, so the
    request path only executes these.
    """

    def __init__(
        self, tables: DashboardTables, postgres: bool, maintained: tuple[Table, Table] | None
    ) -> None:
        #: Maintained figures by user, and new follows by whole UTC days between two days, when
        #: the aggregates are installed (see `maintain`).
        self.stats: Select[Any] | None = None
        self.whole_days: Select[Any] | None = None
        if maintained is not None:
            stats, days = maintained
            self.stats = select(stats).where(stats.c.user_id == bindparam("user"))
            self.whole_days = select(func.coalesce(func.sum(days.c.follows), 0)).where(
                days.c.user_id == bindparam("user"),
                days.c.day > bindparam("first_day"),
                days.c.day < bindparam("last_day"),
            )
        # The tables as the store reads them (through their mapping's query, if any).
        users, posts, collaborators, follows = (
            tables.readable(role) for role in ("users", "posts", "post_collaborators", "follows")
        )
        u, p, c, f = users.c, posts.c, collaborators.c, follows.c

        def by_id(column: ColumnElement[Any]) -> ColumnElement[Any]:
            return id_order(column, postgres)

        live = live_post(p.is_deleted, p.created_at)
        # Bound in the id columns' own type (text, uuid or integer), so their indexes serve.
        user: BindParameter[str] = bindparam("user", type_=u.id.type)
        limit: BindParameter[int] = bindparam("limit", type_=BigInteger)
        after, until = bindparam("after", type_=UtcDateTime), bindparam("until", type_=UtcDateTime)

        self.user = select(users).where(u.id == user)
        self.users = select(users).where(u.id.in_(bindparam("ids", expanding=True)))
        self.totals: dict[type[FunctionElement[int]], Select[*tuple[Any, ...]]] = {
            clamp: select(
                func.count().label("posts"),
                *(func.coalesce(func.sum(clamp(p[k])), 0).label(k) for k in rules.POST_COUNTERS),
            ).where(p.author_id == user, live)
            for clamp in (clamped_fast, clamped)
        }
        # SQLite's sum() fails past 2^63: the same sums in two halves that cannot overflow.
        self.split_totals = select(
            func.count().label("posts"),
            *(
                func.coalesce(func.sum(part), 0).label(f"{k}_{half}")
                for k in rules.POST_COUNTERS
                for half, part in (
                    ("high", clamped(p[k]) // HALF),
                    ("low", clamped(p[k]) % HALF),
                )
            ),
        ).where(p.author_id == user, live)
        # Two disjoint halves, each driven by an index: posts the user wrote with someone else,
        # and posts of others that list the user.
        if "author_id" in c:
            # From the author's own collaborator rows to their posts: work in proportion to the
            # artist's collaborations, not to all of the artist's posts.
            shared = (
                select(c.post_id)
                .where(c.author_id == user, c.user_id != user)
                .distinct()
                .subquery("shared")
            )
            alive = select(literal(1)).where(p.id == shared.c.post_id, p.author_id == user, live)
            if postgres:
                # LATERAL … LIMIT 1 keeps PostgreSQL probing posts by key for each shared post;
                # left to itself it hash-joins against a scan of every post.
                probe = alive.limit(1).lateral("alive")
                source = shared.join(probe, true())
                authored = select(func.count()).select_from(source).scalar_subquery()
            else:
                authored = (
                    select(func.count())
                    .select_from(shared)
                    .where(exists(alive.select_from(posts)))
                    .scalar_subquery()
                )
        else:
            authored = (
                select(func.count())
                .select_from(posts)
                .where(p.author_id == user, live)
                .where(exists().where(c.post_id == p.id, c.user_id != user))
                .scalar_subquery()
            )
        listed = (
            select(func.count())
            .select_from(collaborators.join(posts, p.id == c.post_id))
            .where(c.user_id == user, p.author_id != user, live)
            .scalar_subquery()
        )
        self.collaborations = select(authored + listed)
        self.top_posts = (
            select(posts)
            .where(p.author_id == user, live)
            .order_by(score_expression(posts).desc(), p.created_at.desc(), by_id(p.id).desc())
            .limit(limit)
        )
        self.recent_posts = (
            select(posts)
            .where(p.author_id == user, live, p.created_at > after, p.created_at <= until)
            .order_by(p.created_at.desc(), by_id(p.id).desc())
            .limit(limit)
        )
        # A follow without a time is still a follow; it only falls in no window.
        count = select(func.count()).select_from(follows)
        self.followers = count.where(f.followee_id == user)
        self.following = count.where(f.follower_id == user)
        self.new_followers = count.where(
            f.followee_id == user, f.created_at > after, f.created_at <= until
        )
        self.recent_followers = (
            select(f.follower_id, f.followee_id, f.created_at)
            .where(f.followee_id == user, f.created_at > after, f.created_at <= until)
            .order_by(f.created_at.desc(), by_id(f.follower_id).desc())
            .limit(limit)
        )


def user_of(row: Mapping[Any, Any]) -> User:
    """A user row (by the library's column keys) as its record."""
    return User(
        id=str(row["id"]),
        name=row["name"],
        stage_name=row["stage_name"],
        bio=row["bio"],
        avatar=row["avatar"],
        cover_image=row["cover_image"],
        is_verified=False if row["is_verified"] is None else bool(row["is_verified"]),
    )


def post_of(row: Mapping[Any, Any], created_at: datetime | None = None) -> Post:
    """A post row as its record, without its collaborators (no figure reads them)."""
    return Post(
        id=str(row["id"]),
        author_id=str(row["author_id"]),
        created_at=row["created_at"] if created_at is None else created_at,
        post_type=row["post_type"],
        content=row["content"],
        thumbnail_url=row["thumbnail_url"],
        display_url=row["display_url"],
        is_deleted=bool(row["is_deleted"]),
        **{k: row[k] for k in rules.POST_COUNTERS},
    )


_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)


def maintained_window(
    after: datetime, until: datetime
) -> tuple[tuple[datetime, datetime], tuple[str, str], tuple[datetime, datetime]]:
    """A new-followers window as the maintained figures count it: its first partial day from
    the follows, its whole UTC days from the day counts (exclusive bounds, ``YYYY-MM-DD``),
    its last partial day from the follows. A window within one day is all head."""
    first = as_utc(after).replace(hour=0, minute=0, second=0, microsecond=0)
    last = as_utc(until).replace(hour=0, minute=0, second=0, microsecond=0)
    if until <= after or first == last:
        head, middle, tail = (after, until), (first, first), (until, until)
    else:
        head, middle, tail = (after, first + _DAY - _TICK), (first, last), (last - _TICK, until)
    days = (middle[0].strftime("%Y-%m-%d"), middle[1].strftime("%Y-%m-%d"))
    return head, days, tail
