"""Schemathesis, in process, against the service's own /openapi.json, on both layers: every
generated request gets a documented status, content type, headers and a body matching the
schema, with a bearer token supplied by an auth hook."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("schemathesis")
pytest.importorskip("starlette")
pytest.importorskip("flask")

import schemathesis
from hypothesis import HealthCheck, settings

from artist_dashboard import FixedClock
from artist_dashboard.asgi import create_app as create_asgi_app
from artist_dashboard.auth import mint_token
from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_store
from artist_dashboard.flask import create_app as create_flask_app

from .conftest import AUTH

CLOCK = FixedClock(DEMO_NOW)
asgi_schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_asgi_app(demo_store().repos, AUTH, CLOCK)
)
flask_schema = schemathesis.openapi.from_wsgi(
    "/openapi.json", create_flask_app(demo_store().repos, AUTH, CLOCK)
)


class BearerToken:
    """Schemathesis auth hook: a fresh token for the demo artist on every request."""

    def get(self, case: Any, context: Any) -> str:
        return mint_token(DEMO_USER_ID, AUTH)

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


asgi_schema.auth()(BearerToken)
flask_schema.auth()(BearerToken)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@asgi_schema.parametrize()
@SETTINGS
def test_asgi_conforms_to_its_openapi(case: Any) -> None:
    """Every ASGI answer conforms to the documented contract (Schemathesis' default checks)."""
    case.call_and_validate()


@flask_schema.parametrize()
@SETTINGS
def test_flask_conforms_to_its_openapi(case: Any) -> None:
    """Every Flask answer conforms to the documented contract (Schemathesis' default checks)."""
    case.call_and_validate()
