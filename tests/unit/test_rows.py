"""Bulk loads build rows straight from documents when no correction is needed; whenever that
fast path answers, it gives exactly the row the record path (parse, correct, take apart) gives."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from artist_dashboard.dataset import COLLECTIONS
from artist_dashboard.dataset._fields import unwrap
from artist_dashboard.dataset._rows import (
    FALLBACK,
    RowValues,
    day_text,
    fast_row,
    naive_utc_text,
    record_row,
)
from artist_dashboard.testing import Documents, analytics_documents

from ..helpers import _extended, _extended_source


def _same_instant(value: Any) -> Any:
    """Times as instants (the fast path keeps the canonical text, the record a datetime)."""
    if isinstance(value, str) and len(value) == 24 and value.endswith("Z"):
        return datetime.fromisoformat(value).astimezone(UTC)
    return value


def _documents(docs: Documents) -> list[tuple[str, dict[str, Any]]]:
    found = [("users", d) for d in docs.users] + [("posts", d) for d in docs.posts]
    found += [("follows", d) for d in docs.follows]
    return found + [(name, d) for name, rows in docs.sources.items() for d in rows]


@given(docs=analytics_documents(), seed=st.integers(0, 99), extended=st.booleans())
def test_the_fast_row_is_the_records_row(docs: Documents, seed: int, extended: bool) -> None:
    """For every generated document (plain, or with mongoexport's wrappers), a fast row equals
    the record path's row; a document the record path refuses never gets a fast row."""
    rng = random.Random(seed)
    for name, plain in _documents(docs):
        doc = plain
        if extended:
            wrap = _extended if name in ("users", "posts", "follows") else _extended_source
            doc = {k: wrap(k, v, rng) for k, v in plain.items()}
        fast = fast_row(name, doc)
        try:
            record = COLLECTIONS[name].parse(unwrap(doc))
        except ValueError:
            assert fast is FALLBACK, (name, doc)
            continue
        if fast is not FALLBACK:
            expected = record_row(name, record)
            assert tuple(map(_same_instant, fast)) == tuple(map(_same_instant, expected))


def test_the_common_document_takes_the_fast_path() -> None:
    """What `mongoexport` and the app write for ordinary data needs no record: plain and
    Extended JSON alike (else the fast path would be a fast path for nothing)."""
    post = {
        "_id": "665f00000000000000000002",
        "authorId": "665f00000000000000000001",
        "collaboratorIds": ["665f00000000000000000003"],
        "postType": "audio",
        "content": "New track",
        "viewCount": 1000,
        "likesCount": 90,
        "createdAt": "2026-06-08T00:00:00.000Z",
        "isDeleted": False,
    }
    extended = {
        **post,
        "_id": {"$oid": post["_id"]},
        "viewCount": {"$numberLong": "1000"},
        "createdAt": {"$date": {"$numberLong": "1780876800000"}},
    }
    assert fast_row("posts", post) is not FALLBACK
    assert fast_row("posts", extended) == fast_row("posts", post)
    event = {"_id": "e1", "postId": "p1", "userId": "u1", "createdAt": "2026-06-08T10:00:00.000Z"}
    assert fast_row("post_view_events", event) is not FALLBACK
    assert fast_row("post_engagement_events", {**event, "type": "share"}) is not FALLBACK


def test_what_needs_a_correction_or_a_report_takes_the_record_path() -> None:
    """Null text (corrected and logged), a negative counter, non-ASCII text, an unknown
    engagement type, an impossible date: the record path decides."""
    base = {"_id": "p", "authorId": "a", "createdAt": "2026-06-08T00:00:00.000Z"}
    for odd in (
        {"content": None},
        {"likesCount": -1},
        {"content": "ñ"},
        {"createdAt": "2026-02-30T00:00:00.000Z"},
        {"createdAt": "2026-06-08T00:00:00Z"},
    ):
        assert fast_row("posts", {**base, **odd}) is FALLBACK, odd
    assert fast_row("post_engagement_events", {**base, "postId": "p", "type": "view"}) is FALLBACK


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    offset=st.integers(-14 * 60, 14 * 60),
)
def test_a_time_has_one_text_form_whichever_path_gave_it(moment: datetime, offset: int) -> None:
    """The fast path's canonical text and the record path's datetime (in any zone) of the same
    millisecond become the same naive UTC text, the form SQLAlchemy stores in SQLite."""
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    canonical = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    zoned = moment.astimezone(timezone(timedelta(minutes=offset)))
    stored = naive_utc_text(canonical)
    assert stored == naive_utc_text(zoned)
    assert datetime.fromisoformat(stored) == moment.replace(tzinfo=None)


def test_row_values_pick_convert_and_survive_pickling() -> None:
    """A sink's `RowValues` picks its columns in order and converts them by position, and the
    copy a reading process unpickles does exactly the same (one column included)."""
    row = ("e1", "p1", None, "2026-06-08T01:02:03.004Z", date(2026, 6, 8))
    values = RowValues((3, 0, 4), [(0, naive_utc_text), (2, day_text)])
    expected = ("2026-06-08 01:02:03.004000", "e1", "2026-06-08")
    assert values(row) == expected
    assert pickle.loads(pickle.dumps(values))(row) == expected
    one = RowValues((1,), [])
    assert one(row) == ("p1",)
    assert pickle.loads(pickle.dumps(one))(row) == ("p1",)
