"""HTTP adapter, public face for FastAPI: our endpoints inside your application.

    from artist_dashboard.fastapi import include_dashboard
    include_dashboard(app, http)        # the routes, and their OpenAPI in app.openapi()

FastAPI is Starlette underneath, so the routes are `artist_dashboard.asgi.routes`; what this
module adds is the host's OpenAPI document: FastAPI documents only routes it declared itself,
so `include_dashboard` merges our paths and schemas into the document the host serves. Your
404s, error handlers and middleware stay yours. Needs the ``fastapi`` extra.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from ._http.openapi import merged_into
from ._http.service import DashboardHttp
from .asgi import routes

__all__ = ["DashboardHttp", "create_router", "include_dashboard"]


def create_router(http: DashboardHttp) -> APIRouter:
    """The dashboard, chart CSV and profile-overview routes as an `APIRouter` (without their
    OpenAPI; `include_dashboard` adds that)."""
    router = APIRouter()
    router.routes.extend(routes(http))
    return router


def include_dashboard(app: FastAPI, http: DashboardHttp) -> None:
    """Add our routes to `app`, and our paths, schemas and bearer scheme to its OpenAPI
    document. A path or schema name the app already uses differently is a `ValueError` when
    the document is first built."""
    app.include_router(create_router(http))
    host_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = merged_into(host_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
