"""The dashboard's figures by hand-written SQL: the yardstick the library is measured against.

Written directly from SPEC §4 against the default tables, as a careful engineer would write them
for this one job (one statement for every count and sum, then the top and recent lists), without
the library's query builder. The runner checks they give the library's figures before timing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
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


# --- the floor: one statement for the whole dashboard ----------------------------------------

_COUNTERS = ("view_count", "play_count", "likes_count", "comments_count", "saves_count")
_ALL_COUNTERS = (*_COUNTERS, "shares_count")


def whole_statement(postgres: bool, analytics: bool = True) -> str:
    """Every figure of one dashboard — profile, sums, counts, windows, top 5, recent activity
    with the followers' profiles, 60 days of daily rows and of the days' events, the stored
    standing, non-followers and revenue — in one SELECT, lists as JSON arrays. Written for
    the default tables and this one job (live figures, the rollup's standings present);
    without `analytics`, the core figures only (the analytics columns are NULL)."""
    arr, agg = ("json_build_array", "json_agg") if postgres else ("json_array", "json_group_array")
    ident = ' COLLATE "C"' if postgres else ""
    live = f"p.is_deleted IS NOT {'TRUE' if postgres else '1'} AND p.created_at IS NOT NULL"
    term = (lambda c: f"({_c(c)})") if postgres else _indexed
    score = " + ".join(
        term(c) for c in ("likes_count", "comments_count", "saves_count", "shares_count")
    )
    sums = ", ".join(f"coalesce(sum({_c(c)}), 0)" for c in _ALL_COUNTERS)
    post_cols = (
        "p.id, p.post_type, p.content, p.thumbnail_url, p.display_url, "
        + ", ".join(f"p.{c}" for c in _ALL_COUNTERS)
        + ", p.created_at"
    )
    shared = (
        "SELECT DISTINCT c.post_id FROM post_collaborators c"
        " WHERE c.author_id = :u AND c.user_id <> :u"
    )
    probe = f"SELECT 1 FROM posts p WHERE p.id = s.post_id AND p.author_id = :u AND {live}"
    authored = (
        f"(SELECT count(*) FROM ({shared}) s CROSS JOIN LATERAL ({probe} LIMIT 1) alive)"
        if postgres
        else f"(SELECT count(*) FROM ({shared}) s WHERE EXISTS ({probe}))"
    )
    window = "followee_id = :u AND created_at > {a} AND created_at <= {b}"
    if postgres:
        each_day = "json_array_elements_text(CAST(:days AS json)) AS w(value)"
        wanted_day = "CAST(w.value AS DATE)"
    else:
        each_day = "json_each(:days) AS w"
        wanted_day = "w.value"
    first_open = (
        f"(SELECT min({wanted_day}) FROM {each_day} WHERE NOT EXISTS (SELECT 1 FROM"
        f" daily_artist_analytics d WHERE d.artist_id = :u AND d.date = {wanted_day}))"
    )
    engagement = ", ".join(
        f"coalesce(sum(CASE WHEN e.type = '{t}' THEN 1 ELSE 0 END), 0) AS {name}"
        for t, name in (("like", "l"), ("comment", "c"), ("save", "s"), ("share", "sh"))
    )
    rowless = (
        f"(SELECT {wanted_day} AS day FROM {each_day} WHERE NOT EXISTS (SELECT 1 FROM"
        f" daily_artist_analytics d WHERE d.artist_id = :u AND d.date = {wanted_day})) o"
    )
    if postgres:
        # Each day without a row, table by table: one range read of the index each.
        midnight = "CAST(o.day AS timestamp)"
        span = (
            f"e.created_at >= timezone('UTC', {midnight})"
            f" AND e.created_at < timezone('UTC', {midnight} + interval '1 day')"
        )
        where = f"WHERE e.author_id = :u AND {span} AND e.created_at <= :now"
        event_days = (
            "SELECT o.day AS day, v.n AS v, p.n AS pl, x.l, x.c, x.s, x.sh FROM "
            + rowless
            + f" CROSS JOIN LATERAL (SELECT count(*) AS n FROM post_view_events e {where}) v"
            f" CROSS JOIN LATERAL (SELECT count(*) AS n FROM post_play_events e {where}) p"
            f" CROSS JOIN LATERAL (SELECT {engagement} FROM post_engagement_events e {where}) x"
        )
    else:
        # The days without a row alone, one range read of the events' index each.
        span = (
            "e.created_at >= o.day || ' 00:00:00.000000'"
            " AND e.created_at < date(o.day, '+1 day') || ' 00:00:00.000000'"
        )
        where = f"WHERE e.author_id = :u AND {span} AND e.created_at <= :now"
        day = "substr(e.created_at, 1, 10)"
        event_days = (
            "SELECT day, sum(v) AS v, sum(pl) AS pl, sum(l) AS l, sum(c) AS c, sum(s) AS s,"
            f" sum(sh) AS sh FROM (SELECT {day} AS day, count(*) AS v, 0 AS pl, 0 AS l,"
            f" 0 AS c, 0 AS s, 0 AS sh FROM post_view_events e, {rowless} {where}"
            f" GROUP BY 1 UNION ALL SELECT {day}, 0, count(*), 0, 0, 0, 0"
            f" FROM post_play_events e, {rowless} {where}"
            f" GROUP BY 1 UNION ALL SELECT {day}, 0, 0, {engagement}"
            f" FROM post_engagement_events e, {rowless} {where} GROUP BY 1) AS t GROUP BY day"
        )
    viewers = " UNION ".join(
        f"SELECT e.user_id FROM {t} e WHERE e.author_id = :u AND e.created_at > :aud"
        " AND e.created_at <= :now AND e.user_id IS NOT NULL AND e.user_id <> ''"
        " AND e.user_id <> :u"
        for t in ("post_view_events", "post_play_events")
    )
    money = "CAST(sum(amount) AS TEXT)" if postgres else "group_concat(amount, ' ')"
    analytics_parts = f"""(SELECT {agg}({arr}(d.date, {", ".join(f"d.{c}" for c in _ALL_COUNTERS)}))
         FROM daily_artist_analytics d WHERE d.artist_id = :u AND d.date >= :d1 AND d.date <= :d2),
      {first_open},
      (SELECT {agg}({arr}(t.day, t.v, t.pl, t.l, t.c, t.s, t.sh)) FROM
         ({event_days}) t),
      (SELECT ranked FROM artist_standing_windows WHERE first_day = :s1 AND last_day = :s2),
      (SELECT {arr}(at_or_below, ranked) FROM artist_standings
         WHERE last_day = :s2 AND artist_id = :u),
      (SELECT count(*) FROM ({viewers}) v WHERE NOT EXISTS
         (SELECT 1 FROM follows f WHERE f.followee_id = :u AND f.follower_id = v.user_id)),
      (SELECT {agg}({arr}(t.currency, t.total, t.n)) FROM
         (SELECT currency, {money} AS total, count(*) AS n FROM earnings
          WHERE artist_id = :u AND created_at > :earn AND created_at <= :now
          GROUP BY currency) t)"""
    return f"""SELECT
      (SELECT {arr}(id, name, stage_name, bio, avatar, cover_image, is_verified)
         FROM users WHERE id = :u),
      (SELECT {arr}(count(*), {sums}) FROM posts p WHERE p.author_id = :u AND {live}),
      (SELECT count(*) FROM follows WHERE followee_id = :u),
      (SELECT count(*) FROM follows WHERE follower_id = :u),
      (SELECT count(*) FROM follows WHERE {window.format(a=":week", b=":now")}),
      (SELECT count(*) FROM follows WHERE {window.format(a=":month", b=":now")}),
      (SELECT count(*) FROM follows WHERE {window.format(a=":c30", b=":now")}),
      (SELECT count(*) FROM follows WHERE {window.format(a=":c60", b=":c30")}),
      {authored} + (SELECT count(*) FROM post_collaborators c JOIN posts p ON p.id = c.post_id
         WHERE c.user_id = :u AND p.author_id <> :u AND {live}),
      (SELECT {agg}({arr}(t.id, t.post_type, t.content, t.thumbnail_url, t.display_url,
         {", ".join(f"t.{c}" for c in _ALL_COUNTERS)}, t.created_at)) FROM
         (SELECT {post_cols} FROM posts p WHERE p.author_id = :u AND {live}
          ORDER BY {score} DESC, p.created_at DESC, p.id{ident} DESC LIMIT 5) t),
      (SELECT {agg}({arr}(t.id, t.post_type, t.content, t.thumbnail_url, t.created_at)) FROM
         (SELECT p.id, p.post_type, p.content, p.thumbnail_url, p.created_at FROM posts p
          WHERE p.author_id = :u AND {live} AND p.created_at > :month AND p.created_at <= :now
          ORDER BY p.created_at DESC, p.id{ident} DESC LIMIT 10) t),
      (SELECT {agg}({arr}(t.follower_id, t.created_at, x.name, x.stage_name, x.avatar,
         x.is_verified)) FROM
         (SELECT follower_id, created_at FROM follows WHERE {window.format(a=":month", b=":now")}
          ORDER BY created_at DESC, follower_id{ident} DESC LIMIT 10) t
         LEFT JOIN users x ON x.id = t.follower_id),
      {analytics_parts if analytics else "NULL, NULL, NULL, NULL, NULL, NULL, NULL"}"""


def whole_params(user_id: str, now: datetime, postgres: bool) -> dict[str, Any]:
    """The statement's parameters for a dashboard at `now` (the windows of SPEC §4 and §6)."""
    from artist_dashboard import rules

    when = (
        (lambda d: d)
        if postgres
        else (lambda d: d.replace(tzinfo=None).isoformat(" ", "microseconds"))
    )
    today = now.date()
    days = [today - timedelta(days=n) for n in range(59, -1, -1)]
    first, last = rules.standing_days(now)
    return {
        "u": user_id,
        "now": when(now),
        "week": when(now - timedelta(days=7)),
        "month": when(now - timedelta(days=30)),
        "c30": when(now - timedelta(days=30)),
        "c60": when(now - timedelta(days=60)),
        "aud": when(now - timedelta(days=30)),
        "earn": when(now - timedelta(days=30)),
        "days": json.dumps([d.isoformat() for d in days]),
        "d1": days[0] if postgres else days[0].isoformat(),
        "d2": days[-1] if postgres else days[-1].isoformat(),
        "days_end": when(datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)),
        "s1": first if postgres else first.isoformat(),
        "s2": last if postgres else last.isoformat(),
    }


def whole_floor(driver: Any, sql: str, params: dict[str, Any], postgres: bool) -> list[Any]:
    """Run the statement once on the driver's own connection (prepared on PostgreSQL, in
    autocommit) and take its row, JSON decoded: the least work that gives the dashboard."""
    if postgres:
        row = driver.execute(sql, params, prepare=True).fetchone()
        return list(row)
    row = driver.execute(sql, params).fetchone()
    return [json.loads(v) if isinstance(v, str) and v[:1] == "[" else v for v in row]


def driver_sql(sql: str, postgres: bool) -> str:
    """`:name` placeholders as the driver spells them (psycopg: ``%(name)s``)."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql) if postgres else sql


def whole_projection(row: list[Any], now: datetime) -> dict[str, Any]:
    """The figures of the statement's row, put together by the core's rules — only to check
    that the floor gives the library's dashboard (never timed)."""

    from artist_dashboard import DayFigures, Standing, rules

    (
        _profile,
        totals,
        followers,
        following,
        week,
        month,
        c30,
        c60,
        collaborations,
        top,
        recent_posts,
        recent_followers,
        daily,
        _first_open,
        events,
        ranked,
        standing,
        viewers,
        revenue,
    ) = row
    day = lambda v: datetime.fromisoformat(str(v)[:10]).date()  # noqa: E731
    rows = {
        day(r[0]): DayFigures(day(r[0]), *(max(int(x or 0), 0) for x in r[1:])) for r in daily or ()
    }
    counted = {day(r[0]): DayFigures(day(r[0]), *(int(x) for x in r[1:])) for r in events or ()}
    today = now.date()
    days = [today - timedelta(days=n) for n in range(59, -1, -1)]
    figures = [rules.day_figures(d, rows.get(d), counted.get(d)) for d in days]
    current, previous = figures[30:], figures[:30]
    activity = [(str(t), "newPost", i) for i, _, _, _, t in recent_posts or ()]
    activity += [(str(t), "newFollower", i) for i, t, *_ in recent_followers or ()]
    activity.sort(key=lambda e: e[2], reverse=True)
    activity.sort(key=lambda e: e[1])
    activity.sort(key=lambda e: datetime.fromisoformat(e[0]), reverse=True)
    earned = rules.earnings([rules_total(c, a, n) for c, a, n in revenue or ()])
    at_or_below, ranked_ = standing or (0, ranked or 0)
    return {
        "posts": totals[0],
        "sums": [int(v) for v in totals[1:]],
        "followers": followers,
        "following": following,
        "week": week,
        "month": month,
        "collaborations": collaborations,
        "top": [t[0] for t in top or ()],
        "activity": [(kind, ident_) for _, kind, ident_ in activity[:10]],
        "chart": [(f.view_count, f.play_count, f.likes_count) for f in current],
        "comparison": [
            sum(f.view_count for f in current),
            sum(f.view_count for f in previous),
            c30,
            c60,
        ],
        "score": rules.percentile(Standing(int(at_or_below), int(ranked_))),
        "non_followers": viewers,
        "earnings": earned.amount,
    }


def rules_total(currency: str, amount: Any, entries: int) -> Any:
    """A revenue row as the core's `CurrencyTotal` (SQLite's amounts summed exactly here)."""
    from decimal import Decimal

    from artist_dashboard import CurrencyTotal

    total = sum((Decimal(a) for a in str(amount).split()), Decimal(0))
    return CurrencyTotal(str(currency), total, int(entries))


def library_whole_projection(dashboard: Any) -> dict[str, Any]:
    """The same projection of a library dashboard."""
    found = library_figures(dashboard)
    c = dashboard.comparison
    return {
        **found,
        "chart": [(p.view_count, p.play_count, p.likes_count) for p in dashboard.engagement_chart],
        "comparison": [
            c.view_count.current,
            c.view_count.previous,
            c.new_followers.current,
            c.new_followers.previous,
        ],
        "score": dashboard.stats.score_percentage,
        "non_followers": dashboard.audience.non_followers,
        "earnings": dashboard.stats.earnings,
    }


def design_bound(row: list[Any], now: datetime) -> Any:
    """What the library's design must build from the floor's row whatever its rules cost: the
    records its ports hand the core (the profile, every post, follow, follower's profile, day
    and currency) and the response the core returns — with no rule applied (every rate 0, no
    window, no ranking, no check). Timed beside the floor, it is the least a build of this
    design can take: the library can only come closer to it, never under it."""
    from decimal import Decimal

    from artist_dashboard import (
        ArtistDashboard,
        ArtistDashboardActivityPost,
        ArtistDashboardActivityUser,
        ArtistDashboardAudience,
        ArtistDashboardChange,
        ArtistDashboardChartPoint,
        ArtistDashboardComparison,
        ArtistDashboardMeta,
        ArtistDashboardProfile,
        ArtistDashboardRecentActivity,
        ArtistDashboardStats,
        ArtistDashboardTopContent,
        CurrencyTotal,
        DayFigures,
        Follow,
        Post,
        User,
    )

    profile, totals, followers, following, week, month, c30, c60, collaborations = row[:9]
    top, recent_posts, recent_followers, daily, _open, events, _ranked, _standing = row[9:17]
    viewers, revenue = row[17:19]
    when = lambda v: datetime.fromisoformat(v).replace(tzinfo=UTC)  # noqa: E731
    day = lambda v: datetime.fromisoformat(v[:10]).date()  # noqa: E731
    zero = Decimal(0)
    user = User(*profile[:6], bool(profile[6]))
    who = user.id
    best = [Post(p[0], who, when(p[11]), (), *p[1:5], *p[5:11]) for p in top or ()]
    new = [Post(p[0], who, when(p[4]), (), p[1], p[2], p[3]) for p in recent_posts or ()]
    follows = [Follow(f[0], who, when(f[1])) for f in recent_followers or ()]
    people = [
        User(f[0], f[2] or "", f[3] or "", "", f[4] or "", "", bool(f[5]))
        for f in recent_followers or ()
    ]
    days = [DayFigures(day(d[0]), *d[1:]) for d in [*(daily or ()), *(events or ())]]
    # The chart has 30 days whatever rows there are (the library makes the missing ones).
    shown = [DayFigures(now.date())] * (30 - len(days[-30:])) + days[-30:]
    money = [CurrencyTotal(c, Decimal(str(a).split()[0]), int(n)) for c, a, n in revenue or ()]
    change = ArtistDashboardChange(c30, c60, None)
    activity = [
        ArtistDashboardRecentActivity(
            "newPost",
            p.created_at,
            post=ArtistDashboardActivityPost(p.id, p.post_type, p.content, p.thumbnail_url),
        )
        for p in new
    ] + [
        ArtistDashboardRecentActivity(
            "newFollower",
            f.created_at,
            user=ArtistDashboardActivityUser(f.follower_id, u.name, u.stage_name, u.avatar, False),
        )
        for f, u in zip(follows, people, strict=True)
    ]
    return ArtistDashboard(
        profile=ArtistDashboardProfile(
            who, user.cover_image, user.avatar, user.name, user.stage_name, user.bio, False
        ),
        stats=ArtistDashboardStats(
            followers,
            following,
            totals[0],
            collaborations,
            *totals[1:3],
            totals[2],
            *totals[3:7],
            zero,
            zero,
            zero,
        ),
        audience=ArtistDashboardAudience(followers, viewers, week, month),
        engagement_chart=tuple(
            ArtistDashboardChartPoint(
                d.day,
                d.view_count,
                d.play_count,
                d.likes_count,
                d.comments_count,
                d.saves_count,
                d.shares_count,
                zero,
            )
            for d in shown
        ),
        comparison=ArtistDashboardComparison(30, change, change, change, change),
        top_content=tuple(
            ArtistDashboardTopContent(
                p.id,
                p.post_type,
                p.thumbnail_url,
                p.display_url,
                p.content,
                p.view_count,
                p.play_count,
                p.likes_count,
                p.comments_count,
                p.saves_count,
                p.shares_count,
                0,
                p.created_at,
            )
            for p in best
        ),
        recent_activity=tuple(activity[:10]),
        meta=ArtistDashboardMeta(now, True, bool(money), True, None),
    )
