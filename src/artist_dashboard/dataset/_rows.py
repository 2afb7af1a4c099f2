"""Embedded default: dataset documents straight to storage rows, for bulk loads.

The records (`Post`, `Follow`…) define what a document means: they check, coerce, correct and
log. For the common document — plain JSON, or the simple Extended JSON ``mongoexport`` writes,
whose values need no correction — building a record only to take it apart again costs most of
a load, so `fast_row` builds the row directly, with checks cheap enough to run on every line,
and answers `FALLBACK` for anything else (a missing or null field, non-ASCII text, a negative
counter, an unusual time…), which then takes the record path. `record_row` is that path's row.
A property test proves that whenever `fast_row` answers, it gives `record_row`'s row.

Rows are tuples in the order of `COLUMNS`, named by the library's column keys. Times are
aware UTC datetimes (record path) or canonical ISO-8601 text ``YYYY-MM-DDTHH:MM:SS.mmmZ``
(fast path); a database sink accepts both. `RowValues` turns a row into what a statement
binds, in the reading process of a big file (it pickles).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

from .._core.records import DailyAnalytics, Earning, Follow, Post, PostEvent, User
from .._core.rules import POST_COUNTERS
from .._core.values import MAX_COUNTER

Row = tuple[Any, ...]


class _Fallback:
    """The answer of a fast builder that leaves the document to the record path."""

    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Any = _Fallback()


class _NotFast(Exception):
    """Raised inside a fast builder: this document takes the record path."""


_NOT_FAST = _NotFast()

#: Each collection's row, by the library's column keys; posts also give their collaborators.
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "name", "stage_name", "bio", "avatar", "cover_image", "is_verified"),
    "posts": (
        "id",
        "author_id",
        "post_type",
        "content",
        "thumbnail_url",
        "display_url",
        *POST_COUNTERS,
        "created_at",
        "is_deleted",
    ),
    "follows": ("follower_id", "followee_id", "created_at"),
    "post_view_events": ("id", "post_id", "user_id", "created_at"),
    "post_play_events": ("id", "post_id", "user_id", "created_at"),
    "post_engagement_events": ("id", "post_id", "user_id", "created_at", "type"),
    "daily_artist_analytics": ("artist_id", "date", *POST_COUNTERS),
    "earnings": ("id", "artist_id", "amount", "currency", "created_at"),
}
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENGAGEMENTS = frozenset(("like", "comment", "save", "share"))
_NUMBER_WRAPPERS = ("$numberLong", "$numberInt")


def _id(value: Any) -> Any:
    """An id that is certainly storable as it is: ASCII, no NUL, at most 128 characters."""
    if type(value) is dict:
        value = value.get("$oid") if len(value) == 1 else None
    if type(value) is str and 0 < len(value) <= 128 and value.isascii() and "\x00" not in value:
        return value
    raise _NOT_FAST


def _text(value: Any) -> Any:
    """Text that needs no correction: a str of ASCII without NUL (absent is "")."""
    if type(value) is str and value.isascii() and "\x00" not in value:
        return value
    raise _NOT_FAST


def _count(value: Any) -> Any:
    if type(value) is dict and len(value) == 1:
        ((key, inner),) = value.items()
        if key in _NUMBER_WRAPPERS and type(inner) is str and inner.isdigit() and len(inner) < 19:
            value = int(inner)
    if type(value) is int and 0 <= value <= MAX_COUNTER:
        return value
    raise _NOT_FAST


def _time(value: Any) -> Any:
    """A canonical UTC instant (JavaScript's toISOString), checked to be a real date."""
    if type(value) is dict and len(value) == 1 and "$date" in value:
        value = value["$date"]
        if type(value) is dict and len(value) == 1:
            millis = value.get("$numberLong")
            if type(millis) is str and millis.isdigit() and len(millis) <= 13:
                moment = _EPOCH + timedelta(milliseconds=int(millis))
                return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(millis) % 1000:03d}Z"
            raise _NOT_FAST
    if type(value) is str and _CANONICAL.match(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise _NOT_FAST from None
        return value
    raise _NOT_FAST


def _flag(value: Any) -> Any:
    if value is None:
        return False
    if type(value) is bool:
        return value
    raise _NOT_FAST


def _user(doc: dict[str, Any]) -> Row | Any:
    g = doc.get
    return (
        _id(g("_id")),
        _text(g("name", "")),
        _text(g("stageName", "")),
        _text(g("bio", "")),
        _text(g("avatar", "")),
        _text(g("coverImage", "")),
        _flag(g("isVerified")),
    )


def _post(doc: dict[str, Any]) -> Row | Any:
    g = doc.get
    collaborators = g("collaboratorIds")
    if collaborators is None:
        listed: tuple[str, ...] = ()
    elif type(collaborators) is list:
        listed = tuple(sorted({_id(c) for c in collaborators}))
    else:
        raise _NOT_FAST
    return (
        _id(g("_id")),
        _id(g("authorId")),
        _text(g("postType", "")),
        _text(g("content", "")),
        _text(g("thumbnailUrl", "")),
        _text(g("displayUrl", "")),
        _count(g("viewCount", 0)),
        _count(g("playCount", 0)),
        _count(g("likesCount", 0)),
        _count(g("commentsCount", 0)),
        _count(g("savesCount", 0)),
        _count(g("sharesCount", 0)),
        _time(g("createdAt")),
        _flag(g("isDeleted")),
        listed,
    )


def _follow(doc: dict[str, Any]) -> Row | Any:
    g = doc.get
    return (_id(g("followerId")), _id(g("followeeId")), _time(g("createdAt")))


def _viewer(value: Any) -> Any:
    return None if value is None or value == "" else _id(value)


def _event(doc: dict[str, Any]) -> Row | Any:
    g = doc.get
    return (_id(g("_id")), _id(g("postId")), _viewer(g("userId")), _time(g("createdAt")))


def _engagement(doc: dict[str, Any]) -> Row | Any:
    kind = doc.get("type")
    if kind not in _ENGAGEMENTS:
        raise _NOT_FAST
    return (*_event(doc), kind)


def _daily(doc: dict[str, Any]) -> Row | Any:
    g = doc.get
    day = g("date")
    if type(day) is not str or len(day) != 10:
        raise _NOT_FAST
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise _NOT_FAST from None
    return (
        _id(g("artistId")),
        parsed,
        _count(g("viewCount", 0)),
        _count(g("playCount", 0)),
        _count(g("likesCount", 0)),
        _count(g("commentsCount", 0)),
        _count(g("savesCount", 0)),
        _count(g("sharesCount", 0)),
    )


_FAST: dict[str, Callable[[dict[str, Any]], Row | Any]] = {
    "users": _user,
    "posts": _post,
    "follows": _follow,
    "post_view_events": _event,
    "post_play_events": _event,
    "post_engagement_events": _engagement,
    "daily_artist_analytics": _daily,
}


def fast_row(name: str, doc: dict[str, Any]) -> Row | Any:
    """The row of a document that needs no correction, or `FALLBACK`. (Earnings always take
    the record path: few, and their amounts are read from their text.)"""
    build = _FAST.get(name)
    if build is None:
        return FALLBACK
    try:
        return build(doc)
    except (_NotFast, TypeError):  # TypeError: an unhashable collaborator id, say
        return FALLBACK


def record_row(name: str, record: Any) -> Row:
    """The row of a record (the path every document can take)."""
    if isinstance(record, User):
        return (
            record.id,
            record.name,
            record.stage_name,
            record.bio,
            record.avatar,
            record.cover_image,
            record.is_verified,
        )
    if isinstance(record, Post):
        return (
            record.id,
            record.author_id,
            record.post_type,
            record.content,
            record.thumbnail_url,
            record.display_url,
            *(getattr(record, k) for k in POST_COUNTERS),
            record.created_at,
            record.is_deleted,
            record.collaborator_ids,
        )
    if isinstance(record, Follow):
        return (record.follower_id, record.followee_id, record.created_at)
    if isinstance(record, PostEvent):
        row = (record.id, record.post_id, record.user_id, record.created_at)
        return (*row, record.kind) if name == "post_engagement_events" else row
    if isinstance(record, DailyAnalytics):
        return (record.artist_id, record.day, *(getattr(record, k) for k in POST_COUNTERS))
    if isinstance(record, Earning):
        return (record.id, record.artist_id, record.amount, record.currency, record.created_at)
    raise TypeError(f"not a record of a dataset: {record!r}")


def naive_utc_text(value: Any) -> Any:
    """A row's time as ``YYYY-MM-DD HH:MM:SS.ffffff``, UTC without a zone (how SQLAlchemy
    stores a time in SQLite); anything else as it is."""
    if type(value) is str:  # canonical ISO-8601 "2026-06-08T00:00:00.000Z"
        return f"{value[:10]} {value[11:23]}000"
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def day_text(value: Any) -> Any:
    """A row's day as ``YYYY-MM-DD``; anything else as it is."""
    return value.isoformat() if isinstance(value, date) else value


class RowValues:
    """What a statement binds for a row: its fields at `positions`, each converted by the
    function given for its place in `conversions`. It pickles (give module-level functions),
    so the process reading a big file can prepare the rows and the load only binds them."""

    __slots__ = ("_pick", "conversions", "positions")

    def __init__(
        self, positions: Sequence[int], conversions: Sequence[tuple[int, Callable[[Any], Any]]]
    ) -> None:
        self.positions, self.conversions = tuple(positions), tuple(conversions)
        # itemgetter of one position answers the field, not a 1-tuple.
        pick = itemgetter(*self.positions)
        self._pick = pick if len(self.positions) > 1 else lambda row: (pick(row),)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RowValues, (self.positions, self.conversions))

    def __call__(self, row: Row) -> Row:
        values = list(self._pick(row))
        for i, convert in self.conversions:
            values[i] = convert(values[i])
        return tuple(values)
