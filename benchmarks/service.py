"""A bounded load test of `artist-dashboard serve` beside a bare Starlette endpoint.

Both servers run as separate uvicorn processes on loopback; the bare one returns, with the same
headers, the very bytes the dashboard returned. Each gets the same fixed-duration load from
`wrk` (a C load generator, when installed) or else from a small Python client, so the two
throughputs are comparable within the run. Stops by itself.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

SECRET = "a-benchmark-secret-of-at-least-32-bytes!"
PATH = "/api/v1/users/me/dashboard"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                raise SystemExit("a server did not start") from None
            time.sleep(0.05)
    raise SystemExit("a server did not start in time")


def _fetch(port: int, token: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", PATH, headers={"Authorization": f"Bearer {token}"})
    reply = conn.getresponse()
    body = reply.read()
    if reply.status != 200:
        raise SystemExit(f"the dashboard answered {reply.status}: {body[:200]!r}")
    return body


_BARE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    import os
    BODY = Path(os.environ["BENCH_BODY"]).read_bytes()
    HEADERS = {"cache-control": "private, no-store", "vary": "Authorization"}

    async def dashboard(request):
        return Response(BODY, headers=HEADERS, media_type="application/json")

    app = Starlette(routes=[Route("/api/v1/users/me/dashboard", dashboard)])
    """
)


def _load_wrk(port: int, token: str, seconds: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            f"http://127.0.0.1:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{errors.group(1)} failed requests under load")
    return {
        "requests_per_second": float(rate.group(1)) if rate else 0.0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
    }


def _load_python(port: int, token: str, seconds: float, connections: int) -> dict[str, float]:
    latencies: list[float] = []
    lock, stop = threading.Lock(), time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            conn.request("GET", PATH, headers={"Authorization": f"Bearer {token}"})
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200:
                raise SystemExit(f"a request failed under load: {reply.status}")
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "requests_per_second": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }


def measure_service(
    db_url: str,
    user_id: str,
    *,
    seconds: float = 5.0,
    connections: int = 8,
    extra: list[str] | None = None,
    now: str = "2026-06-08T00:00:00Z",
) -> dict[str, Any]:
    """Requests/s, p50 and p99 of `serve --db` for `user_id`, and of the bare endpoint."""
    env = {**os.environ, "ARTIST_DASHBOARD_JWT_SECRET": SECRET}
    env.pop("ARTIST_DASHBOARD_JWT_PUBLIC_KEY", None)
    token = subprocess.run(
        [sys.executable, "-m", "artist_dashboard", "token", "--user", user_id, "--ttl", "3600"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    load = _load_wrk if shutil.which("wrk") else _load_python
    results: dict[str, Any] = {
        "client": "wrk" if load is _load_wrk else "python",
        "seconds": seconds,
    }
    with tempfile.TemporaryDirectory() as folder:
        service_port, bare_port = _free_port(), _free_port()
        service = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "artist_dashboard",
                "serve",
                "--db",
                db_url,
                "--port",
                str(service_port),
                # The data set's own now: a full dashboard, recent activity and all.
                "--now",
                now,
                *(extra or []),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(service_port, service)
            body = _fetch(service_port, token)
            (Path(folder) / "body.json").write_bytes(body)
            (Path(folder) / "bare.py").write_text(_BARE)
            bare = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    folder,
                    "bare:app",
                    "--port",
                    str(bare_port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                env={**env, "PYTHONPATH": folder, "BENCH_BODY": str(Path(folder) / "body.json")},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait(bare_port, bare)
                if _fetch(bare_port, token) != body:
                    raise SystemExit("the bare endpoint does not return the same bytes")
                load(service_port, token, 1.0, connections)  # warm up both
                load(bare_port, token, 1.0, connections)
                results["service"] = load(service_port, token, seconds, connections)
                results["bare"] = load(bare_port, token, seconds, connections)
            finally:
                bare.terminate()
                bare.wait(timeout=10)
        finally:
            service.terminate()
            service.wait(timeout=10)
    results["service_over_bare"] = (
        results["service"]["requests_per_second"] / results["bare"]["requests_per_second"]
    )
    return results
