"""Writing generated documents to a dataset folder, mixing plain and Extended JSON."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
