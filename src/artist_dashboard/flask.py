"""HTTP adapter, public face for Flask: a blueprint to register in your app, or a complete app.

    from artist_dashboard.flask import create_app, create_blueprint
    app.register_blueprint(create_blueprint(http))   # inside your own Flask app
    app = create_app(repos, authenticator)           # or a complete application

The HTTP behaviour lives in `DashboardHttp`; this layer translates requests and responses.
Needs the ``flask`` extra.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, request

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

__all__ = ["DashboardHttp", "create_app", "create_blueprint"]

# Every method reaches our handlers, which answer 405 themselves (with Allow), so mounting
# the routes never depends on the host application's error handlers.
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
_READ = ("GET", "HEAD")


def _response(answer: HttpResponse) -> Response:
    return Response(answer.body, status=answer.status, headers=list(answer.headers))


def _flask_path(path: str) -> str:
    return path.replace("{id}", "<path:user_id>")


def create_blueprint(
    http: DashboardHttp,
    name: str = "artist_dashboard",
    *,
    readiness: bool = False,
    openapi: bool = False,
    access_log: bool = True,
) -> Blueprint:
    """The dashboard, chart CSV and profile-overview routes as a blueprint; with `readiness`
    and `openapi`, also ``/readyz`` and our ``/openapi.json``. Its hooks (header limits, the
    access log) apply to its own routes only: the host's requests, 404s and error handlers
    stay the host's."""
    blueprint = Blueprint(name, __name__)

    @blueprint.route(DASHBOARD_PATH, methods=_ALL_METHODS, provide_automatic_options=False)
    def dashboard() -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        query = request.query_string.decode("latin-1")
        return _response(
            http.dashboard(authorization=request.headers.getlist("Authorization"), query=query)
        )

    @blueprint.route(CHART_CSV_PATH, methods=_ALL_METHODS, provide_automatic_options=False)
    def chart() -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        query = request.query_string.decode("latin-1")
        return _response(
            http.chart_csv(authorization=request.headers.getlist("Authorization"), query=query)
        )

    @blueprint.route(
        _flask_path(PROFILE_OVERVIEW_PATH), methods=_ALL_METHODS, provide_automatic_options=False
    )
    def profile_overview(user_id: str) -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        return _response(http.profile_overview(user_id))

    def ready() -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        return _response(http.readiness())

    def openapi_document() -> Response:
        if request.method not in _READ:
            return _response(http.method_not_allowed(_READ))
        return _response(http.openapi())

    for wanted, path, view in (
        (readiness, READY_PATH, ready),
        (openapi, OPENAPI_PATH, openapi_document),
    ):
        if wanted:
            blueprint.add_url_rule(
                path, view_func=view, methods=_ALL_METHODS, provide_automatic_options=False
            )

    @blueprint.before_request
    def limit_headers() -> Response | None:
        raw = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in request.headers]
        refusal = headers_too_large(raw)
        return None if refusal is None else _response(refusal)

    if access_log:
        blueprint.before_request(_start_clock)
        blueprint.after_request(_log_access)
    return blueprint


def _start_clock() -> None:
    g.artist_dashboard_started = time.perf_counter()


def _log_access(response: Response) -> Response:
    started = g.get("artist_dashboard_started", time.perf_counter())
    elapsed = (time.perf_counter() - started) * 1000
    log_access(request.method, request.path, response.status_code, elapsed)
    return response


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
) -> Flask:
    """A complete Flask application serving the dashboard and the profile overview.

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
    app = Flask(__name__)
    app.register_blueprint(create_blueprint(http, readiness=True, openapi=True, access_log=False))
    # The whole application's requests are logged, 404s and 405s included.
    app.before_request(_start_clock)
    app.after_request(_log_access)
    if isinstance(observer, PrometheusMetrics):
        metrics = observer

        @app.get(METRICS_PATH)
        def exposition() -> Response:
            body, content_type = metrics.exposition()
            return Response(
                body, headers={"content-type": content_type, "cache-control": "no-store"}
            )

        @app.after_request
        def count(response: Response) -> Response:
            metrics.responded(response.status_code)
            return response

    @app.errorhandler(404)
    def not_found(_error: Exception) -> Response:
        return _response(http.not_found())

    @app.errorhandler(500)
    def server_error(_error: Exception) -> Response:
        return _response(problem(500, "an unexpected error occurred"))

    app.extensions["artist_dashboard"] = http
    return app
