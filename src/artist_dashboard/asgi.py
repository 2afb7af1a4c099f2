"""HTTP adapter, public face for ASGI (Starlette): mount it, or run it with uvicorn.

    from artist_dashboard.asgi import create_app
    app = create_app(repos, authenticator)          # a complete ASGI application
    routes(http)                                     # or only the API routes, for your own app

(FastAPI: `artist_dashboard.fastapi` also merges the routes' OpenAPI into the host's document.)

The HTTP behaviour lives in `DashboardHttp`; this layer translates requests and responses and
awaits each build on the service's worker threads, so a slow database never stalls the event
loop. Needs the ``asgi`` extra.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._core.build import DashboardOptions, Repos
from ._core.ports import Clock, Observer
from ._http.auth import Authenticator
from ._http.metrics import PrometheusMetrics
from ._http.service import (
    CHART_CSV_PATH,
    DASHBOARD_PATH,
    METRICS_PATH,
    OPENAPI_PATH,
    PROFILE_OVERVIEW_PATH,
    READY_PATH,
    DashboardHttp,
    HttpResponse,
    dashboard_http,
    headers_too_large,
    log_access,
    observe,
    problem,
)

__all__ = [
    "AccessLogMiddleware",
    "DashboardHttp",
    "HeaderLimitMiddleware",
    "create_app",
    "routes",
]

# Every method reaches our handlers, which answer 405 themselves (with Allow), so mounting
# the routes never depends on the host application's error handlers.
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
_READ = ("GET", "HEAD")


def _response(answer: HttpResponse) -> Response:
    headers = {k: v for k, v in answer.headers if k != "content-type"}
    return Response(answer.body, answer.status, headers, media_type=answer.content_type)


def routes(http: DashboardHttp, *, readiness: bool = False, openapi: bool = False) -> list[Route]:
    """The dashboard, chart CSV and profile-overview routes, for your own app; with
    `readiness` and `openapi`, also ``/readyz`` and our own ``/openapi.json`` (as `create_app`
    serves them). Nothing else of the host application changes: its 404s and error handlers
    stay its own."""

    async def dashboard(request: Request) -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        answer = await http.dashboard_async(
            authorization=request.headers.getlist("authorization"), query=request.url.query
        )
        return _response(answer)

    async def chart(request: Request) -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        answer = await http.chart_csv_async(
            authorization=request.headers.getlist("authorization"), query=request.url.query
        )
        return _response(answer)

    async def profile_overview(request: Request) -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        user_id = request.path_params["id"]
        return _response(await http.profile_overview_async(user_id))

    async def openapi_document(request: Request) -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        return _response(http.openapi())

    async def ready(request: Request) -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        return _response(await http.readiness_async())

    found = [
        Route(DASHBOARD_PATH, dashboard, methods=_ALL_METHODS),
        Route(CHART_CSV_PATH, chart, methods=_ALL_METHODS),
        Route(PROFILE_OVERVIEW_PATH, profile_overview, methods=_ALL_METHODS),
    ]
    if readiness:
        found.append(Route(READY_PATH, ready, methods=_ALL_METHODS))
    if openapi:
        found.append(Route(OPENAPI_PATH, openapi_document, methods=_ALL_METHODS))
    return found


class HeaderLimitMiddleware:
    """Answers 431 problem+json to requests whose headers exceed the service's limits."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = headers_too_large(scope["headers"]) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await _response(refusal)(scope, receive, send)


class AccessLogMiddleware:
    """Logs method, path and status of each request — never the query string or a header —
    and passes each status to `responded` (a metrics counter) when given one."""

    def __init__(self, app: ASGIApp, responded: Callable[[int], None] | None = None) -> None:
        self.app = app
        self.responded = responded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            log_access(scope["method"], scope["path"], status, elapsed)
            if self.responded is not None:
                self.responded(status)


def create_app(
    repos: Repos | DashboardHttp,
    authenticator: Authenticator | None = None,
    clock: Clock | None = None,
    *,
    options: DashboardOptions | None = None,
    timeout: float = 10.0,
    cache_seconds: float = 0.0,
    workers: int = 4,
    observer: Observer | None = None,
) -> Starlette:
    """A complete ASGI application serving the dashboard and the profile overview.

    With an `observer`, every build and store call is measured through it; a
    `PrometheusMetrics` observer also counts responses and is served at ``GET /metrics``.
    """
    http = dashboard_http(
        observe(repos, observer),
        authenticator,
        clock,
        options=options,
        timeout=timeout,
        cache_seconds=cache_seconds,
        workers=workers,
    )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _response(http.not_found())
        headers = [(k.lower(), v) for k, v in (exc.headers or {}).items()]
        return _response(problem(exc.status_code, str(exc.detail), headers))

    async def server_error(request: Request, exc: Exception) -> Response:
        return _response(problem(500, "an unexpected error occurred"))

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: http_error,
        500: server_error,
    }

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        http.close()

    served = routes(http, readiness=True, openapi=True)
    metrics = observer if isinstance(observer, PrometheusMetrics) else None
    if metrics is not None:

        async def exposition(request: Request) -> Response:
            body, content_type = metrics.exposition()
            return Response(body, 200, {"cache-control": "no-store"}, media_type=content_type)

        served.append(Route(METRICS_PATH, exposition, methods=list(_READ)))
    app = Starlette(
        routes=served,
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.add_middleware(HeaderLimitMiddleware)
    app.add_middleware(AccessLogMiddleware, responded=metrics.responded if metrics else None)
    app.state.dashboard_http = http
    return app
