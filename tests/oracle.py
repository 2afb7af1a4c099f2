"""An independent computation of SPEC §4, straight from plain §7 documents.

Written from the spec's table without the library's rules or records, so that agreement with
`build_dashboard` means something. Slow and simple on purpose.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

COUNTERS = ["viewCount", "playCount", "likesCount", "commentsCount", "savesCount", "sharesCount"]


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _count(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 0
    return max(int(value), 0)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Decimal) -> Decimal:
    """The rate as JSON carries it, exactly (compare with JSON read with parse_float=Decimal)."""
    return value


def expected_dashboard(
    user_id: str,
    users: list[dict[str, Any]],
    posts: list[dict[str, Any]],
    follows: list[dict[str, Any]],
    now: datetime,
    top: int = 5,
    recent: int = 10,
) -> dict[str, Any]:
    me = next(u for u in users if u["_id"] == user_id)
    live = [p for p in posts if not p.get("isDeleted")]
    mine = [p for p in live if p["authorId"] == user_id]
    sums = {c: sum(_count(p.get(c)) for p in mine) for c in COUNTERS}

    def takes_part(p: dict[str, Any]) -> bool:
        others = set(p.get("collaboratorIds") or []) - {p["authorId"]}
        return bool(others) if p["authorId"] == user_id else user_id in others

    followers = [f for f in follows if f["followeeId"] == user_id]

    def new_since(days: int) -> int:
        return sum(now - timedelta(days=days) < _when(f["createdAt"]) <= now for f in followers)

    engagement = sums["likesCount"] + sums["commentsCount"] + sums["savesCount"]
    engagement += sums["sharesCount"]
    reach = sums["viewCount"] + sums["playCount"]
    rate = Decimal(0)
    if reach:
        with localcontext() as exact:
            exact.prec = 200  # far more digits than any sum here has: no rounding but ours
            rate = (Decimal(engagement) * 100 / Decimal(reach)).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )

    def score(p: dict[str, Any]) -> int:
        return sum(_count(p.get(c)) for c in COUNTERS[2:])

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for x, y in ((score(a), score(b)), (_when(a["createdAt"]), _when(b["createdAt"]))):
            if x != y:
                return -1 if x > y else 1
        return -1 if a["_id"] > b["_id"] else (1 if a["_id"] < b["_id"] else 0)

    ranked = sorted(mine, key=functools.cmp_to_key(compare))[:top]
    people = {u["_id"]: u for u in users}
    events: list[tuple[datetime, str, str, dict[str, Any]]] = []
    month_ago = now - timedelta(days=30)
    for p in mine:
        if month_ago < _when(p["createdAt"]) <= now:
            item = {
                "type": "newPost",
                "createdAt": _iso(_when(p["createdAt"])),
                "post": {
                    "_id": p["_id"],
                    "postType": _text(p.get("postType")),
                    "content": _text(p.get("content")),
                    "thumbnailUrl": _text(p.get("thumbnailUrl")),
                },
            }
            events.append((_when(p["createdAt"]), "newPost", p["_id"], item))
    for f in followers:
        if month_ago < _when(f["createdAt"]) <= now:
            who = people.get(f["followerId"], {})
            item = {
                "type": "newFollower",
                "createdAt": _iso(_when(f["createdAt"])),
                "user": {
                    "_id": f["followerId"],
                    "name": _text(who.get("name")),
                    "stageName": _text(who.get("stageName")),
                    "avatar": _text(who.get("avatar")),
                    "isVerified": who.get("isVerified") is True,
                },
            }
            events.append((_when(f["createdAt"]), "newFollower", f["followerId"], item))

    def event_order(a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
        if a[0] != b[0]:
            return -1 if a[0] > b[0] else 1
        if a[1] != b[1]:
            return -1 if a[1] < b[1] else 1
        return -1 if a[2] > b[2] else (1 if a[2] < b[2] else 0)

    activity = [e[3] for e in sorted(events, key=functools.cmp_to_key(event_order))[:recent]]
    return {
        "profile": {
            "_id": user_id,
            "coverImage": _text(me.get("coverImage")),
            "avatar": _text(me.get("avatar")),
            "name": _text(me.get("name")),
            "stageName": _text(me.get("stageName")),
            "bio": _text(me.get("bio")),
            "isVerified": me.get("isVerified") is True,
        },
        "stats": {
            "followersCount": len(followers),
            "followingCount": sum(f["followerId"] == user_id for f in follows),
            "postsCount": len(mine),
            "collaborationsCount": sum(takes_part(p) for p in live),
            **{c: sums[c] for c in COUNTERS[:2]},
            "listenCount": sums["playCount"],
            **{c: sums[c] for c in COUNTERS[2:]},
            "engagementRate": _number(rate),
            "scorePercentage": 0,
            "earnings": 0,
        },
        "audience": {
            "followers": len(followers),
            "nonFollowers": 0,
            "newFollowersThisWeek": new_since(7),
            "newFollowersThisMonth": new_since(30),
        },
        "engagementChart": [],
        "comparison": None,
        "topContent": [
            {
                "_id": p["_id"],
                "postType": _text(p.get("postType")),
                "thumbnailUrl": _text(p.get("thumbnailUrl")),
                "displayUrl": _text(p.get("displayUrl")),
                "content": _text(p.get("content")),
                **{c: _count(p.get(c)) for c in COUNTERS},
                "engagementScore": score(p),
                "createdAt": _iso(_when(p["createdAt"])),
            }
            for p in ranked
        ],
        "recentActivity": activity,
        "meta": {
            "generatedAt": _iso(now),
            "chartAvailable": False,
            "earningsAvailable": False,
            "audienceAnalyticsAvailable": False,
            "earningsCurrency": None,
        },
    }


def exact(text: str) -> Any:
    """JSON as the oracle writes numbers: every decimal read exactly."""
    import json

    return json.loads(text, parse_float=Decimal)
