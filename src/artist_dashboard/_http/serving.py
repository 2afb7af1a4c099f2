"""HTTP adapter: running the ASGI app under uvicorn, bounded against idle and slow clients.

uvicorn alone accepts any number of connections and waits forever for a request's head, so
idle sockets or a slowloris take a service down (and then the accept loop logs "Too many open
files" without end). Here, uvicorn's own HTTP protocol (httptools where installed, else h11)
is wrapped so that:

- at most `Limits.max_connections` are open; at the limit a new connection first evicts the
  oldest one that has no request in flight (idle keep-alive, or still sending its head), and
  is refused only when every connection is busy;
- a request's line and headers must arrive within `Limits.head_timeout` seconds of the
  connection opening (or of its previous response); else 408 and the connection is closed;
- an idle keep-alive connection closes after `Limits.keep_alive` seconds (uvicorn's timer);
- a request uvicorn cannot parse is answered 400 ``application/problem+json``, not text;
- identical server log lines are rate-limited, so a flood of bad clients cannot flood the log;
- every accepted socket sends without delay (TCP_NODELAY), whoever created the listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import time
from typing import Any

from attrs import frozen

from .service import HttpResponse, problem

__all__ = ["Limits", "RateLimitedLog", "default_max_connections", "guarded_protocol", "serve"]


def default_max_connections() -> int:
    """As many connections as the process's file descriptors allow, keeping room for the
    database pool, log files and the listening socket (at most 4096)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, min(4096, soft - 128))


@frozen
class Limits:
    """How much a client may hold of the server."""

    max_connections: int = default_max_connections()
    head_timeout: float = 10.0
    keep_alive: float = 5.0


def _raw(answer: HttpResponse) -> bytes:
    """A complete HTTP/1.1 response that closes the connection, for answers given before (or
    instead of) the application."""
    reason = {400: "Bad Request", 408: "Request Timeout"}.get(answer.status, "Error")
    head = [f"HTTP/1.1 {answer.status} {reason}"]
    head += [f"{name}: {value}" for name, value in answer.headers]
    head += [f"content-length: {len(answer.body)}", "connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer.body


_MALFORMED = _raw(problem(400, "the request could not be read as HTTP/1.1"))
_TOO_SLOW = _raw(problem(408, "the request's line and headers did not arrive in time"))
_log = logging.getLogger("artist_dashboard.http")


def _no_delay(transport: Any) -> None:
    """Send each response at once. A response written in two parts (head, then body) would
    otherwise wait for the client's delayed ACK of the first — 40 ms on Linux — when the
    socket lost TCP_NODELAY (as sockets handed to uvicorn's worker processes do)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # a socket closed under us: nothing to send
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def guarded_protocol(base: type[asyncio.Protocol], limits: Limits) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class `base`, with the limits above."""

    class Guarded(base):  # type: ignore[valid-type, misc]
        _deadline: asyncio.TimerHandle | None = None
        _refused = False
        _opened = 0.0

        def connection_made(self, transport: Any) -> None:
            self._opened = time.monotonic()
            if len(self.connections) >= limits.max_connections and not _evict(self.connections):
                self._refused = True
                self.transport = transport
                transport.abort()
                _log.warning(
                    "connection refused: all %d connections are busy", limits.max_connections
                )
                return
            _no_delay(transport)
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if not self._refused:
                super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            before = self.cycle
            super().data_received(data)
            if self.cycle is not before:
                self._disarm()  # a request's head is complete; the application has it
            elif self._deadline is None and self.idle():
                self._arm()  # the first bytes of the next request on a kept-alive connection

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._disarm()  # uvicorn's keep-alive timer watches the connection now

        def idle(self) -> bool:
            """No request in flight: waiting for (the rest of) a request's head."""
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(limits.head_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.idle() and not self.transport.is_closing():
                self.transport.write(_TOO_SLOW)
                self.transport.close()

        def send_400_response(self, msg: str) -> None:
            if not self.transport.is_closing():
                self.transport.write(_MALFORMED)
                self.transport.close()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded


def _evict(connections: Any) -> bool:
    """Close the oldest connection without a request in flight; False when all are busy."""
    idle = [c for c in connections if getattr(c, "idle", lambda: False)()]
    if not idle:
        return False
    oldest = min(idle, key=lambda c: c._opened)
    connections.discard(oldest)
    oldest.transport.abort()
    return True


class RateLimitedLog(logging.Filter):
    """Lets each distinct message (by the first line of its format string) through at most
    once per `seconds`, and says how many were held back when it next lets one through."""

    def __init__(self, seconds: float = 10.0) -> None:
        super().__init__()
        self.seconds = seconds
        self._last: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg).split("\n", 1)[0])
        now = time.monotonic()
        last, held = self._last.get(key, (float("-inf"), 0))
        if now - last < self.seconds:
            self._last[key] = (last, held + 1)
            return False
        self._last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {self.seconds:g} s)"
        return True


def serve(app: Any, *, host: str, port: int, limits: Limits) -> None:
    """Run `app` with uvicorn until interrupted, with `limits` and quiet, rate-limited logs."""
    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    rate_limit = RateLimitedLog()
    for name in ("asyncio", "uvicorn.error", "artist_dashboard.http"):
        logging.getLogger(name).addFilter(rate_limit)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(AutoHTTPProtocol, limits),
        timeout_keep_alive=int(limits.keep_alive) or 1,
        # uvicorn's access log would print query strings (where a careless client may put a
        # token); ours logs method and path only, escaped.
        access_log=False,
        server_header=False,
        backlog=min(2048, limits.max_connections),
    )
    uvicorn.Server(config).run()
