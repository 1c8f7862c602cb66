"""Failure callback: log the failure and publish a warehouse alert event.

The event goes to ``ops.warehouse_alerts`` (durable) and is announced with
``pg_notify('warehouse_alerts', <json>)`` for live listeners. Publishing never raises: a callback
that fails would hide the original failure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import psycopg

from streamflow.orchestration.config import pg_dsn

log = logging.getLogger(__name__)
CHANNEL = "warehouse_alerts"


def alert_event(context: Mapping[str, Any]) -> dict[str, Any]:
    """The alert payload for a failed task instance (only plain, JSON-safe values)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or "unknown"
    task_id = getattr(ti, "task_id", None) or "unknown"
    exception = context.get("exception")
    return {
        "source": f"{dag_id}.{task_id}",
        "run_id": str(context.get("run_id") or getattr(ti, "run_id", "") or ""),
        "severity": "error",
        "message": f"{dag_id}.{task_id} failed: {exception!s}"[:2000],
        "details": {
            "dag_id": dag_id,
            "task_id": task_id,
            "try_number": getattr(ti, "try_number", None),
            "exception_type": type(exception).__name__ if exception is not None else None,
        },
    }


def publish(event: Mapping[str, Any], dsn: str | None = None) -> int | None:
    """Insert the event and notify listeners; returns its id, or None if PostgreSQL refused."""
    try:
        with psycopg.connect(dsn or pg_dsn(), connect_timeout=10) as conn:
            row = conn.execute(
                "insert into ops.warehouse_alerts (source, run_id, severity, message, details)"
                " values (%s, %s, %s, %s, %s) returning alert_id",
                (
                    event["source"],
                    event["run_id"],
                    event["severity"],
                    event["message"],
                    json.dumps(event["details"]),
                ),
            ).fetchone()
            alert_id = int(row[0]) if row else None
            payload = json.dumps({**event, "alert_id": alert_id})
            conn.execute("select pg_notify(%s, %s)", (CHANNEL, payload))
            return alert_id
    except psycopg.Error:
        log.exception("could not publish warehouse alert %s", event.get("source"))
        return None


def on_failure(context: Mapping[str, Any]) -> None:
    """Airflow ``on_failure_callback``: log the failure, then publish the alert event."""
    event = alert_event(context)
    log.error("warehouse task failed: %s", event["message"])
    publish(event)
