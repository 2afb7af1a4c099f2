"""HTTP adapter: the OpenAPI 3.1 document, its response schemas generated from the classes."""

from __future__ import annotations

import json
from typing import Any

from .._core.response import ArtistDashboard, ProfileOverview
from .._core.wire import CHART_CSV_HEADER, json_schema
from .contract import (
    CHART_CSV_PATH,
    CSV,
    DASHBOARD_PATH,
    JSON,
    PROBLEM_JSON,
    PROFILE_OVERVIEW_PATH,
    READY_PATH,
)

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": False,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str, **headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": _ref("Problem")}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 for both endpoints, every error, and the bearer scheme."""
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for root in (ArtistDashboard, ProfileOverview):
        schemas.update(json_schema(root)["$defs"])
    # The generated schemas refer to their siblings as #/$defs/X; here they live in components.
    text = json.dumps(dict(sorted(schemas.items()))).replace("#/$defs/", "#/components/schemas/")
    unavailable = _problem(
        "Storage failed or was too slow; nothing partial is returned.",
        **{"Retry-After": "seconds to wait before retrying"},
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "artist_dashboard",
            "version": "1",
            "description": (
                "A music artist's private analytics dashboard. Other methods than GET on these "
                "paths answer 405 with an Allow header; every error is application/problem+json."
            ),
        },
        "paths": {
            DASHBOARD_PATH: {
                "get": {
                    "operationId": "getMyDashboard",
                    "summary": "The authenticated user's own dashboard",
                    "description": (
                        "Private: the user is the subject of the bearer token and nothing else. "
                        "Takes no parameters; any query parameter is answered with 400."
                    ),
                    "security": [{"bearerAuth": []}],
                    "responses": {
                        "200": {
                            "description": "The dashboard",
                            "headers": {
                                "Cache-Control": {
                                    "description": "always private, no-store",
                                    "schema": {"type": "string", "const": "private, no-store"},
                                }
                            },
                            "content": {JSON: {"schema": _ref("ArtistDashboard")}},
                        },
                        "400": _problem("A query parameter was given."),
                        "401": _problem(
                            "No valid bearer token, or its subject is no longer a user.",
                            **{"WWW-Authenticate": "Bearer challenge (RFC 6750)"},
                        ),
                        "500": _problem("An unexpected error."),
                        "503": unavailable,
                    },
                }
            },
            CHART_CSV_PATH: {
                "get": {
                    "operationId": "getMyChartCsv",
                    "summary": "The authenticated user's engagement chart as CSV",
                    "description": (
                        "Private exactly like the dashboard, with the same errors. A header, "
                        "then one line per day, oldest first; an unavailable chart gives the "
                        "header alone."
                    ),
                    "security": [{"bearerAuth": []}],
                    "responses": {
                        "200": {
                            "description": "The chart",
                            "headers": {
                                "Cache-Control": {
                                    "description": "always private, no-store",
                                    "schema": {"type": "string", "const": "private, no-store"},
                                }
                            },
                            "content": {
                                CSV: {
                                    "schema": {
                                        "type": "string",
                                        "description": f"starts with {CHART_CSV_HEADER}",
                                    }
                                }
                            },
                        },
                        "400": _problem("A query parameter was given."),
                        "401": _problem(
                            "No valid bearer token, or its subject is no longer a user.",
                            **{"WWW-Authenticate": "Bearer challenge (RFC 6750)"},
                        ),
                        "500": _problem("An unexpected error."),
                        "503": unavailable,
                    },
                }
            },
            READY_PATH: {
                "get": {
                    "operationId": "getReadiness",
                    "summary": "Whether the service's storage answers now",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Ready",
                            "content": {
                                JSON: {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"status": {"const": "ready"}},
                                        "required": ["status"],
                                        "additionalProperties": False,
                                    }
                                }
                            },
                        },
                        "500": _problem("An unexpected error."),
                        "503": unavailable,
                    },
                }
            },
            PROFILE_OVERVIEW_PATH: {
                "get": {
                    "operationId": "getProfileOverview",
                    "summary": "A user's public profile and public counts",
                    "security": [],
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The public overview",
                            "content": {JSON: {"schema": _ref("ProfileOverview")}},
                        },
                        "404": _problem("No such user."),
                        "500": _problem("An unexpected error."),
                        "503": unavailable,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": json.loads(text),
        },
    }


#: The paths an application embedding the dashboard serves (no readiness, no document of ours).
API_PATHS = (DASHBOARD_PATH, CHART_CSV_PATH, PROFILE_OVERVIEW_PATH)


def merged_into(host: dict[str, Any], paths: tuple[str, ...] = API_PATHS) -> dict[str, Any]:
    """The host application's OpenAPI document with our `paths`, their schemas and the bearer
    scheme added. A path or component the host already has with other content is an error,
    never silently replaced."""
    ours = openapi_document()
    merged = dict(host)
    merged["paths"] = dict(host.get("paths") or {})
    components = {k: dict(v) for k, v in (host.get("components") or {}).items()}
    for path in paths:
        _add(merged["paths"], path, ours["paths"][path], "path")
    for section, entries in ours["components"].items():
        target = components.setdefault(section, {})
        for name, value in entries.items():
            _add(target, name, value, f"components.{section}")
    merged["components"] = components
    return merged


def _add(target: dict[str, Any], name: str, value: Any, where: str) -> None:
    if name in target and target[name] != value:
        raise ValueError(f"the application's OpenAPI document already has {where} {name!r}")
    target[name] = value
