"""Prometheus metrics: request latency per route, requests in flight, security
refusals by kind, and, read from the database at scrape time, dossiers by state
and the sync backlog.

Labels are bounded: route templates (never raw paths), methods, status classes,
unit codes, status codes, channels and refusal kinds (a fixed set, dichvucong/refusals.py).
No citizen data, no addresses.
Under gunicorn each worker writes its samples to PROMETHEUS_MULTIPROC_DIR and any
worker serves the sum.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess)
from prometheus_client.core import GaugeMetricFamily

# Buckets around the portal's SLOs (p95 under 1 s for pages, 3 s for submissions).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "dichvucong_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["method", "route", "status_class"], buckets=LATENCY_BUCKETS)
IN_FLIGHT = Gauge("dichvucong_http_requests_in_flight", "Requests being answered now.",
                  multiprocess_mode="livesum")
# Every refusal, whether or not its security_events row was written (refusals.py bounds those).
SECURITY_REFUSALS = Counter("dichvucong_security_refusals", "Requests refused as a security event, by kind.",
                            ["kind"])


class MetricsMiddleware:
    """ASGI middleware: time each request under its route template."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            IN_FLIGHT.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUEST_SECONDS.labels(scope["method"], template, f"{status[0] // 100}xx").observe(
                time.perf_counter() - started)


class DatabaseCollector:
    """Dossier and outbox figures, read from the database just before a scrape."""

    def __init__(self, dossiers: list[dict], overdue: list[dict], backlog: dict, up: bool):
        self.dossiers, self.overdue, self.backlog, self.up = dossiers, overdue, backlog, up

    def collect(self):
        """Yield the metric families (called by the registry)."""
        up = GaugeMetricFamily("dichvucong_database_up", "1 if the database answered this scrape.")
        up.add_metric([], 1.0 if self.up else 0.0)
        yield up
        if not self.up:
            return
        by_state = GaugeMetricFamily("dichvucong_dossiers", "Dossiers by unit, national status code and channel.",
                                     labels=["unit_code", "status", "channel"])
        for row in self.dossiers:
            by_state.add_metric([row["unit_code"], str(row["status"]), str(row["channel"])], row["n"])
        yield by_state
        overdue = GaugeMetricFamily("dichvucong_dossiers_overdue", "Dossiers past their appointment and not finished.",
                                    labels=["unit_code"])
        for row in self.overdue:
            overdue.add_metric([row["unit_code"]], row["n"])
        yield overdue
        pending = GaugeMetricFamily("dichvucong_outbox_pending", "Sync messages not yet delivered upstream.")
        pending.add_metric([], self.backlog["pending"])
        yield pending
        oldest = GaugeMetricFamily("dichvucong_outbox_oldest_age_seconds", "Age of the oldest undelivered message.")
        oldest.add_metric([], self.backlog["oldest_seconds"])
        yield oldest


class _ThisProcess:
    """The default registry's metrics, for a single process without multiprocess mode."""

    def collect(self):
        return REGISTRY.collect()


def exposition(database: DatabaseCollector) -> tuple[bytes, str]:
    """The /metrics body: this process's (or all workers') samples plus the database figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(database)
    return generate_latest(registry), CONTENT_TYPE_LATEST
