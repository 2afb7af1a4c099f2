"""An independent computation of SPEC §6 (the analytics sources), from plain §7 documents.

Written from the spec's text without the library's rules, records or stores, so that agreement
with `build_dashboard` means something: slow, simple, and exact (Fractions).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

COUNTERS = ["viewCount", "playCount", "likesCount", "commentsCount", "savesCount", "sharesCount"]
KIND_COUNTER = {
    "view": "viewCount",
    "play": "playCount",
    "like": "likesCount",
    "comment": "commentsCount",
    "save": "savesCount",
    "share": "sharesCount",
}
EVENT_FILES = {"post_view_events": "view", "post_play_events": "play"}


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _count(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 0
    return max(int(value), 0)


def _half_up(value: Fraction) -> Decimal:
    """Half-up to 2 places, a tie away from zero; printed plain (as JSON carries it)."""
    magnitude = int(abs(value) * 100 + Fraction(1, 2))
    with localcontext() as exact:
        exact.prec = 400
        result = Decimal(-magnitude if value < 0 else magnitude) / 100
    return result.normalize() if result != 0 else Decimal(0)


def _rate(engagements: int, reach: int) -> Decimal:
    return _half_up(Fraction(engagements * 100, reach)) if reach > 0 else Decimal(0)


def expected_analytics(
    user_id: str,
    posts: list[dict[str, Any]],
    follows: list[dict[str, Any]],
    sources: dict[str, list[dict[str, Any]]],
    now: datetime,
) -> dict[str, Any]:
    """The §6 fields of `user_id`'s dashboard: chart, comparison, scorePercentage, earnings,
    nonFollowers and the meta flags and currency."""
    author = {p["_id"]: p["authorId"] for p in posts}
    events: dict[tuple[str, str], tuple[str, str, str | None, datetime]] = {}
    for collection in ("post_view_events", "post_play_events", "post_engagement_events"):
        for doc in sources.get(collection, []):
            kind = EVENT_FILES.get(collection) or doc["type"]
            who = doc.get("userId") or None
            events[(collection, doc["_id"])] = (kind, doc["postId"], who, _when(doc["createdAt"]))
    rows = {
        (d["artistId"], date.fromisoformat(d["date"])): d
        for d in sources.get("daily_artist_analytics", [])
    }
    today = now.date()

    def figures(artist: str, day: date, until: datetime) -> dict[str, int]:
        if (artist, day) in rows:
            return {c: _count(rows[(artist, day)].get(c)) for c in COUNTERS}
        found = dict.fromkeys(COUNTERS, 0)
        for kind, post, _who, at in events.values():
            if author.get(post) == artist and at.date() == day and at <= until:
                found[KIND_COUNTER[kind]] += 1
        return found

    def engaged(f: dict[str, int]) -> int:
        return f["likesCount"] + f["commentsCount"] + f["savesCount"] + f["sharesCount"]

    configured = set(sources)
    event_files = {"post_view_events", "post_play_events", "post_engagement_events"}
    has_events = bool(configured & event_files)
    chart: list[dict[str, Any]] = []
    comparison = None
    score = Decimal(0)
    if has_events or "daily_artist_analytics" in configured:
        days = [today - timedelta(days=29 - n) for n in range(30)]
        before = [today - timedelta(days=59 - n) for n in range(30)]
        current = [figures(user_id, d, now) for d in days]
        previous = [figures(user_id, d, now) for d in before]
        for day, f in zip(days, current, strict=True):
            rate = _rate(engaged(f), f["viewCount"] + f["playCount"])
            chart.append({"date": day.isoformat(), **f, "engagementRate": rate})

        def change(a: int, b: int) -> dict[str, Any]:
            percent = None if b == 0 else _half_up(Fraction((a - b) * 100, b))
            return {"current": a, "previous": b, "changePercent": percent}

        def summed(key: str, days_: list[dict[str, int]]) -> int:
            return sum(f[key] for f in days_)

        mine = [f for f in follows if f["followeeId"] == user_id]

        def followed(after: datetime, until: datetime) -> int:
            return sum(after < _when(f["createdAt"]) <= until for f in mine)

        month = timedelta(days=30)
        comparison = {
            "days": 30,
            "viewCount": change(summed("viewCount", current), summed("viewCount", previous)),
            "playCount": change(summed("playCount", current), summed("playCount", previous)),
            "engagements": change(sum(map(engaged, current)), sum(map(engaged, previous))),
            "newFollowers": change(
                followed(now - month, now), followed(now - 2 * month, now - month)
            ),
        }
        window = [today - timedelta(days=30 - n) for n in range(30)]
        artists = {a for a, _ in rows} | {
            author[p] for _, p, _, _ in events.values() if p in author
        }
        totals = {}
        for artist in artists:
            picked = [figures(artist, d, now) for d in window]
            reach = sum(f["viewCount"] + f["playCount"] for f in picked)
            if reach > 0:
                totals[artist] = Fraction(sum(map(engaged, picked)), reach)
        if user_id in totals:
            at_or_below = sum(rate <= totals[user_id] for rate in totals.values())
            score = _half_up(Fraction(100 * at_or_below, len(totals)))

    non_followers = 0
    audience = bool(configured & {"post_view_events", "post_play_events"})
    if audience:
        fans = {f["followerId"] for f in follows if f["followeeId"] == user_id}
        seen = {
            who
            for kind, post, who, at in events.values()
            if kind in ("view", "play")
            and author.get(post) == user_id
            and now - timedelta(days=30) < at <= now
            and who
        }
        non_followers = len(seen - fans - {user_id})

    earnings, currency, available = Decimal(0), None, False
    if "earnings" in configured:
        entries = {d["_id"]: d for d in sources["earnings"]}
        mine_e = [
            d
            for d in entries.values()
            if d["artistId"] == user_id and now - timedelta(days=30) < _when(d["createdAt"]) <= now
        ]
        codes = {str(d["currency"]).upper() for d in mine_e}
        available = len(codes) <= 1
        if len(codes) == 1:
            total = sum((Fraction(Decimal(str(d["amount"]))) for d in mine_e), Fraction(0))
            earnings, currency = _half_up(total), codes.pop()
    return {
        "engagementChart": chart,
        "comparison": comparison,
        "scorePercentage": score,
        "earnings": earnings,
        "nonFollowers": non_followers,
        "chartAvailable": has_events or "daily_artist_analytics" in configured,
        "audienceAnalyticsAvailable": audience,
        "earningsAvailable": available,
        "earningsCurrency": currency,
    }


def picked_from(dashboard: dict[str, Any]) -> dict[str, Any]:
    """The same fields of a dashboard read from its JSON (parse_float=Decimal)."""
    return {
        "engagementChart": dashboard["engagementChart"],
        "comparison": dashboard["comparison"],
        "scorePercentage": dashboard["stats"]["scorePercentage"],
        "earnings": dashboard["stats"]["earnings"],
        "nonFollowers": dashboard["audience"]["nonFollowers"],
        "chartAvailable": dashboard["meta"]["chartAvailable"],
        "audienceAnalyticsAvailable": dashboard["meta"]["audienceAnalyticsAvailable"],
        "earningsAvailable": dashboard["meta"]["earningsAvailable"],
        "earningsCurrency": dashboard["meta"]["earningsCurrency"],
    }
