"""Prometheus metrics of the ingestor (served on ``/metrics``, port 9103 by default)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One registry per ingestor, so tests can run several side by side."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rows = Counter(
            "streamflow_ingestor_rows_total",
            "Records handled, by topic and outcome (inserted, duplicate, dead_letter, spooled: "
            "a dead letter the database refused, kept in the spool file); "
            "rate() gives rows/s per topic.",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "streamflow_ingestor_consumer_lag",
            "Records between the partition end (last stable offset) and the committed offset.",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.batch_latency = Histogram(
            "streamflow_ingestor_batch_seconds",
            "Time to write one batch to PostgreSQL and commit its offsets.",
            ["topic"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "streamflow_ingestor_batch_records",
            "Records per batch.",
            ["topic"],
            buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000),
            registry=self.registry,
        )
        self.errors = Counter(
            "streamflow_ingestor_errors_total",
            "Errors by topic and kind (database_retry, commit_failed, agent_crash).",
            ["topic", "kind"],
            registry=self.registry,
        )
        self.paused = Gauge(
            "streamflow_ingestor_paused",
            "1 while an agent has paused consumption (its write queue is full).",
            ["topic"],
            registry=self.registry,
        )
