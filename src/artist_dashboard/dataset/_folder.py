"""Embedded default: reading and writing dataset folders, file by file, line by line."""

from __future__ import annotations

import difflib
import json
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import IO, Any, TypeVar

from attrs import frozen

from .._core.errors import DashboardError
from .._core.records import DailyAnalytics, Earning, Follow, Post, PostEvent, User
from .._core.values import add_corrections, corrections_kept, counting_corrections, log
from ..memory import SOURCES, InMemoryStore
from ._documents import (
    daily_document,
    earning_document,
    event_document,
    follow_document,
    parse_daily,
    parse_earning,
    parse_engagement_event,
    parse_follow,
    parse_play_event,
    parse_post,
    parse_user,
    parse_view_event,
    post_document,
    user_document,
)
from ._fields import UnreadableDocument, unwrap
from ._rows import FALLBACK, Row, fast_row, record_row


@frozen
class Collection:
    """One file of a dataset: how its documents become records, and records documents."""

    name: str
    parse: Callable[[dict[str, Any]], Any]
    document: Callable[[Any], dict[str, Any]]
    #: Read JSON numbers as exact decimals (amounts are read from their text).
    exact_numbers: bool = False

    @property
    def file(self) -> str:
        return f"{self.name}.jsonl"


#: Every collection a dataset may hold: the three core ones, then the analytics sources.
COLLECTIONS = {
    c.name: c
    for c in (
        Collection("users", parse_user, user_document),
        Collection("posts", parse_post, post_document),
        Collection("follows", parse_follow, follow_document),
        Collection("post_view_events", parse_view_event, event_document),
        Collection("post_play_events", parse_play_event, event_document),
        Collection("post_engagement_events", parse_engagement_event, event_document),
        Collection("daily_artist_analytics", parse_daily, daily_document),
        Collection("earnings", parse_earning, earning_document, exact_numbers=True),
    )
}
assert tuple(COLLECTIONS)[3:] == SOURCES
USERS_FILE, POSTS_FILE, FOLLOWS_FILE = (COLLECTIONS[n].file for n in ("users", "posts", "follows"))


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


OnProblem = Callable[[Problem], None]


def _raise(problem: Problem) -> None:
    raise DatasetError(str(problem))


def _log(problem: Problem) -> None:
    log.warning("%s", problem)


def _read(
    folder: Path,
    collection: Collection,
    on_problem: OnProblem,
    fast: Callable[[dict[str, Any]], Any] | None = None,
) -> Iterator[Any]:
    """The records of one file in order (a later one with an earlier one's key replaces it
    where they are stored); each unreadable line goes to `on_problem`. With `fast`, a line's
    document goes to it first, and what it gives is yielded unless it is `FALLBACK`, in which
    case the line takes the record path (and yields the record)."""
    path = folder / collection.file
    if not path.exists():
        return
    decode = json.JSONDecoder(parse_float=Decimal if collection.exact_numbers else float)
    if _is_json_array(path):
        yield from _read_array(path, collection, decode, on_problem)
        return
    quick = _quick_loads if fast is not None and not collection.exact_numbers else None
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if quick is not None:
                doc = quick(raw)
                if doc is not None:
                    found = fast(doc)  # type: ignore[misc]
                    if found is not FALLBACK:
                        yield found
                        continue
            try:
                text = raw.decode("utf-8").lstrip("\ufeff").strip()
                if not text:
                    continue
                # Only Extended JSON has "$" keys; a plain line skips the unwrapping walk.
                record = _record(collection, decode.decode(text), extended="$" in text)
            except (ValueError, RecursionError) as exc:
                on_problem(Problem(collection.file, number, _why(exc)))
            else:
                yield record


def _record(collection: Collection, doc: object, *, extended: bool = True) -> Any:
    """The record of one decoded document; `UnreadableDocument` when it is not an object."""
    if not isinstance(doc, dict):
        raise UnreadableDocument("not a JSON object")
    return collection.parse(unwrap(doc) if extended else doc)


def _why(error: ValueError | RecursionError) -> str:
    """What a `Problem` says of a document that could not be read."""
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON ({error.msg})"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, UnreadableDocument):
        return str(error)
    # Anything else a value cannot be read for, e.g. a JSON number of more than 4,300 digits.
    reason = str(error).split(":", 1)[0].strip() or type(error).__name__
    return f"cannot be read ({reason})"


def _is_json_array(path: Path) -> bool:
    """True when the file is one JSON array (``mongoexport --jsonArray``), not JSON lines."""
    with path.open("rb") as start:
        head = start.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def _read_array(
    path: Path, collection: Collection, decode: json.JSONDecoder, on_problem: OnProblem
) -> Iterator[Any]:
    """The records of a file holding one JSON array, each reported at the line it starts on.

    The file is read whole (JSON lines stream; an array cannot). Text that is not JSON stops
    the reading there: where the next document starts can no longer be told.
    """
    name = collection.file
    try:
        text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        on_problem(Problem(name, 1, _why(exc)))
        return
    position = text.index("[") + 1
    line = 1 + text.count("\n", 0, position)
    while True:
        after = _skip_space(text, position)
        line += text.count("\n", position, after)
        position = after
        if text.startswith("]", position):
            if text[position + 1 :].strip():
                on_problem(Problem(name, line, "text after the JSON array"))
            return
        try:
            doc, end = decode.raw_decode(text, position)
        except (ValueError, RecursionError) as exc:
            # Where the next document starts can no longer be told: the file stops here.
            at = exc.lineno if isinstance(exc, json.JSONDecodeError) else line
            on_problem(Problem(name, at, _why(exc)))
            return
        try:
            record = _record(collection, doc)
        except (ValueError, RecursionError) as exc:
            on_problem(Problem(name, line, _why(exc)))
        else:
            yield record
        line += text.count("\n", position, end)
        position = _skip_space(text, end)
        line += text.count("\n", end, position)
        if text.startswith(",", position):
            position += 1
        elif not text.startswith("]", position):
            on_problem(Problem(name, line, "not JSON (expected ',' or ']' in the array)"))
            return


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _quick_loads(raw: bytes) -> dict[str, Any] | None:
    """A plain line's object, quickly (orjson when installed); None for anything the careful
    path must see: an error, a byte order mark, not an object."""
    try:
        doc = _loads(raw)
    except Exception:
        return None
    return doc if type(doc) is dict else None


try:  # an optional, faster decoder of the same JSON (the `fast` extra)
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - the standard library's is the default
    _loads = json.loads


def dataset_folder(folder: str | Path) -> Path:
    """`folder` as a Path, or `DatasetError` when it is not a folder."""
    path = Path(folder)
    if path.is_file():
        raise DatasetError(
            f"{path}: a file, not a dataset folder (give the folder that holds "
            f"{USERS_FILE}, {POSTS_FILE} and {FOLLOWS_FILE})"
        )
    if not path.is_dir():
        raise DatasetError(f"{path}: no such dataset folder")
    return path


def unknown_files(folder: str | Path) -> list[str]:
    """The ``*.jsonl`` files in the dataset folder that are no collection's, so not read."""
    known = {c.file for c in COLLECTIONS.values()}
    return sorted(p.name for p in dataset_folder(folder).glob("*.jsonl") if p.name not in known)


def warn_about_unknown_files(folder: str | Path) -> None:
    """Log each ``*.jsonl`` file the loader does not read, with the name it may have meant."""
    known = [c.file for c in COLLECTIONS.values()]
    for name in unknown_files(folder):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"the files read are {', '.join(known)}"
        log.warning("%s: not a file of the dataset, so not read (%s)", name, hint)


def iter_records(folder: str | Path, name: str, on_problem: OnProblem = _raise) -> Iterator[Any]:
    """The records of one collection (``"posts"``, ``"post_view_events"``…); a bad line goes to
    `on_problem` (by default: raise). A collection whose file is absent has none."""
    return _read(dataset_folder(folder), COLLECTIONS[name], on_problem)


def iter_rows(folder: str | Path, name: str, on_problem: OnProblem = _raise) -> Iterator[Row]:
    """The rows of one collection for a bulk load (`_rows.COLUMNS` order): built straight from
    each document that needs no correction, from its record otherwise — the same rows either
    way, and the same bad lines reported."""
    for found in _read(dataset_folder(folder), COLLECTIONS[name], on_problem, _fast_of(name)):
        yield found if type(found) is tuple else record_row(name, found)


_T = TypeVar("_T")

#: A file at least this big is read by a process of its own while the load writes its rows:
#: reading and checking JSON lines is most of a big load's Python, and a second process can
#: do it beside the database's work (a thread cannot: the GIL).
READ_AHEAD_BYTES = 32 * 1024 * 1024


def row_batches(
    folder: str | Path,
    name: str,
    on_problem: OnProblem,
    size: int,
    prepare: Callable[[Row], Row] | None = None,
) -> Iterator[list[Row]]:
    """The rows of one collection (`iter_rows`) in lists of `size`, in file order, each
    through `prepare` when given; each bad line goes to `on_problem`, in order, and
    corrections are counted in the work under way. A file of `READ_AHEAD_BYTES` or more is
    read by a child process, a batch ahead (`prepare` then runs there: it must pickle)."""
    path = dataset_folder(folder) / COLLECTIONS[name].file
    if _python_found() and path.is_file() and path.stat().st_size >= READ_AHEAD_BYTES:
        yield from _read_ahead(folder, name, on_problem, size, prepare)
    else:
        yield from batched(prepared(iter_rows(folder, name, on_problem), prepare), size)


def prepared(rows: Iterable[Row], prepare: Callable[[Row], Row] | None) -> Iterable[Row]:
    """`rows`, each through `prepare` when given."""
    return rows if prepare is None else map(prepare, rows)


def _python_found() -> bool:
    """Whether `sys.executable` is a Python to start (in a program that embeds Python, such as
    uWSGI, it is that program: the file is then read here)."""
    return Path(sys.executable).name.lower().startswith(("python", "pypy"))


def batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """Lists of `size` items in order (the last one shorter)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


#: Room in the pipe from a reading process (Linux gives 64 KB, a fifth of a batch): it then
#: writes a few batches ahead instead of waiting for the load to read each piece.
PIPE_BYTES = 1024 * 1024


def _widen(pipe: IO[bytes]) -> None:
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or above the system's limit
        pass


def _read_ahead(
    folder: str | Path,
    name: str,
    on_problem: OnProblem,
    size: int,
    prepare: Callable[[Row], Row] | None,
) -> Iterator[list[Row]]:
    # A fresh interpreter running this module alone (multiprocessing's spawn would run the
    # caller's main script again, and fork is unsafe in a process that has threads).
    source = str(Path(__file__).resolve().parents[2])
    paths = [source, *filter(None, [os.environ.get("PYTHONPATH")])]
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(folder), name, str(size), pickle.dumps(prepare).hex()],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
    )
    assert reader.stdout is not None
    _widen(reader.stdout)
    try:
        while True:
            try:
                kind, found = pickle.load(reader.stdout)  # from this library's own process
            except EOFError:
                file = COLLECTIONS[name].file
                raise DatasetError(f"{file}: the process reading it stopped") from None
            if kind == "rows":
                yield found
            elif kind == "problem":
                on_problem(found)
            elif kind == "done":
                add_corrections(*found)
                return
            else:
                raise found
    finally:
        reader.stdout.close()
        if reader.poll() is None:  # the load stopped early: so does the reading
            reader.terminate()
        reader.wait()


_READER = "from artist_dashboard.dataset._folder import read_for_parent; read_for_parent()"


def read_for_parent() -> None:
    """(The reading process of `row_batches`) Write its messages to standard output, pickled:
    ("rows", batch), ("problem", problem), then ("done", (counts, first)) or ("error",
    exception). The arguments: folder, collection, batch size, and the rows' `prepare`
    (pickled, in hexadecimal)."""
    # Ctrl-C reaches the whole process group: the load stops this process itself (no second
    # traceback on the user's terminal).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    folder, name, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prepare = pickle.loads(bytes.fromhex(sys.argv[4]))  # from the load that started this
    out = sys.stdout.buffer

    def send(message: tuple[str, Any]) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        with corrections_kept() as kept:
            rows = iter_rows(folder, name, lambda p: send(("problem", p)))
            for batch in batched(prepared(rows, prepare), size):
                send(("rows", batch))
        send(("done", (dict(kept.counts), kept.first)))
    except BrokenPipeError:  # the load stopped reading: nothing more to say, even at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    except Exception as exc:
        try:
            send(("error", exc))
        except Exception:  # an exception that cannot be pickled: its words can
            send(("error", DatasetError(f"{type(exc).__name__}: {exc}")))
    out.flush()


def _fast_of(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda doc: fast_row(name, doc)


def iter_users(folder: str | Path, on_problem: OnProblem = _raise) -> Iterator[User]:
    return iter_records(folder, "users", on_problem)


def iter_posts(folder: str | Path, on_problem: OnProblem = _raise) -> Iterator[Post]:
    return iter_records(folder, "posts", on_problem)


def iter_follows(folder: str | Path, on_problem: OnProblem = _raise) -> Iterator[Follow]:
    return iter_records(folder, "follows", on_problem)


def configured_sources(folder: str | Path) -> list[str]:
    """The analytics sources whose file the dataset has (even empty): those are configured."""
    path = dataset_folder(folder)
    return [name for name in SOURCES if (path / COLLECTIONS[name].file).is_file()]


def check_dataset(folder: str | Path) -> None:
    """Read the whole dataset once, raising `DatasetError` at its first bad line."""
    for name in COLLECTIONS:
        for _ in iter_records(folder, name):
            pass


def load_dataset(
    folder: str | Path, *, strict: bool = False, on_problem: OnProblem | None = None
) -> InMemoryStore:
    """The dataset in an `InMemoryStore`, with each analytics source whose file exists.

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
    warn_about_unknown_files(path)
    sources = set(configured_sources(path))
    event_sources = sources - {"daily_artist_analytics", "earnings"}

    def read(name: str) -> list[Any]:
        with counting_corrections(f"reading {COLLECTIONS[name].file}"):
            return list(iter_records(path, name, report))

    return InMemoryStore(
        users=read("users"),
        posts=read("posts"),
        follows=read("follows"),
        events=[e for name in sorted(event_sources) for e in read(name)] if event_sources else None,
        event_sources=event_sources,
        daily=read("daily_artist_analytics") if "daily_artist_analytics" in sources else None,
        earnings=read("earnings") if "earnings" in sources else None,
    )


def write_dataset(
    folder: str | Path,
    users: Iterable[User] = (),
    posts: Iterable[Post] = (),
    follows: Iterable[Follow] = (),
    *,
    events: Iterable[PostEvent] | None = None,
    daily: Iterable[DailyAnalytics] | None = None,
    earnings: Iterable[Earning] | None = None,
) -> Path:
    """Write records as a dataset folder of plain JSON lines (created if missing); `events`
    go to the file of their collection (all three are written when given, even empty)."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    _write_lines(path, "users", users)
    _write_lines(path, "posts", posts)
    _write_lines(path, "follows", follows)
    if events is not None:
        by_collection: dict[str, list[PostEvent]] = {
            n: [] for n in ("post_view_events", "post_play_events", "post_engagement_events")
        }
        for event in events:
            by_collection[event.key[0]].append(event)
        for name, found in by_collection.items():
            _write_lines(path, name, found)
    if daily is not None:
        _write_lines(path, "daily_artist_analytics", daily)
    if earnings is not None:
        _write_lines(path, "earnings", earnings)
    return path


def _write_lines(folder: Path, name: str, records: Iterable[Any]) -> None:
    collection = COLLECTIONS[name]
    with (folder / collection.file).open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(collection.document(record), ensure_ascii=False) + "\n")
