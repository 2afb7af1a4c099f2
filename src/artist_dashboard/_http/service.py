"""HTTP adapter: `DashboardHttp`, every HTTP rule of the service in one place.

`DashboardHttp` turns a request's few relevant parts (the Authorization header, the query
string, a path id) into a complete `HttpResponse` — status, headers, body — following SPEC §5:
authentication first (401 with a ``WWW-Authenticate: Bearer`` challenge), then 400 for any query
parameter on the dashboard, 404 for an unknown profile, 503 with ``Retry-After`` when storage
fails or is too slow, 500 for the unexpected; every error an RFC 9457 problem document without
stack traces or SQL. A response is built completely before it is returned, so a failure never
yields part of a dashboard. The framework layers (`artist_dashboard.asgi`,
`artist_dashboard.flask`) only translate requests and responses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from typing import Any, TypeVar

from attrs import frozen

from .._core.build import DashboardOptions, Repos, build_dashboard, build_profile_overview
from .._core.clock import SystemClock
from .._core.errors import StorageError, UserNotFound, storage_reason
from .._core.observe import observed
from .._core.ports import Clock, Observer
from .._core.wire import chart_csv, to_json
from .auth import Authenticator, InvalidToken, KeysUnavailable
from .contract import (
    CHART_CSV_PATH,
    CSV,
    DASHBOARD_PATH,
    JSON,
    MAX_AUTHORIZATION_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADERS_TOTAL_BYTES,
    METRICS_PATH,
    OPENAPI_PATH,
    PROBLEM_JSON,
    PROFILE_OVERVIEW_PATH,
    READY_PATH,
)
from .openapi import openapi_document

# The paths are re-exported for the framework layers, which route them.
__all__ = [
    "CHART_CSV_PATH",
    "DASHBOARD_PATH",
    "METRICS_PATH",
    "OPENAPI_PATH",
    "PROFILE_OVERVIEW_PATH",
    "READY_PATH",
    "DashboardHttp",
    "HttpResponse",
    "dashboard_http",
    "headers_too_large",
    "log_access",
    "problem",
]

log = logging.getLogger("artist_dashboard.http")
access_log = logging.getLogger("artist_dashboard.access")

_T = TypeVar("_T")


@frozen
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def content_type(self) -> str:
        return dict(self.headers)["content-type"]


class _Unauthorized(Exception):
    def __init__(self, detail: str, *, token_given: bool) -> None:
        super().__init__(detail)
        self.token_given = token_given


class _AmbiguousCredentials(Exception):
    """More than one Authorization header: which one is meant cannot be known."""


#: The Authorization header(s) of a request: a framework layer passes every one it received.
Authorization = str | Sequence[str] | None


def problem(status: int, detail: str, headers: Sequence[tuple[str, str]] = ()) -> HttpResponse:
    """An RFC 9457 problem response."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    return HttpResponse(
        status,
        (("content-type", PROBLEM_JSON), *headers),
        json.dumps(body).encode(),
    )


def _ok(body: bytes, headers: Sequence[tuple[str, str]]) -> HttpResponse:
    return HttpResponse(200, (("content-type", JSON), *headers), body)


def _csv(body: bytes) -> HttpResponse:
    return HttpResponse(200, (("content-type", CSV), *_PRIVATE), body)


def _bearer_token(given: Authorization) -> str:
    """The token of ``Authorization: Bearer <token>``; raises `_Unauthorized` otherwise, and
    `_AmbiguousCredentials` when the header was sent more than once."""
    if given is not None and not isinstance(given, str):
        if len(given) > 1:
            raise _AmbiguousCredentials()
        given = given[0] if given else None
    authorization = given
    if authorization is not None and "," in authorization:
        # WSGI servers join a repeated header with commas; a bearer token has none (RFC 6750).
        raise _AmbiguousCredentials()
    if authorization is None or not authorization.strip():
        raise _Unauthorized("an access token is required", token_given=False)
    if len(authorization.encode("utf-8", "replace")) > MAX_AUTHORIZATION_BYTES:
        raise _Unauthorized("the access token is too long", token_given=True)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise _Unauthorized("use the Bearer authentication scheme", token_given=False)
    token = token.strip()
    if not token or " " in token:
        raise _Unauthorized("the access token is malformed", token_given=True)
    return token


_PRIVATE = (("cache-control", "private, no-store"), ("vary", "Authorization"))
_PUBLIC = (("cache-control", "no-cache"),)


class _ResponseCache:
    """Recently built dashboards by user id, for at most `seconds` (bounded, thread-safe)."""

    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds, self.size = seconds, size
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user_id: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def put(self, user_id: str, body: bytes) -> None:
        with self._lock:
            self._entries[user_id] = (time.monotonic() + self.seconds, body)
            self._entries.move_to_end(user_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class DashboardHttp:
    """The service's endpoints as plain functions of their inputs.

    `timeout` bounds a build (seconds): a store slower than that gives 503, and the build is
    abandoned. Builds run on a pool of `workers` threads, off any event loop. `cache_seconds`
    (off by default) reuses a user's dashboard for that long — see docs/deploying.md for what
    that trades away.
    """

    def __init__(
        self,
        repos: Repos,
        authenticator: Authenticator,
        clock: Clock | None = None,
        *,
        options: DashboardOptions | None = None,
        timeout: float = 10.0,
        retry_after: int = 5,
        workers: int = 4,
        cache_seconds: float = 0.0,
    ) -> None:
        self.repos = repos
        self.authenticator = authenticator
        self.clock = clock or SystemClock()
        self.options = options or DashboardOptions()
        self.timeout = timeout
        self.retry_after = retry_after
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._cache = _ResponseCache(cache_seconds) if cache_seconds > 0 else None

    def close(self) -> None:
        """Stop the worker threads; a later request starts new ones (an app may restart)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, work: Callable[[], _T]) -> Future[_T]:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, "artist-dashboard")
            return self._pool.submit(work)

    def _run(self, work: Callable[[], _T]) -> _T:
        """Run `work` on the pool within the timeout; a timeout is a storage failure."""
        future = self._submit(work)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            raise StorageError(f"the store did not answer within {self.timeout:g} s") from None

    async def _run_async(self, work: Callable[[], _T]) -> _T:
        """`_run` for an event loop: awaits the pool without blocking a thread on it."""
        future = self._submit(work)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            future.cancel()
            raise StorageError(f"the store did not answer within {self.timeout:g} s") from None

    # --- the dashboard ---------------------------------------------------------------------

    def dashboard(self, *, authorization: Authorization, query: str) -> HttpResponse:
        """``GET /api/v1/users/me/dashboard``: the authenticated user's own dashboard."""
        step = self._private_step(authorization, query, csv=False)
        if isinstance(step, HttpResponse):
            return step
        try:
            return _ok(self._run(step), _PRIVATE)
        except Exception as exc:
            return self._failure(exc, private=True)

    async def dashboard_async(self, *, authorization: Authorization, query: str) -> HttpResponse:
        """`dashboard` for an event loop (the build still runs on the worker pool)."""
        step = self._private_step(authorization, query, csv=False)
        if isinstance(step, HttpResponse):
            return step
        try:
            return _ok(await self._run_async(step), _PRIVATE)
        except Exception as exc:
            return self._failure(exc, private=True)

    def chart_csv(self, *, authorization: Authorization, query: str) -> HttpResponse:
        """``GET /api/v1/users/me/dashboard/chart.csv``: the user's engagement chart as CSV,
        private exactly like the dashboard, with the same errors."""
        step = self._private_step(authorization, query, csv=True)
        if isinstance(step, HttpResponse):
            return step
        try:
            return _csv(self._run(step))
        except Exception as exc:
            return self._failure(exc, private=True)

    async def chart_csv_async(self, *, authorization: Authorization, query: str) -> HttpResponse:
        step = self._private_step(authorization, query, csv=True)
        if isinstance(step, HttpResponse):
            return step
        try:
            return _csv(await self._run_async(step))
        except Exception as exc:
            return self._failure(exc, private=True)

    def _private_step(
        self, authorization: Authorization, query: str, *, csv: bool
    ) -> HttpResponse | Callable[[], bytes]:
        """Authenticate and check the request: the answer already, or the work to do."""
        try:
            user_id = self.authenticator.authenticate(_bearer_token(authorization))
        except Exception as exc:
            return self._failure(exc, private=True)
        if query:
            # Checked after authentication: a request without a valid token learns nothing.
            return problem(400, "this endpoint takes no query parameters", _PRIVATE)
        if csv:
            return lambda: self._render_chart(user_id)
        cached = self._cache.get(user_id) if self._cache else None
        if cached is not None:
            return _ok(cached, _PRIVATE)
        return lambda: self._render_dashboard(user_id)

    def _render_dashboard(self, user_id: str) -> bytes:
        body = to_json(build_dashboard(user_id, self.repos, self.clock, self.options)).encode()
        if self._cache:
            self._cache.put(user_id, body)
        return body

    def _render_chart(self, user_id: str) -> bytes:
        dashboard = build_dashboard(user_id, self.repos, self.clock, self.options)
        return chart_csv(dashboard).encode()

    # --- the public profile overview -------------------------------------------------------

    def profile_overview(self, user_id: str) -> HttpResponse:
        """``GET /api/v1/users/{id}/profile-overview``: public fields and public counts."""
        try:
            return _ok(self._run(lambda: self._render_overview(user_id)), _PUBLIC)
        except Exception as exc:
            return self._failure(exc, private=False)

    async def profile_overview_async(self, user_id: str) -> HttpResponse:
        try:
            return _ok(await self._run_async(lambda: self._render_overview(user_id)), _PUBLIC)
        except Exception as exc:
            return self._failure(exc, private=False)

    def _render_overview(self, user_id: str) -> bytes:
        return to_json(build_profile_overview(user_id, self.repos)).encode()

    # --- readiness ------------------------------------------------------------------------

    def readiness(self) -> HttpResponse:
        """``GET /readyz``: 200 when storage answers now, 503 (with the reason kept to the log)
        when it does not."""
        try:
            self._run(self._check)
        except Exception as exc:
            return self._failure(exc, private=False)
        return HttpResponse(200, (("content-type", JSON), *_PUBLIC), b'{"status": "ready"}')

    async def readiness_async(self) -> HttpResponse:
        try:
            await self._run_async(self._check)
        except Exception as exc:
            return self._failure(exc, private=False)
        return HttpResponse(200, (("content-type", JSON), *_PUBLIC), b'{"status": "ready"}')

    def _check(self) -> None:
        check = self.repos.check
        if check is None:
            return
        try:
            check()
        except Exception as exc:
            raise StorageError("the store is not ready") from exc

    # --- failures, in one place ------------------------------------------------------------

    def _failure(self, error: Exception, *, private: bool) -> HttpResponse:
        """The answer for a failure: 401, 404, 503 or 500, never a partial body.

        503 when storage, or the identity provider's key set, cannot be reached.

        On the private dashboard an unknown user means a genuine token whose subject is no
        longer a user (401); on the public overview, an unknown id (404).
        """
        headers = _PRIVATE if private else ()
        if isinstance(error, _AmbiguousCredentials):
            challenge = ("www-authenticate", 'Bearer error="invalid_request"')
            return problem(400, "send one Authorization header", (challenge, *headers))
        if isinstance(error, _Unauthorized):
            return self._unauthorized(error.token_given, headers)
        if isinstance(error, InvalidToken):
            return self._unauthorized(True, headers)
        if isinstance(error, UserNotFound):
            if private:
                return self._unauthorized(True, headers)
            return problem(404, "no such user", headers)
        if isinstance(error, StorageError):
            cause = storage_reason(error.__cause__) if error.__cause__ else "timeout"
            log.warning("storage failed: %s (%s)", printable(str(error)), cause)
            return problem(
                503,
                "the dashboard's storage is unavailable; try again shortly",
                (("retry-after", str(self.retry_after)), *headers),
            )
        if isinstance(error, KeysUnavailable):
            log.warning("token keys unavailable: %s", printable(str(error)))
            return problem(
                503,
                "the identity provider's keys are unavailable; try again shortly",
                (("retry-after", str(self.retry_after)), *headers),
            )
        log.error("unexpected error while answering a request", exc_info=error)
        return problem(500, "an unexpected error occurred", headers)

    def _unauthorized(self, token_given: bool, headers: Sequence[tuple[str, str]]) -> HttpResponse:
        challenge = 'Bearer error="invalid_token"' if token_given else "Bearer"
        detail = "the access token is missing" if not token_given else "the access token is invalid"
        return problem(401, detail, (("www-authenticate", challenge), *headers))

    @staticmethod
    def not_found() -> HttpResponse:
        return problem(404, "no such resource")

    @staticmethod
    def method_not_allowed(allowed: Sequence[str]) -> HttpResponse:
        return problem(405, "this method is not allowed here", (("allow", ", ".join(allowed)),))

    @staticmethod
    def openapi() -> HttpResponse:
        body = json.dumps(openapi_document()).encode()
        return HttpResponse(200, (("content-type", JSON),), body)


def headers_too_large(headers: Sequence[tuple[bytes, bytes]]) -> HttpResponse | None:
    """431 when one header or all of them together are larger than the limits, else None.

    Authorization is left to authentication, which answers an oversized token with 401.
    """
    sizes = [len(name) + len(value) for name, value in headers if name.lower() != b"authorization"]
    if any(size > MAX_HEADER_BYTES for size in sizes) or sum(sizes) > MAX_HEADERS_TOTAL_BYTES:
        return problem(431, "the request's headers are too large")
    return None


def observe(repos: Repos | DashboardHttp, observer: Observer | None) -> Repos | DashboardHttp:
    """`repos` measured through `observer` (when there is one) for a ``create_app``."""
    if observer is None:
        return repos
    if isinstance(repos, DashboardHttp):
        raise TypeError(
            "give create_app the repos, or give DashboardHttp observed(repos, observer)"
        )
    return observed(repos, observer)


def dashboard_http(
    repos: Repos | DashboardHttp,
    authenticator: Authenticator | None,
    clock: Clock | None,
    **settings: Any,
) -> DashboardHttp:
    """The `DashboardHttp` a framework layer's ``create_app`` was given, or one built for it."""
    if isinstance(repos, DashboardHttp):
        return repos
    if authenticator is None:
        raise TypeError("create_app needs an authenticator (see artist_dashboard.auth)")
    return DashboardHttp(repos, authenticator, clock, **settings)


def printable(text: str, limit: int = 512) -> str:
    """`text` safe for a one-line log: control, separator and unpaired surrogate characters
    written as escapes (so a ``%0A`` in a path cannot forge a line), cut at `limit`."""
    escaped = [
        c
        if c.isprintable() or c == " "
        else c.encode("unicode_escape", "backslashreplace").decode()
        for c in text[:limit]
    ]
    return "".join(escaped) + ("…" if len(text) > limit else "")


def log_access(method: str, path: str, status: int, milliseconds: float) -> None:
    """One access line: never the query string, never a header (no token reaches a log);
    what the request chose (method, path) is escaped."""
    access_log.info("%s %s %d %.1fms", printable(method, 16), printable(path), status, milliseconds)
