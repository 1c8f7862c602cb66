"""Prometheus metrics of a streaming run on ``/metrics``, with ``/healthz`` and ``/readyz`` for
probes (loopback by default). Ready means the broker accepts records: the latest progress interval
did not end with deliveries failing and none getting through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, make_wsgi_app

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the log."""


class GeneratorMetrics:
    """Counters the progress line also shows; a private registry so tests can make several."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._metrics = make_wsgi_app(self.registry)
        self.sent = Counter(
            "streamflow_generator_records_sent",
            "Records handed to Kafka, by kind (transaction, feedback, malformed).",
            ["kind"],
            registry=self.registry,
        )
        self.delivered = Counter(
            "streamflow_generator_records_delivered",
            "Records acknowledged.",
            registry=self.registry,
        )
        self.errors = Counter(
            "streamflow_generator_delivery_errors", "Records that failed.", registry=self.registry
        )
        self.resent = Counter(
            "streamflow_generator_records_resent",
            "Records produced again after their delivery timed out (broker outage).",
            registry=self.registry,
        )
        self.rate = Gauge(
            "streamflow_generator_rate_per_second", "Recent send rate.", registry=self.registry
        )
        self.event_time = Gauge(
            "streamflow_generator_event_time_seconds",
            "Event time of the latest transaction sent (Unix seconds).",
            registry=self.registry,
        )

        self.ready = True
        """False while deliveries fail and none get through (see :meth:`note_deliveries`)."""

    def note_deliveries(self, delivered: int, failed: int) -> None:
        """What one progress interval delivered and failed; drives ``/readyz``."""
        if delivered or failed:
            self.ready = delivered > 0 or failed == 0

    def app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI app: probes, ``/metrics``, 404 elsewhere."""
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _text(start_response, "200 OK", "ok")
        if path == "/readyz":
            if self.ready:
                return _text(start_response, "200 OK", "ready")
            return _text(start_response, "503 Service Unavailable", "kafka deliveries failing")
        if path == "/metrics":
            return self._metrics(environ, start_response)  # type: ignore[no-any-return]
        return _text(start_response, "404 Not Found", "not found")

    def serve(self, host: str, port: int) -> WSGIServer | None:
        """Serve the app on host:port in a daemon thread (port 0 disables it)."""
        if not port:
            return None
        server = make_server(host, port, self.app, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
        return server


def _text(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [body.encode()]
