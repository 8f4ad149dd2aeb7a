"""Prometheus metrics shared by the web application and the workers."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "smartnation_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "smartnation_http_request_seconds",
    "Time to answer HTTP requests",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS_FINISHED = Counter(
    "smartnation_jobs_finished_total", "Background jobs finished, by outcome", ["name", "outcome"]
)
