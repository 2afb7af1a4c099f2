"""Embedded default: read and write dataset folders (SPEC §7) of JSON lines.

One JSON document a line, plain JSON or MongoDB Extended JSON as ``mongoexport`` writes it
(``$oid``, ``$date`` with an ISO string or epoch milliseconds, ``$numberLong``, ``$numberInt``,
``$numberDouble``, ``$numberDecimal``); a file may instead hold one JSON array of documents
(``mongoexport --jsonArray``). A missing file means no documents; unknown fields are ignored;
blank lines are skipped; a ``*.jsonl`` file of no collection is not read, with a warning.
The core collections are ``users.jsonl``, ``posts.jsonl`` and
``follows.jsonl``; the analytics sources (SPEC §6) are ``post_view_events.jsonl``,
``post_play_events.jsonl``, ``post_engagement_events.jsonl``, ``daily_artist_analytics.jsonl``
and ``earnings.jsonl``, each configured when its file exists, even empty.

A line that cannot be read — not JSON, not an object, a key field missing, a value of a type
that cannot be coerced or that no store can hold — becomes a `Problem` naming its file and
line, and the other lines still load (``strict=True`` makes the first problem fatal). A later
document with the key of an earlier one replaces it (SPEC §6.1). A readable value that is
merely bad (negative or null counter, null text, naive time) is corrected by the records as
SPEC §5 says, and logged.

The modules below, lowest first: ``_fields`` (one value), ``_documents`` (one document),
``_folder`` (files and folders).
"""

from ._documents import (
    parse_daily,
    parse_earning,
    parse_engagement_event,
    parse_follow,
    parse_play_event,
    parse_post,
    parse_user,
    parse_view_event,
)
from ._fields import UnreadableDocument
from ._folder import (
    COLLECTIONS,
    DatasetError,
    OnProblem,
    Problem,
    check_dataset,
    configured_sources,
    dataset_folder,
    iter_follows,
    iter_posts,
    iter_records,
    iter_rows,
    iter_users,
    load_dataset,
    unknown_files,
    warn_about_unknown_files,
    write_dataset,
)

__all__ = [
    "COLLECTIONS",
    "DatasetError",
    "OnProblem",
    "Problem",
    "UnreadableDocument",
    "check_dataset",
    "configured_sources",
    "dataset_folder",
    "iter_follows",
    "iter_posts",
    "iter_records",
    "iter_rows",
    "iter_users",
    "load_dataset",
    "parse_daily",
    "parse_earning",
    "parse_engagement_event",
    "parse_follow",
    "parse_play_event",
    "parse_post",
    "parse_user",
    "parse_view_event",
    "unknown_files",
    "warn_about_unknown_files",
    "write_dataset",
]
