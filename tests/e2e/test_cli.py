"""The command line as a user runs it: JSON on stdout, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from artist_dashboard.cli import main
from artist_dashboard.testing import Documents, documents
from artist_dashboard.wire import format_instant

from ..helpers import write_documents
from ..oracle import exact, expected_dashboard


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artist_dashboard", *args], capture_output=True, text=True
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=documents(max_posts=12, max_follows=20))
def test_build_prints_what_the_spec_computes(
    docs: Documents, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """`build --data DIR --now T` prints, for a random dataset, the independent computation."""
    folder = write_documents(tmp_path_factory.mktemp("data"), docs, seed=3)
    for user in docs.users[:3]:
        code = main(
            [
                "build",
                "--user",
                user["_id"],
                "--data",
                str(folder),
                "--now",
                format_instant(docs.now),
            ]
        )
        printed = exact(capsys.readouterr().out)
        assert code == 0
        assert printed == expected_dashboard(
            user["_id"], docs.users, docs.posts, docs.follows, docs.now
        )


def test_schema_command_prints_a_schema_the_demo_satisfies() -> None:
    """`schema` prints Draft 2020-12 JSON Schema, and `demo` output validates against it."""
    schema = json.loads(run("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(run("demo").stdout), schema)


def test_unknown_user_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """An unknown user is a one-line error, exit 1, nothing on stdout."""
    line = assert_one_line_failure(run("build", "--user", "ghost", "--data", str(tmp_path)), 1)
    assert "ghost" in line


def test_missing_folder_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """A dataset folder that does not exist is named in one line."""
    line = assert_one_line_failure(
        run("build", "--user", "u", "--data", str(tmp_path / "absent")), 1
    )
    assert "absent" in line


@pytest.mark.parametrize(
    "args",
    [
        ("build", "--data", "."),
        ("build", "--user", "u", "--data", ".", "--now", "soon"),
        ("build", "--user", "u", "--data", ".", "--top", "99"),
        ("frobnicate",),
        (),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    """A missing or malformed argument is one line on stderr and exit 2, without usage spam."""
    assert_one_line_failure(run(*args), 2)


def test_bad_lines_go_to_stderr_and_strict_makes_them_fatal(tmp_path: Path) -> None:
    """Unreadable lines are reported as file:line on stderr; --strict stops with exit 1."""
    (tmp_path / "users.jsonl").write_text('{"_id": "u"}\n{oops\n')
    lenient = run("build", "--user", "u", "--data", str(tmp_path))
    assert lenient.returncode == 0
    assert json.loads(lenient.stdout)["profile"]["_id"] == "u"
    assert "users.jsonl:2: not JSON" in lenient.stderr
    strict = run("build", "--user", "u", "--data", str(tmp_path), "--strict")
    assert "users.jsonl:2" in assert_one_line_failure(strict, 1)


def test_top_out_of_range_names_the_option(tmp_path: Path) -> None:
    """An out-of-range ``--top`` is refused naming ``--top`` and its range, not an internal
    field name."""
    args = ("build", "--user", "u", "--data", str(tmp_path), "--top", "99")
    line = assert_one_line_failure(run(*args), 2)
    assert "--top" in line
    assert "0 to 50" in line
    assert "top_content_limit" not in line


def test_console_script_is_installed() -> None:
    """`artist-dashboard` is on PATH next to the interpreter and runs the demo."""
    script = Path(sys.executable).with_name("artist-dashboard")
    result = subprocess.run([str(script), "demo"], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["stats"]["engagementRate"] == 7.26
