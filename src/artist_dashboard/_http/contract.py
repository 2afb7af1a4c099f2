"""HTTP adapter: the service's paths, media types and request limits."""

from __future__ import annotations

DASHBOARD_PATH = "/api/v1/users/me/dashboard"
#: The dashboard's engagement chart as CSV (SPEC §6.4).
CHART_CSV_PATH = "/api/v1/users/me/dashboard/chart.csv"
PROFILE_OVERVIEW_PATH = "/api/v1/users/{id}/profile-overview"
OPENAPI_PATH = "/openapi.json"
#: Readiness for a load balancer or an orchestrator: 200 when storage answers, else 503.
READY_PATH = "/readyz"
#: Prometheus metrics, served only when the application is given `PrometheusMetrics`.
METRICS_PATH = "/metrics"
PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
CSV = "text/csv; charset=utf-8"
#: An Authorization header longer than this is refused before any parsing.
MAX_AUTHORIZATION_BYTES = 8192
#: Larger request headers are answered 431 (as nginx's default 8 KiB line limit would).
MAX_HEADER_BYTES = 8192
MAX_HEADERS_TOTAL_BYTES = 16384
