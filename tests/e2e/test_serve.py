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

import contextlib

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


def test_serve_now_serves_dashboards_as_of_that_instant(serve: object, tmp_path: Path) -> None:
    """`serve --now` answers as of a fixed instant: the demo data served at the demo's now is
    the demo's dashboard, byte for byte."""
    from artist_dashboard.demo import DEMO_NOW, demo_dashboard
    from artist_dashboard.wire import to_json

    folder = write_dataset(tmp_path / "demo", *demo_records())
    now = DEMO_NOW.isoformat().replace("+00:00", "Z")
    base, _ = serve("--data", str(folder), "--now", now)  # type: ignore[operator]
    minted = cli(
        "token", "--user", DEMO_USER_ID, env=environment(ARTIST_DASHBOARD_JWT_SECRET=SECRET)
    )
    status, _, body = get(f"{base}/api/v1/users/me/dashboard", minted.stdout.strip())
    assert status == 200
    assert body == to_json(demo_dashboard()).encode()


def test_serve_metrics_exposes_prometheus_metrics(serve: object) -> None:
    """`serve --metrics` answers GET /metrics with the builds and responses it has served;
    without the flag there is no /metrics."""
    base, _ = serve("--demo", "--metrics")  # type: ignore[operator]
    minted = cli(
        "token", "--user", DEMO_USER_ID, env=environment(ARTIST_DASHBOARD_JWT_SECRET=SECRET)
    )
    assert get(f"{base}/api/v1/users/me/dashboard", minted.stdout.strip())[0] == 200
    status, _, body = get(f"{base}/metrics")
    assert status == 200
    assert 'artist_dashboard_operation_seconds_count{operation="build"} 1.0' in body.decode()
    assert 'artist_dashboard_responses_total{status="200"} 1.0' in body.decode()
    plain, _ = serve("--demo")  # type: ignore[operator]
    assert get(f"{plain}/metrics")[0] == 404


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


# --- what idle, slow and malformed clients cannot do ---------------------------------------


def _raw_request(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes or `timeout` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        chunks = []
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def _open_files(process: subprocess.Popen[str]) -> int:
    return len(os.listdir(f"/proc/{process.pid}/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to count descriptors")
def test_idle_and_slow_connections_cannot_take_the_service_down(serve: object) -> None:
    """A bounded slowloris: 300 connections that send half a request head and stop, against a
    service allowed 40. Real requests still succeed at once (idle connections are evicted
    first), the process's descriptors stay bounded, and the slow ones get 408 after the head
    timeout."""
    base, process = serve("--demo", "--max-connections", "40", "--head-timeout", "2")  # type: ignore[operator]
    port = int(base.rsplit(":", 1)[1])
    token = cli(
        "token", "--user", DEMO_USER_ID, env=environment(ARTIST_DASHBOARD_JWT_SECRET=SECRET)
    ).stdout.strip()
    baseline = _open_files(process)
    slow = []
    for _ in range(300):
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn.sendall(b"GET /api/v1/users/me/dashboard HTTP/1.1\r\nHost: x\r\n")
        slow.append(conn)
    try:
        started = time.monotonic()
        for _ in range(5):
            status, _, _ = get(f"{base}/api/v1/users/me/dashboard", token)
            assert status == 200
        assert time.monotonic() - started < 5
        assert _open_files(process) <= baseline + 40 + 5
        time.sleep(2.5)
        # The newest slow connections were never evicted: their head timed out.
        for conn in slow[-10:]:
            conn.settimeout(2)
            answered = conn.recv(4096)
            assert answered.startswith(b"HTTP/1.1 408"), answered
            assert b"application/problem+json" in answered
        # The oldest were evicted to make room: closed without an answer.
        slow[0].settimeout(2)
        with contextlib.suppress(ConnectionResetError):
            assert slow[0].recv(4096) == b""
    finally:
        for conn in slow:
            conn.close()
    assert process.poll() is None


def test_requests_the_server_cannot_parse_get_a_problem_document(serve: object) -> None:
    """A malformed request line, 5,000 headers and a 200 KB header block are answered with
    application/problem+json (400 from the server's parser, 431 from the service's limits)."""
    base, _ = serve("--demo")  # type: ignore[operator]
    port = int(base.rsplit(":", 1)[1])
    too_many = b"".join(b"X-H%d: v\r\n" % n for n in range(5000))
    huge = b"X-Huge: " + b"v" * 200_000 + b"\r\n"
    for request, statuses in (
        (b"GET /\x01bad HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        (b"NOT HTTP AT ALL\r\n\r\n", {400}),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + too_many + b"\r\n", {400, 431}),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n", {400, 431}),
    ):
        answer = _raw_request(port, request)
        head, _, body = answer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        assert status in statuses, answer[:200]
        assert b"content-type: application/problem+json" in head.lower()
        assert json.loads(body)["status"] == status


def test_a_newline_in_the_path_cannot_forge_a_log_line(serve: object) -> None:
    """The access log escapes what the request put in its path (CWE-117)."""
    base, process = serve("--demo")  # type: ignore[operator]
    forged = "/x%0A200%20GET%20/api/v1/admin%0D"
    assert get(f"{base}{forged}")[0] == 404
    process.terminate()
    process.wait(timeout=10)
    assert process.stderr is not None
    log = process.stderr.read()
    lines = [line for line in log.splitlines() if "GET /x" in line]
    assert len(lines) == 1, log
    assert "\\n200 GET /api/v1/admin\\r" in lines[0]
    assert not any(line.startswith("200 GET /api/v1/admin") for line in log.splitlines())


def test_a_replaced_or_deleted_sqlite_file_is_noticed(serve: object, tmp_path: Path) -> None:
    """The service reads a replaced file's new content (not the old file through pooled
    connections); a deleted file is 503 and not ready, and is never created anew."""
    users, posts, follows = demo_records()
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    env = environment()
    for db, chosen in ((first, follows), (second, follows[:7])):
        folder = write_dataset(tmp_path / db.stem, users, posts, chosen)
        assert cli("load", "--data", str(folder), "--db", str(db), env=env).returncode == 0
    live = tmp_path / "live.db"
    live.write_bytes(first.read_bytes())
    base, _ = serve("--db", str(live))  # type: ignore[operator]
    token = cli(
        "token", "--user", DEMO_USER_ID, env=environment(ARTIST_DASHBOARD_JWT_SECRET=SECRET)
    ).stdout.strip()
    url = f"{base}/api/v1/users/me/dashboard"
    assert json.loads(get(url, token)[2])["stats"]["followersCount"] == 120
    assert get(f"{base}/readyz")[0] == 200
    replacement = tmp_path / "incoming.db"
    replacement.write_bytes(second.read_bytes())
    replacement.replace(live)  # an atomic swap, as a deploy would do it
    followers = json.loads(get(url, token)[2])["stats"]["followersCount"]
    assert followers == sum(f.followee_id == DEMO_USER_ID for f in follows[:7])
    live.unlink()
    status, headers, _ = get(url, token)
    assert status == 503
    assert "retry-after" in headers
    assert get(f"{base}/readyz")[0] == 503
    assert not live.exists()
