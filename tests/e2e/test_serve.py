"""`serve` and `token` as real processes on loopback."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the asgi extra is not installed")

from artist_dashboard.dataset import write_dataset
from artist_dashboard.demo import DEMO_USER_ID, demo_records

SECRET = "an-end-to-end-secret-that-is-long-enough"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIST_DASHBOARD_")}
    return {**env, **extra}


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artist_dashboard", *args], capture_output=True, text=True, env=env
    )


def get(url: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.fixture
def serve() -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[str, subprocess.Popen[str]]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "artist_dashboard", "serve", *args, "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(ARTIST_DASHBOARD_JWT_SECRET=SECRET),
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return base, process
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(process.stderr.read() if process.stderr else "") from None
                time.sleep(0.1)
        raise AssertionError("serve did not start")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_token_mints_a_token_the_service_accepts(serve: object, tmp_path: Path) -> None:
    """`token --user` prints a token; `serve --data` accepts it and shows that user's figures."""
    folder = write_dataset(tmp_path / "demo", *demo_records())
    base, _ = serve("--data", str(folder))  # type: ignore[operator]
    minted = cli(
        "token", "--user", DEMO_USER_ID, env=environment(ARTIST_DASHBOARD_JWT_SECRET=SECRET)
    )
    assert minted.returncode == 0
    status, headers, body = get(f"{base}/api/v1/users/me/dashboard", minted.stdout.strip())
    assert status == 200
    assert headers["cache-control"] == "private, no-store"
    assert json.loads(body)["stats"]["followersCount"] == 120


def test_serve_demo_prints_a_curl_command_that_works(serve: object) -> None:
    """`serve --demo` prints a ready-to-paste curl command whose token works."""
    _, process = serve("--demo")  # type: ignore[operator]
    line = ""
    assert process.stderr is not None
    for _ in range(50):
        line = process.stderr.readline()
        if line.startswith("curl "):
            break
    match = re.search(r"Bearer ([\w.-]+)' (\S+)$", line.strip())
    assert match is not None, line
    status, _, body = get(match.group(2), match.group(1))
    assert status == 200
    assert json.loads(body)["topContent"][0]["engagementScore"] == 113


def test_a_database_damaged_under_the_running_service_gives_503(
    serve: object, tmp_path: Path
) -> None:
    """Overwrite the SQLite file while serving: 503 problem+json with Retry-After, no figures."""
    db = tmp_path / "live.db"
    folder = write_dataset(tmp_path / "demo", *demo_records())
    env = environment()
    assert cli("load", "--data", str(folder), "--db", str(db), env=env).returncode == 0
    base, _ = serve("--db", str(db))  # type: ignore[operator]
    token = cli(
        "token", "--user", DEMO_USER_ID, env=environment(ARTIST_DASHBOARD_JWT_SECRET=SECRET)
    )
    url = f"{base}/api/v1/users/me/dashboard"
    assert get(url, token.stdout.strip())[0] == 200
    with db.open("r+b") as damaged:
        damaged.write(b"\x00garbage" * 4096)
    status, headers, body = get(url, token.stdout.strip())
    assert status == 503
    assert headers["content-type"] == "application/problem+json"
    assert "retry-after" in headers
    assert b"stats" not in body
    assert b"profile" not in body


@pytest.mark.parametrize(
    ("secret", "reason"),
    [(None, "ARTIST_DASHBOARD_JWT_SECRET"), ("too-short", "at least 32 bytes")],
)
def test_serve_without_a_usable_secret_stops_with_one_line(secret: str | None, reason: str) -> None:
    """A missing or short secret stops `serve` before it listens, in one line."""
    env = environment(**({"ARTIST_DASHBOARD_JWT_SECRET": secret} if secret else {}))
    result = cli("serve", "--demo", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert reason in line
    assert "Traceback" not in result.stderr
