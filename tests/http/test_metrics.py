"""Metrics and traces of builds: Prometheus through the service, OpenTelemetry spans."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from artist_dashboard import FixedClock, Post, Repos, build_dashboard
from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_store

from .conftest import AUTH, MakeClient, token

DASHBOARD = "/api/v1/users/me/dashboard"


class FailingPosts:
    """The demo's posts, except that top_posts fails as a broken database would."""

    def __init__(self, posts: Any) -> None:
        self._posts = posts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._posts, name)

    def top_posts(self, user_id: str, limit: int) -> list[Post]:
        raise OSError("connection reset")


class NullContentPosts(FailingPosts):
    """The demo's posts, with the top posts' content read as NULL (as from a database)."""

    def top_posts(self, user_id: str, limit: int) -> list[Post]:
        found = self._posts.top_posts(user_id, limit)
        return [
            Post(id=p.id, author_id=p.author_id, created_at=p.created_at, content=None)
            for p in found
        ]


def with_posts(posts: Any) -> Repos:
    repos = demo_store().repos
    return Repos(repos.users, posts, repos.follows)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format, or 0 when absent."""
    inside = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{inside}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


def test_prometheus_counts_builds_store_calls_and_responses() -> None:
    """Through the ASGI app, /metrics reports each build and store call by operation, and the
    responses by status — and no user id appears in any series."""
    pytest.importorskip("prometheus_client")
    from starlette.testclient import TestClient

    from artist_dashboard.asgi import create_app
    from artist_dashboard.metrics import PrometheusMetrics

    metrics = PrometheusMetrics()
    app = create_app(demo_store().repos, AUTH, FixedClock(DEMO_NOW), observer=metrics)
    bearer = {"Authorization": f"Bearer {token()}"}
    with TestClient(app) as client:
        assert client.get(DASHBOARD, headers=bearer).status_code == 200
        assert client.get(DASHBOARD, headers=bearer).status_code == 200
        assert client.get(DASHBOARD).status_code == 401
        exposed = client.get("/metrics")
    assert exposed.status_code == 200
    assert exposed.headers["content-type"].startswith("text/plain")
    text = exposed.text
    seconds = "artist_dashboard_operation_seconds_count"
    assert sample(text, seconds, operation="build") == 2
    assert sample(text, seconds, operation="posts.top_posts") == 2
    assert sample(text, seconds, operation="users.get_user") >= 2
    assert sample(text, "artist_dashboard_responses_total", status="200") == 2
    assert sample(text, "artist_dashboard_responses_total", status="401") == 1
    assert DEMO_USER_ID not in text


def test_prometheus_counts_storage_failures_and_corrections(make_client: MakeClient) -> None:
    """A store call that fails is counted under its operation and under the build (the client
    gets 503); values the rules corrected are counted per build."""
    pytest.importorskip("prometheus_client")
    from artist_dashboard.metrics import PrometheusMetrics, observed

    metrics = PrometheusMetrics()
    broken = make_client(observed(with_posts(FailingPosts(demo_store().repos.posts)), metrics))
    assert broken.token(token()).status == 503
    nulls = make_client(observed(with_posts(NullContentPosts(demo_store().repos.posts)), metrics))
    assert nulls.token(token()).status == 200
    text = metrics.exposition()[0].decode()
    failures = "artist_dashboard_operation_failures_total"
    assert sample(text, failures, operation="posts.top_posts") == 1
    assert sample(text, failures, operation="build") == 1
    assert sample(text, failures, operation="users.get_user") == 0
    assert sample(text, "artist_dashboard_corrections_total") >= 1


def test_an_unknown_user_is_not_a_failure() -> None:
    """ "No such user" is an answer, not a storage error: it is timed, never counted failed."""
    pytest.importorskip("prometheus_client")
    from artist_dashboard import UserNotFound
    from artist_dashboard.metrics import PrometheusMetrics, observed

    metrics = PrometheusMetrics()
    with pytest.raises(UserNotFound):
        build_dashboard("ghost", observed(demo_store().repos, metrics), FixedClock(DEMO_NOW))
    text = metrics.exposition()[0].decode()
    assert sample(text, "artist_dashboard_operation_seconds_count", operation="build") == 1
    assert sample(text, "artist_dashboard_operation_failures_total", operation="build") == 0


def test_opentelemetry_spans_nest_store_calls_in_the_build() -> None:
    """Each build is a span, each store call a child span of it; a failing call's span and the
    build's are marked as errors."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    from artist_dashboard.metrics import OpenTelemetryTracing, observed

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = OpenTelemetryTracing(provider.get_tracer("test"))
    clock = FixedClock(datetime(2026, 6, 8, tzinfo=UTC))
    build_dashboard(DEMO_USER_ID, observed(demo_store().repos, tracing), clock)
    spans = exporter.get_finished_spans()
    (build,) = [s for s in spans if s.name == "artist_dashboard build"]
    calls = [s for s in spans if s is not build]
    assert {s.name for s in calls} >= {"artist_dashboard posts.top_posts"}
    assert all(s.parent is not None and s.parent.span_id == build.context.span_id for s in calls)
    exporter.clear()
    broken = observed(with_posts(FailingPosts(demo_store().repos.posts)), tracing)
    with pytest.raises(Exception, match="store failed"):
        build_dashboard(DEMO_USER_ID, broken, clock)
    failed = {s.name: s.status.status_code for s in exporter.get_finished_spans()}
    assert failed["artist_dashboard posts.top_posts"] == StatusCode.ERROR
    assert failed["artist_dashboard build"] == StatusCode.ERROR
