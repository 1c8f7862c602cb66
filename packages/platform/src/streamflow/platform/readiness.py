"""Wait for Kafka, PostgreSQL and HTTP services with a deadline, with an actionable message."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import psycopg
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from streamflow.platform.settings import KafkaSettings, PostgresSettings


class NotReadyError(RuntimeError):
    """A dependency did not become ready before the deadline."""


def wait_for_kafka(kafka: KafkaSettings, timeout_s: float = 30.0) -> None:
    """Return once the cluster answers a metadata request."""
    deadline = time.monotonic() + timeout_s
    admin = AdminClient({**kafka.client_config(), "socket.connection.setup.timeout.ms": 2000})
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            admin.list_topics(timeout=min(5.0, max(0.5, deadline - time.monotonic())))
            return
        except KafkaException as exc:
            last = str(exc)
            time.sleep(0.5)
    raise NotReadyError(
        f"Kafka at {kafka.bootstrap_servers} not ready after {timeout_s:.0f}s ({last}); "
        "is it running (make up) and is STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS right?"
    )


def wait_for_postgres(pg: PostgresSettings, timeout_s: float = 30.0) -> None:
    """Return once a connection succeeds and answers ``select 1``."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(pg.dsn(), connect_timeout=2) as conn:
                conn.execute("select 1")
            return
        except psycopg.OperationalError as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            time.sleep(0.5)
    raise NotReadyError(
        f"PostgreSQL at {pg.host}:{pg.port}/{pg.database} not ready after {timeout_s:.0f}s "
        f"({last}); is it running (make up) and are the STREAMFLOW_PG_* settings right?"
    )


def wait_for_http(url: str, timeout_s: float = 30.0) -> None:
    """Return once ``url`` answers a GET with status 200 (e.g. MLflow's ``/health``)."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        time.sleep(0.5)
    raise NotReadyError(
        f"{url} not ready after {timeout_s:.0f}s ({last}); is it running (make up)?"
    )
