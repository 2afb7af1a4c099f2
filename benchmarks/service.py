"""A bounded load test of `artist-dashboard serve` beside a bare Starlette endpoint.

Both servers run as separate uvicorn processes on loopback; the bare one returns, with the same
headers, the very bytes the dashboard returned. Each gets the same fixed-duration load from
`wrk` (a C load generator, when installed) or else from a small Python client, so the two
throughputs are comparable within the run. A third server can be measured the same way: the
least this design can do per request (`_BOUND`). Stops by itself.
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


#: The least this design can do per request: the one-statement floor, the records and response
#: built from its row with no rule applied (`handwritten.design_bound`), and the JSON — in the
#: event loop, without authentication or threads; on PostgreSQL each request's statement is
#: awaited on one of 8 connections (one per client connection), prepared.
_BOUND = textwrap.dedent(
    """
    import asyncio
    import contextlib
    import os

    from sqlalchemy import create_engine, make_url
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from artist_dashboard import wire
    from benchmarks.handwritten import (
        design_bound, driver_sql, whole_floor, whole_params, whole_statement,
    )

    URL = make_url(os.environ["BENCH_DB"])
    POSTGRES = URL.get_backend_name() == "postgresql"
    NOW = wire.parse_instant(os.environ["BENCH_NOW"])
    SQL = driver_sql(whole_statement(POSTGRES), POSTGRES)
    PARAMS = whole_params(os.environ["BENCH_USER"], NOW, POSTGRES)
    HEADERS = {"cache-control": "private, no-store", "vary": "Authorization"}
    IDLE = asyncio.Queue()
    DRIVER = None if POSTGRES else create_engine(URL).raw_connection().driver_connection

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if POSTGRES:
            import psycopg

            conninfo = URL.set(drivername="postgresql").render_as_string(hide_password=False)
            for _ in range(8):
                IDLE.put_nowait(await psycopg.AsyncConnection.connect(conninfo, autocommit=True))
        yield

    async def dashboard(request):
        if POSTGRES:
            connection = await IDLE.get()
            try:
                cursor = await connection.execute(SQL, PARAMS, prepare=True)
                row = list(await cursor.fetchone())
            finally:
                IDLE.put_nowait(connection)
        else:
            row = whole_floor(DRIVER, SQL, PARAMS, False)
        body = wire.to_json(design_bound(row, NOW))
        return Response(body.encode(), headers=HEADERS, media_type="application/json")

    app = Starlette(routes=[Route("/api/v1/users/me/dashboard", dashboard)], lifespan=lifespan)
    """
)


def _uvicorn(folder: str, app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            folder,
            app,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
    bound: bool = False,
) -> dict[str, Any]:
    """Requests/s, p50 and p99 of `serve --db` for `user_id`, and of the bare endpoint; with
    `bound`, of the least this design can do per request too (`_BOUND`)."""
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
            bare = _uvicorn(
                folder,
                "bare:app",
                bare_port,
                {**env, "PYTHONPATH": folder, "BENCH_BODY": str(Path(folder) / "body.json")},
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
            if bound:
                results["bound"] = _measure_bound(
                    folder, env, db_url, user_id, now, token, load, seconds, connections
                )
        finally:
            service.terminate()
            service.wait(timeout=10)
    bare_rate = results["bare"]["requests_per_second"]
    results["service_over_bare"] = results["service"]["requests_per_second"] / bare_rate
    if bound:
        results["bound_over_bare"] = results["bound"]["requests_per_second"] / bare_rate
    return results


def _measure_bound(
    folder: str,
    env: dict[str, str],
    db_url: str,
    user_id: str,
    now: str,
    token: str,
    load: Any,
    seconds: float,
    connections: int,
) -> dict[str, float]:
    """The `_BOUND` server under the same load (after the others: one server at a time)."""
    (Path(folder) / "bound.py").write_text(_BOUND)
    port = _free_port()
    root = str(Path(__file__).resolve().parent.parent)
    server = _uvicorn(
        folder,
        "bound:app",
        port,
        {
            **env,
            "PYTHONPATH": os.pathsep.join([folder, root]),
            "BENCH_DB": db_url,
            "BENCH_NOW": now,
            "BENCH_USER": user_id,
        },
    )
    try:
        _wait(port, server)
        _fetch(port, token)
        load(port, token, 1.0, connections)
        result: dict[str, float] = load(port, token, seconds, connections)
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)
