"""The dataset loader: plain and Extended JSON, bad lines reported by file and line, strict."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from artist_dashboard import FixedClock, build_dashboard
from artist_dashboard.dataset import DatasetError, Problem, load_dataset, write_dataset
from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_dashboard, demo_records
from artist_dashboard.testing import Documents, documents
from artist_dashboard.wire import to_json

from ..helpers import write_documents
from ..oracle import exact, expected_dashboard


def write_lines(folder: Path, name: str, lines: list[Any]) -> None:
    folder.mkdir(exist_ok=True)
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    (folder / name).write_text(text + "\n", encoding="utf-8")


def load(folder: Path) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    store = load_dataset(folder, on_problem=problems.append)
    return store, problems


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=documents())
def test_every_figure_agrees_with_an_independent_computation(
    docs: Documents, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """For every user of a random dataset (mixed plain and Extended JSON), the dashboard
    equals the spec's rules computed independently from the raw documents."""
    folder = write_documents(tmp_path_factory.mktemp("data"), docs, seed=len(docs.posts))
    store, problems = load(folder)
    assert problems == []
    for user in docs.users:
        got = exact(to_json(build_dashboard(user["_id"], store.repos, FixedClock(docs.now))))
        want = expected_dashboard(user["_id"], docs.users, docs.posts, docs.follows, docs.now)
        if got != want:
            diff = {k: (got[k], want[k]) for k in got if got[k] != want[k]}
            raise AssertionError(f"user {user['_id']!r}: {diff}")


def test_extended_json_as_mongoexport_writes_it(tmp_path: Path) -> None:
    """$oid, $date (ISO and epoch ms), $numberLong and $numberInt read as plain values."""
    write_lines(
        tmp_path,
        "users.jsonl",
        [{"_id": {"$oid": "665f00000000000000000001"}, "name": "A", "extra": [1, 2]}],
    )
    write_lines(
        tmp_path,
        "posts.jsonl",
        [
            {
                "_id": {"$oid": "665f00000000000000000002"},
                "authorId": {"$oid": "665f00000000000000000001"},
                "createdAt": {"$date": {"$numberLong": "1780876800000"}},
                "viewCount": {"$numberLong": "9007199254740993"},
                "likesCount": {"$numberInt": "7"},
            },
            {
                "_id": "p2",
                "authorId": "665f00000000000000000001",
                "createdAt": {"$date": "2026-06-07T00:00:00.000Z"},
            },
        ],
    )
    store, problems = load(tmp_path)
    assert problems == []
    first = store.get_user("665f00000000000000000001")
    assert first is not None
    assert first.name == "A"
    posts = {p.id: p for p in store.posts}
    big = posts["665f00000000000000000002"]
    assert big.created_at == datetime(2026, 6, 8, tzinfo=UTC)
    assert (big.view_count, big.likes_count) == (2**53 + 1, 7)


def test_bad_lines_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    """Each unreadable line is named by file and line; good lines around it still load."""
    write_lines(
        tmp_path,
        "posts.jsonl",
        [
            {"_id": "ok1", "authorId": "a", "createdAt": "2026-01-01T00:00:00Z"},
            "{not json",
            {"authorId": "a", "createdAt": "2026-01-01T00:00:00Z"},
            {"_id": "p3", "authorId": "a", "createdAt": "2026-01-01", "viewCount": "lots"},
            {"_id": "p4", "authorId": "a", "createdAt": "yesterday"},
            [1, 2],
            {"_id": "ok1", "authorId": "a", "createdAt": "2026-01-03T00:00:00Z"},
            {"_id": "ok2", "authorId": "a", "createdAt": "2026-01-02T00:00:00Z"},
        ],
    )
    store, problems = load(tmp_path)
    assert [p.id for p in store.posts] == ["ok1", "ok2"]
    # A later document with the key of an earlier one replaces it (SPEC §6.1).
    assert store.get_user("a") is None
    assert {p.id: p.created_at.day for p in store.posts}["ok1"] == 3
    assert [(p.file, p.line) for p in problems] == [("posts.jsonl", n) for n in range(2, 7)]
    reasons = [p.reason for p in problems]
    assert reasons[0].startswith("not JSON")
    assert reasons[1] == "no _id"
    assert "viewCount" in reasons[2]
    assert "createdAt" in reasons[3]
    assert reasons[4] == "not a JSON object"
    assert str(problems[1]) == "posts.jsonl:3: no _id"


def test_strict_mode_stops_at_the_first_bad_line(tmp_path: Path) -> None:
    """With strict=True one bad line is fatal, and names itself."""
    write_lines(tmp_path, "follows.jsonl", [{"followerId": "a", "followeeId": "b"}])
    with pytest.raises(DatasetError, match=r"follows.jsonl:1: no createdAt"):
        load_dataset(tmp_path, strict=True)


def test_bad_values_in_readable_lines_are_corrected_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Negative and null counters, null text and naive times load, corrected per SPEC §5, and
    each file's corrections are summed up in one log line."""
    write_lines(tmp_path, "users.jsonl", [{"_id": "u", "name": None, "isVerified": None}])
    write_lines(
        tmp_path,
        "posts.jsonl",
        [
            {
                "_id": "p",
                "authorId": "u",
                "createdAt": "2026-01-01T10:00:00",
                "viewCount": -4,
                "playCount": None,
                "content": None,
            }
        ],
    )
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        store, problems = load(tmp_path)
    (post,) = store.posts
    assert problems == []
    assert (post.view_count, post.play_count, post.content) == (0, 0, "")
    assert post.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    lines = [r.getMessage() for r in caplog.records if r.name == "artist_dashboard.corrections"]
    assert len(lines) == 2
    assert lines[1].startswith("reading posts.jsonl: 3 stored value(s) corrected")
    assert "post.content 1, post.play_count 1, post.view_count 1" in lines[1]


def test_missing_files_mean_no_documents_and_missing_folder_is_an_error(tmp_path: Path) -> None:
    """An empty folder is an empty dataset; a folder that does not exist is a DatasetError."""
    store, problems = load(tmp_path)
    assert (store.users, store.posts, store.follows, problems) == ([], [], [], [])
    with pytest.raises(DatasetError, match="no such dataset folder"):
        load_dataset(tmp_path / "nope")


def test_written_dataset_reads_back_to_the_same_dashboard(tmp_path: Path) -> None:
    """The demo written as a dataset folder and loaded again gives the demo's dashboard."""
    users, posts, follows = demo_records()
    store, problems = load(write_dataset(tmp_path, users, posts, follows))
    assert problems == []
    rebuilt = build_dashboard(DEMO_USER_ID, store.repos, FixedClock(DEMO_NOW))
    assert rebuilt == demo_dashboard()


def test_byte_order_mark_and_blank_lines_are_tolerated(tmp_path: Path) -> None:
    """A UTF-8 BOM (as some editors write) and blank lines are not problems."""
    (tmp_path / "users.jsonl").write_bytes(b'\xef\xbb\xbf{"_id": "u"}\n\n{"_id": "v"}\n')
    store, problems = load(tmp_path)
    assert problems == []
    assert sorted(u.id for u in store.users) == ["u", "v"]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=documents(max_posts=10, max_follows=15))
def test_json_array_files_read_as_their_lines_would(
    docs: Documents, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A dataset written by ``mongoexport --jsonArray`` (pretty or not) loads to the same
    records as the same documents one a line."""
    lines = write_documents(tmp_path_factory.mktemp("lines"), docs, seed=len(docs.follows))
    arrays = tmp_path_factory.mktemp("arrays")
    for number, name in enumerate(("users.jsonl", "posts.jsonl", "follows.jsonl")):
        documents_ = [json.loads(line) for line in (lines / name).read_text().split("\n") if line]
        indent = 2 if number % 2 else None  # --pretty spreads each document over lines
        (arrays / name).write_text(json.dumps(documents_, indent=indent), encoding="utf-8")
    from_lines, line_problems = load(lines)
    from_arrays, array_problems = load(arrays)
    assert line_problems == array_problems == []
    assert (from_arrays.users, from_arrays.posts, from_arrays.follows) == (
        from_lines.users,
        from_lines.posts,
        from_lines.follows,
    )


def test_a_bad_document_in_an_array_is_reported_at_its_line(tmp_path: Path) -> None:
    """In a JSON array, a document that cannot be read is reported at the line it starts on and
    the others load; text that is not JSON stops the file there."""
    users = '[\n  {"_id": "u"},\n  {"name": "no id"},\n  {"_id": "v"}\n]'
    (tmp_path / "users.jsonl").write_text(users)
    post = '{"_id": "p", "authorId": "u", "createdAt": "2026-01-01T00:00:00Z"}'
    (tmp_path / "posts.jsonl").write_text(f'[{post},\n {{oops}}, {{"_id": "q"}}]')
    store, problems = load(tmp_path)
    assert [u.id for u in store.users] == ["u", "v"]
    assert [p.id for p in store.posts] == ["p"]
    assert [(p.file, p.line) for p in problems] == [("users.jsonl", 3), ("posts.jsonl", 2)]
    assert problems[1].reason.startswith("not JSON")


def test_a_number_no_reader_takes_in_an_array_is_a_problem(tmp_path: Path) -> None:
    """A number of more than 4,300 digits in a JSON array stops that file with a reported
    problem, as it does in JSON lines, never an internal error."""
    huge = "9" * 5000
    (tmp_path / "users.jsonl").write_text(f'[{{"_id": "u"}},\n {{"_id": "v", "x": {huge}}}]')
    store, problems = load(tmp_path)
    assert [u.id for u in store.users] == ["u"]
    assert [(p.file, p.line) for p in problems] == [("users.jsonl", 2)]
    assert problems[0].reason.startswith("cannot be read")


def test_a_misnamed_file_is_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``*.jsonl`` file the loader does not know is not read, and a warning names it with the
    file it was probably meant to be."""
    write_lines(tmp_path, "post.jsonl", [{"_id": "p", "userId": "u"}])
    write_lines(tmp_path, "notes.jsonl", [{"x": 1}])
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        store, _ = load(tmp_path)
    assert store.posts == []
    assert "post.jsonl: not a file of the dataset, so not read (did you mean posts.jsonl?)" in (
        caplog.text
    )
    assert "notes.jsonl: not a file of the dataset" in caplog.text


def test_a_file_given_as_the_folder_is_named_as_a_file(tmp_path: Path) -> None:
    """Pointing the loader at one of the dataset's files says it wants the folder."""
    write_lines(tmp_path, "users.jsonl", [{"_id": "u"}])
    with pytest.raises(DatasetError, match="a file, not a dataset folder"):
        load_dataset(tmp_path / "users.jsonl")
