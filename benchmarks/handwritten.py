"""The dashboard's figures by hand-written SQL: the yardstick the library is measured against.

Written directly from SPEC §4 against the default tables, as a careful engineer would write them
for this one job (one statement for every count and sum, then the top and recent lists), without
the library's query builder. The runner checks they give the library's figures before timing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text


def _c(column: str) -> str:
    return f"CASE WHEN p.{column} > 0 THEN p.{column} ELSE 0 END"


def _indexed(column: str) -> str:
    """The score term as SQLite's score index was built (guarded against text and fractions):
    ordering by the indexed expression is what lets SQLite read the top 5 from the index."""
    return (
        f"(CASE WHEN typeof(p.{column}) IN ('integer', 'real') AND p.{column} > 0 "
        f"THEN CAST(p.{column} AS INTEGER) ELSE 0 END)"
    )


def figures(conn: Connection, user_id: str, now: datetime) -> dict[str, Any]:
    postgres = conn.dialect.name == "postgresql"
    ident = 'COLLATE "C"' if postgres else ""
    LIVE = f"p.is_deleted IS NOT {'TRUE' if postgres else '1'} AND p.created_at IS NOT NULL"
    # Posts the artist wrote with someone else: from the artist's collaborator rows, probing
    # each post by key (LATERAL keeps PostgreSQL from scanning every post instead).
    shared = (
        "SELECT DISTINCT c.post_id FROM post_collaborators c"
        " WHERE c.author_id = :u AND c.user_id <> :u"
    )
    probe = f"SELECT 1 FROM posts p WHERE p.id = s.post_id AND p.author_id = :u AND {LIVE}"
    authored = (
        f"(SELECT count(*) FROM ({shared}) s CROSS JOIN LATERAL ({probe} LIMIT 1) alive)"
        if postgres
        else f"(SELECT count(*) FROM ({shared}) s WHERE EXISTS ({probe}))"
    )
    when = (lambda d: d) if postgres else (lambda d: d.replace(tzinfo=None))
    week, month = when(now - timedelta(days=7)), when(now - timedelta(days=30))
    until = when(now)
    engagement = ("likes_count", "comments_count", "saves_count", "shares_count")
    term = (lambda c: f"({_c(c)})") if postgres else _indexed
    score = " + ".join(term(c) for c in engagement)
    counters = (
        "view_count",
        "play_count",
        "likes_count",
        "comments_count",
        "saves_count",
        "shares_count",
    )
    totals = conn.execute(
        text(
            "SELECT count(*), "
            + ", ".join(f"coalesce(sum({_c(c)}), 0)" for c in counters)
            + f" FROM posts p WHERE p.author_id = :u AND {LIVE}"
        ),
        {"u": user_id},
    ).one()
    counts = conn.execute(
        text(
            f"""SELECT
              (SELECT count(*) FROM follows WHERE followee_id = :u),
              (SELECT count(*) FROM follows WHERE follower_id = :u),
              (SELECT count(*) FROM follows WHERE followee_id = :u
                 AND created_at > :week AND created_at <= :now),
              (SELECT count(*) FROM follows WHERE followee_id = :u
                 AND created_at > :month AND created_at <= :now),
              {authored}
              + (SELECT count(*) FROM post_collaborators c JOIN posts p ON p.id = c.post_id
                 WHERE c.user_id = :u AND p.author_id <> :u AND {LIVE})"""
        ),
        {"u": user_id, "week": week, "month": month, "now": until},
    ).one()
    top = (
        conn.execute(
            text(
                f"SELECT p.id FROM posts p WHERE p.author_id = :u AND {LIVE} "
                f"ORDER BY {score} DESC, p.created_at DESC, p.id {ident} DESC LIMIT 5"
            ),
            {"u": user_id},
        )
        .scalars()
        .all()
    )
    recent_posts = conn.execute(
        text(
            f"SELECT p.created_at, p.id FROM posts p WHERE p.author_id = :u AND {LIVE} "
            "AND p.created_at > :month AND p.created_at <= :now "
            f"ORDER BY p.created_at DESC, p.id {ident} DESC LIMIT 10"
        ),
        {"u": user_id, "month": month, "now": until},
    ).all()
    recent_follows = conn.execute(
        text(
            "SELECT created_at, follower_id FROM follows WHERE followee_id = :u "
            "AND created_at > :month AND created_at <= :now "
            f"ORDER BY created_at DESC, follower_id {ident} DESC LIMIT 10"
        ),
        {"u": user_id, "month": month, "now": until},
    ).all()
    events = [(str(t), "newPost", i) for t, i in recent_posts]
    events += [(str(t), "newFollower", i) for t, i in recent_follows]
    events.sort(key=lambda e: e[2], reverse=True)
    events.sort(key=lambda e: e[1])
    events.sort(key=lambda e: e[0], reverse=True)
    return {
        "posts": totals[0],
        "sums": [int(v) for v in totals[1:]],
        "followers": counts[0],
        "following": counts[1],
        "week": counts[2],
        "month": counts[3],
        "collaborations": counts[4],
        "top": list(top),
        "activity": [(kind, ident_) for _, kind, ident_ in events[:10]],
    }


def library_figures(dashboard: Any) -> dict[str, Any]:
    """The same projection of a library dashboard, for the equality check."""
    s = dashboard.stats
    return {
        "posts": s.posts_count,
        "sums": [
            s.view_count,
            s.play_count,
            s.likes_count,
            s.comments_count,
            s.saves_count,
            s.shares_count,
        ],
        "followers": s.followers_count,
        "following": s.following_count,
        "week": dashboard.audience.new_followers_this_week,
        "month": dashboard.audience.new_followers_this_month,
        "collaborations": s.collaborations_count,
        "top": [t.id for t in dashboard.top_content],
        "activity": [
            (a.type, a.post.id if a.post else a.user.id) for a in dashboard.recent_activity
        ],
    }
