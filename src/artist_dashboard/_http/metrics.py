"""HTTP adapter: observers that measure builds — Prometheus metrics and OpenTelemetry spans.

Both implement the core's `Observer` (`artist_dashboard.typing.Observer`), so either can watch
any store: ``create_app(repos, authenticator, observer=PrometheusMetrics())``. Neither is on
unless asked (``serve --metrics``); each needs its optional package (the ``metrics`` or
``otel`` extra), imported only when the observer is made.

What is measured, by operation (``build``, or a store call such as ``posts.top_posts``):

- ``artist_dashboard_operation_seconds`` — a histogram of durations;
- ``artist_dashboard_operation_failures_total`` — storage errors: store calls and builds that
  raised anything but "no such user";
- ``artist_dashboard_corrections_total`` — stored values corrected by the rules (SPEC §5);
- ``artist_dashboard_responses_total`` — HTTP responses, by status (with `create_app`).

No label carries a user id, a path parameter or a query: the series stay few and private.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from .._core.errors import DashboardError, StorageError

__all__ = ["OpenTelemetryTracing", "PrometheusMetrics"]

#: Build and store-call durations run from under a millisecond to the service's timeout.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _is_failure(error: BaseException) -> bool:
    """A storage error, or anything unexpected; "no such user" and bad options are answers."""
    return isinstance(error, StorageError) or not isinstance(error, DashboardError)


class PrometheusMetrics:
    """Prometheus metrics of builds, store calls, corrections and responses, in a registry of
    their own (pass `registry` to add them to yours)."""

    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = registry if registry is not None else CollectorRegistry()
        self._seconds = Histogram(
            "artist_dashboard_operation_seconds",
            "Duration of a dashboard build or of one store call",
            ["operation"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._failures = Counter(
            "artist_dashboard_operation_failures",
            "Builds and store calls that failed (storage errors)",
            ["operation"],
            registry=self.registry,
        )
        self._corrections = Counter(
            "artist_dashboard_corrections",
            "Stored values the rules corrected (SPEC section 5)",
            registry=self.registry,
        )
        self._responses = Counter(
            "artist_dashboard_responses",
            "HTTP responses, by status",
            ["status"],
            registry=self.registry,
        )

    @contextmanager
    def timed(self, operation: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except BaseException as error:
            if _is_failure(error):
                self._failures.labels(operation).inc()
            raise
        finally:
            self._seconds.labels(operation).observe(time.perf_counter() - started)

    def corrected(self, count: int) -> None:
        self._corrections.inc(count)

    def responded(self, status: int) -> None:
        """Count one HTTP response."""
        self._responses.labels(str(status)).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus' text format, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class OpenTelemetryTracing:
    """An OpenTelemetry span around each build and each store call (named
    ``artist_dashboard <operation>``), with the build's corrections as an attribute; a failure
    is recorded on its span. Uses the global tracer provider unless given a tracer."""

    def __init__(self, tracer: Any = None) -> None:
        from opentelemetry import trace

        self._trace = trace
        self._tracer = tracer if tracer is not None else trace.get_tracer("artist_dashboard")

    def timed(self, operation: str) -> AbstractContextManager[object]:
        span: AbstractContextManager[object] = self._tracer.start_as_current_span(
            f"artist_dashboard {operation}",
            attributes={"artist_dashboard.operation": operation},
        )
        return span

    def corrected(self, count: int) -> None:
        self._trace.get_current_span().set_attribute("artist_dashboard.corrections", count)
