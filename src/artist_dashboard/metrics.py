"""HTTP adapter, public face: measuring builds — Prometheus metrics, OpenTelemetry spans.

    from artist_dashboard.metrics import PrometheusMetrics
    app = create_app(repos, authenticator, observer=PrometheusMetrics())   # and GET /metrics

`observed(repos, observer)` times every store call of any store; `build_dashboard` then times
each build and reports its corrections to the same observer. `Observer` is the port an observer
of your own implements. The metrics and spans are described in `artist_dashboard._http.metrics`
and docs/deploying.md. Needs the ``metrics`` (prometheus-client) or ``otel``
(opentelemetry-api) extra.
"""

from ._core.observe import observed
from ._core.ports import Observer
from ._http.metrics import OpenTelemetryTracing, PrometheusMetrics

__all__ = ["Observer", "OpenTelemetryTracing", "PrometheusMetrics", "observed"]
