"""Prometheus metrics of a streaming run, served on ``/metrics`` (loopback by default)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class GeneratorMetrics:
    """Counters the progress line also shows; a private registry so tests can make several."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
        self.rate = Gauge(
            "streamflow_generator_rate_per_second", "Recent send rate.", registry=self.registry
        )
        self.event_time = Gauge(
            "streamflow_generator_event_time_seconds",
            "Event time of the latest transaction sent (Unix seconds).",
            registry=self.registry,
        )

    def serve(self, host: str, port: int) -> None:
        """Serve ``/metrics`` on host:port (port 0 disables it)."""
        if port:
            start_http_server(port, addr=host, registry=self.registry)
