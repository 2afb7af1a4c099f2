"""Our endpoints inside a team's own FastAPI, Starlette or Flask app, which keeps what is its."""

from __future__ import annotations

import logging

import pytest

from artist_dashboard._http.service import DashboardHttp
from artist_dashboard.auth import InvalidToken
from artist_dashboard.demo import DEMO_USER_ID, demo_store

DASHBOARD = "/api/v1/users/me/dashboard"
CHART = "/api/v1/users/me/dashboard/chart.csv"
OVERVIEW = "/api/v1/users/{id}/profile-overview"
AUTH = {"Authorization": "Bearer session-abc"}


class Sessions:
    def authenticate(self, token: str) -> str:
        if token != "session-abc":
            raise InvalidToken("unknown session")
        return DEMO_USER_ID


def http() -> DashboardHttp:
    return DashboardHttp(demo_store().repos, Sessions())


def test_fastapi_host_keeps_its_404s_and_documents_our_paths() -> None:
    """Included in a FastAPI app, our three endpoints answer; the host's own routes, its 404
    and its /openapi.json stay the host's, and that document now lists our paths with
    schemas that resolve."""
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from artist_dashboard.fastapi import include_dashboard

    app = fastapi.FastAPI(title="team app")

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    include_dashboard(app, http())
    with TestClient(app) as client:
        assert client.get(DASHBOARD, headers=AUTH).json()["profile"]["_id"] == DEMO_USER_ID
        assert client.get(CHART, headers=AUTH).headers["content-type"].startswith("text/csv")
        assert client.get(OVERVIEW.format(id=DEMO_USER_ID)).status_code == 200
        assert client.get(DASHBOARD).status_code == 401
        missing = client.get("/no/such/page")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "Not Found"}  # FastAPI's own, not our problem+json
        assert client.get("/readyz").status_code == 404  # not ours to add to the host
        document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "team app"
    assert {"/api/v1/ping", DASHBOARD, CHART, OVERVIEW} <= set(document["paths"])
    schemas = document["components"]["schemas"]
    refs = _refs(document["paths"][DASHBOARD])
    assert refs
    assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs)
    assert "bearerAuth" in document["components"]["securitySchemes"]


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_a_clashing_schema_name_is_an_error_not_a_silent_replacement() -> None:
    """A host document that already defines one of our schema names differently is refused."""
    from artist_dashboard._http.openapi import merged_into

    host = {"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"Problem": {}}}}
    with pytest.raises(ValueError, match="Problem"):
        merged_into(host)


def test_starlette_routes_add_only_the_api() -> None:
    """`routes(http)` adds the three API paths; the readiness probe and our document only on
    request; the host's 404 stays its own."""
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from artist_dashboard.asgi import routes

    service = http()
    assert [getattr(r, "path", None) for r in routes(service)] == [DASHBOARD, CHART, OVERVIEW]
    app = Starlette(routes=routes(service))
    with TestClient(app) as client:
        assert client.get(DASHBOARD, headers=AUTH).status_code == 200
        missing = client.get("/openapi.json")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/plain")  # Starlette's own


def test_flask_blueprint_leaves_the_hosts_errors_and_requests_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Registered as a blueprint, our endpoints answer; the host's 404 handler answers its own
    missing pages, and our access log records only our requests."""
    flask = pytest.importorskip("flask")
    from artist_dashboard.flask import create_blueprint

    app = flask.Flask("team_app")

    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return "team 404", 404

    @app.get("/home")
    def home() -> str:
        return "home"

    app.register_blueprint(create_blueprint(http()))
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="artist_dashboard.access"):
        assert client.get(DASHBOARD, headers=AUTH).status_code == 200
        assert client.get("/home").data == b"home"
        missing = client.get("/readyz")
    assert (missing.status_code, missing.data) == (404, b"team 404")
    logged = [r.getMessage() for r in caplog.records if r.name == "artist_dashboard.access"]
    assert len(logged) == 1
    assert DASHBOARD in logged[0]
