"""Embedded default: read and write dataset folders (SPEC §7) of JSON lines.

One JSON document a line, plain JSON or MongoDB Extended JSON as ``mongoexport`` writes it
(``$oid``, ``$date`` with an ISO string or epoch milliseconds, ``$numberLong``, ``$numberInt``,
``$numberDouble``, ``$numberDecimal``). A missing file means no documents; unknown fields are
ignored; blank lines are skipped.

A line that cannot be read — not JSON, not an object, no ``_id``, a required field missing, a
value of a type that cannot be coerced, a repeated id — becomes a `Problem` naming its file and
line, and the other lines still load (``strict=True`` makes the first problem fatal). A readable
value that is merely bad (negative or null counter, null text, naive time) is corrected by the
records as SPEC §5 says, and logged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from attrs import frozen

from ._core.errors import DashboardError
from ._core.records import Follow, Post, User
from ._core.values import MAX_COUNTER, MAX_ID_BYTES, is_storable_id, log
from ._core.wire import format_instant, parse_instant
from .memory import InMemoryStore

__all__ = [
    "DatasetError",
    "Problem",
    "UnreadableDocument",
    "check_dataset",
    "iter_follows",
    "iter_posts",
    "iter_users",
    "load_dataset",
    "parse_follow",
    "parse_post",
    "parse_user",
    "write_dataset",
]

USERS_FILE = "users.jsonl"
POSTS_FILE = "posts.jsonl"
FOLLOWS_FILE = "follows.jsonl"

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@frozen
class Problem:
    """A line that was not loaded, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class DatasetError(DashboardError):
    """The dataset cannot be read at all (no such folder), or a line is bad in strict mode."""


class UnreadableDocument(ValueError):
    """One document cannot be read; the message is the reason."""


OnProblem = Callable[[Problem], None]


def _raise(problem: Problem) -> None:
    raise DatasetError(str(problem))


def _log(problem: Problem) -> None:
    log.warning("%s", problem)


# --- Extended JSON -------------------------------------------------------------------------


def _number_text(text: object, kind: str) -> int | float:
    if not isinstance(text, str):
        raise UnreadableDocument(f"{kind} must hold a string")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UnreadableDocument(f"{kind} {text!r} is not a number") from None
    if value.is_finite() and value.adjusted() < 40 and value == value.to_integral_value():
        return int(value)
    return float(value)  # far past any counter (or inf): reported as too large, not expanded


def _plain(value: Any) -> Any:
    """Extended JSON wrappers replaced by the plain values they stand for."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$oid":
            if not isinstance(inner, str):
                raise UnreadableDocument("$oid must hold a string")
            return inner
        if key in ("$numberLong", "$numberInt", "$numberDouble", "$numberDecimal"):
            return _number_text(inner, key)
        if key == "$date":
            return _instant(_plain(inner), "$date")
    return {k: _plain(v) for k, v in value.items()}


# --- field readers -------------------------------------------------------------------------


def _instant(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            # parse_instant treats a time without an offset as UTC (SPEC §3).
            return parse_instant(value)
        except ValueError:
            raise UnreadableDocument(f"{name}: {value!r} is not an ISO-8601 time") from None
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise UnreadableDocument(f"{name}: {value!r} is out of range in UTC") from None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return _EPOCH + timedelta(milliseconds=value)
        except OverflowError:
            raise UnreadableDocument(f"{name}: {value!r} milliseconds is out of range") from None
    raise UnreadableDocument(f"{name}: {value!r} is not a time")


def _required(doc: dict[str, Any], name: str) -> Any:
    if doc.get(name) is None:
        raise UnreadableDocument(f"no {name}")
    return doc[name]


def _identifier(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if is_storable_id(value):
        return str(value)
    if isinstance(value, str) and value:
        raise UnreadableDocument(
            f"{name}: {_shown(value)} is not an id any store can hold"
            f" (NUL, invalid Unicode, or over {MAX_ID_BYTES} bytes)"
        )
    raise UnreadableDocument(f"{name}: {_shown(value)} is not an id")


def _shown(value: Any, limit: int = 40) -> str:
    """A value for a one-line report: escaped, and cut short."""
    text = ascii(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _checked_text(value: str, name: str) -> str:
    """Text every store can hold: valid Unicode, without NUL (PostgreSQL cannot store it)."""
    if "\x00" in value:
        raise UnreadableDocument(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UnreadableDocument(f"{name} is not valid Unicode (a lone surrogate)") from None
    return value


def _text(doc: dict[str, Any], name: str) -> Any:
    value = doc.get(name, "")
    if value is None:
        return value  # corrected (and logged) by the record
    if isinstance(value, str):
        return _checked_text(value, name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise UnreadableDocument(f"{name}: {_shown(value)} is not text")


def _counter(doc: dict[str, Any], name: str) -> Any:
    value = doc.get(name, 0)
    if isinstance(value, str):
        try:
            value = _number_text(value.strip(), name)
        except UnreadableDocument:
            raise UnreadableDocument(f"{name}: {_shown(value)} is not a number") from None
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        # Negative, null, fractional or NaN: clamped (and logged) by the record. Too large
        # for any store (past 2^63 - 1): reported, never silently changed.
        if value is not None and value == value and value > MAX_COUNTER:
            raise UnreadableDocument(
                f"{name}: {_shown(value)} is larger than the largest counter (2^63 - 1)"
            )
        return value
    raise UnreadableDocument(f"{name}: {_shown(value)} is not a number")


def _flag(doc: dict[str, Any], name: str) -> bool:
    value = doc.get(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    raise UnreadableDocument(f"{name}: {value!r} is not true or false")


def _id_list(doc: dict[str, Any], name: str) -> tuple[str, ...]:
    value = doc.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise UnreadableDocument(f"{name}: {value!r} is not a list of ids")
    return tuple(_identifier(v, name) for v in value)


# --- documents -----------------------------------------------------------------------------


def parse_user(doc: dict[str, Any]) -> User:
    """A user record from a plain-JSON document (raises on an unreadable one)."""
    return User(
        id=_identifier(_required(doc, "_id"), "_id"),
        name=_text(doc, "name"),
        stage_name=_text(doc, "stageName"),
        bio=_text(doc, "bio"),
        avatar=_text(doc, "avatar"),
        cover_image=_text(doc, "coverImage"),
        is_verified=_flag(doc, "isVerified"),
    )


def parse_post(doc: dict[str, Any]) -> Post:
    """A post record from a plain-JSON document (raises on an unreadable one)."""
    return Post(
        id=_identifier(_required(doc, "_id"), "_id"),
        author_id=_identifier(_required(doc, "authorId"), "authorId"),
        created_at=_instant(_required(doc, "createdAt"), "createdAt"),
        collaborator_ids=_id_list(doc, "collaboratorIds"),
        post_type=_text(doc, "postType"),
        content=_text(doc, "content"),
        thumbnail_url=_text(doc, "thumbnailUrl"),
        display_url=_text(doc, "displayUrl"),
        view_count=_counter(doc, "viewCount"),
        play_count=_counter(doc, "playCount"),
        likes_count=_counter(doc, "likesCount"),
        comments_count=_counter(doc, "commentsCount"),
        saves_count=_counter(doc, "savesCount"),
        shares_count=_counter(doc, "sharesCount"),
        is_deleted=_flag(doc, "isDeleted"),
    )


def parse_follow(doc: dict[str, Any]) -> Follow:
    """A follow record from a plain-JSON document (raises on an unreadable one)."""
    return Follow(
        follower_id=_identifier(_required(doc, "followerId"), "followerId"),
        followee_id=_identifier(_required(doc, "followeeId"), "followeeId"),
        created_at=_instant(_required(doc, "createdAt"), "createdAt"),
    )


def _read(
    folder: Path,
    file_name: str,
    parse: Callable[[dict[str, Any]], _T],
    identity: Callable[[_T], object],
    on_problem: OnProblem,
) -> Iterator[_T]:
    path = folder / file_name
    if not path.exists():
        return
    seen: set[object] = set()
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            try:
                text = raw.decode("utf-8").lstrip("\ufeff").strip()
                if not text:
                    continue
                doc = json.loads(text)
                if not isinstance(doc, dict):
                    raise UnreadableDocument("not a JSON object")
                # Only Extended JSON has "$" keys; a plain line skips the unwrapping walk.
                record = parse(_plain(doc) if "$" in text else doc)
                key = identity(record)
                if key in seen:
                    raise UnreadableDocument(f"repeats {key}; the first one was kept")
                seen.add(key)
            except UnicodeDecodeError:
                on_problem(Problem(file_name, number, "not UTF-8 text"))
            except json.JSONDecodeError as exc:
                on_problem(Problem(file_name, number, f"not JSON ({exc.msg})"))
            except RecursionError:
                on_problem(Problem(file_name, number, "nested too deeply"))
            except UnreadableDocument as exc:
                on_problem(Problem(file_name, number, str(exc)))
            except ValueError as exc:  # e.g. a JSON number of more than 4,300 digits
                reason = str(exc).split(":", 1)[0].strip() or type(exc).__name__
                on_problem(Problem(file_name, number, f"cannot be read ({reason})"))
            else:
                yield record


def dataset_folder(folder: str | Path) -> Path:
    """`folder` as a Path, or `DatasetError` when it is not a folder."""
    path = Path(folder)
    if not path.is_dir():
        raise DatasetError(f"{path}: no such dataset folder")
    return path


def iter_users(folder: str | Path, on_problem: OnProblem = _raise) -> Iterator[User]:
    """The users of the dataset; a bad line goes to `on_problem` (by default: raise)."""
    return _read(
        dataset_folder(folder), USERS_FILE, parse_user, lambda u: f"_id {u.id}", on_problem
    )


def iter_posts(folder: str | Path, on_problem: OnProblem = _raise) -> Iterator[Post]:
    return _read(
        dataset_folder(folder), POSTS_FILE, parse_post, lambda p: f"_id {p.id}", on_problem
    )


def iter_follows(folder: str | Path, on_problem: OnProblem = _raise) -> Iterator[Follow]:
    return _read(
        dataset_folder(folder),
        FOLLOWS_FILE,
        parse_follow,
        lambda f: f"the follow of {f.followee_id} by {f.follower_id}",
        on_problem,
    )


def check_dataset(folder: str | Path) -> None:
    """Read the whole dataset once, raising `DatasetError` at its first bad line."""
    for read in (iter_users, iter_posts, iter_follows):
        for _ in read(folder):
            pass


def load_dataset(
    folder: str | Path, *, strict: bool = False, on_problem: OnProblem | None = None
) -> InMemoryStore:
    """The dataset in an `InMemoryStore`.

    Each bad line is passed to `on_problem` (by default: logged as a warning) and skipped; with
    ``strict=True`` the first one raises `DatasetError` instead and nothing is returned.
    """
    report: OnProblem
    if strict:
        report = _raise
    elif on_problem is not None:
        report = on_problem
    else:
        report = _log
    path = dataset_folder(folder)
    return InMemoryStore(
        users=list(iter_users(path, report)),
        posts=list(iter_posts(path, report)),
        follows=list(iter_follows(path, report)),
    )


# --- writing -------------------------------------------------------------------------------


def user_document(user: User) -> dict[str, Any]:
    return {
        "_id": user.id,
        "name": user.name,
        "stageName": user.stage_name,
        "bio": user.bio,
        "avatar": user.avatar,
        "coverImage": user.cover_image,
        "isVerified": user.is_verified,
    }


def post_document(post: Post) -> dict[str, Any]:
    return {
        "_id": post.id,
        "authorId": post.author_id,
        "collaboratorIds": list(post.collaborator_ids),
        "postType": post.post_type,
        "content": post.content,
        "thumbnailUrl": post.thumbnail_url,
        "displayUrl": post.display_url,
        "viewCount": post.view_count,
        "playCount": post.play_count,
        "likesCount": post.likes_count,
        "commentsCount": post.comments_count,
        "savesCount": post.saves_count,
        "sharesCount": post.shares_count,
        "createdAt": format_instant(post.created_at),
        "isDeleted": post.is_deleted,
    }


def follow_document(follow: Follow) -> dict[str, Any]:
    return {
        "followerId": follow.follower_id,
        "followeeId": follow.followee_id,
        "createdAt": format_instant(follow.created_at),
    }


def write_dataset(
    folder: str | Path,
    users: Iterable[User] = (),
    posts: Iterable[Post] = (),
    follows: Iterable[Follow] = (),
) -> Path:
    """Write records as a dataset folder of plain JSON lines (created if missing)."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    _write_lines(path / USERS_FILE, (user_document(u) for u in users))
    _write_lines(path / POSTS_FILE, (post_document(p) for p in posts))
    _write_lines(path / FOLLOWS_FILE, (follow_document(f) for f in follows))
    return path


def _write_lines(path: Path, documents: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for document in documents:
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
