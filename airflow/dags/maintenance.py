"""maintenance (daily): bronze retention, VACUUM/ANALYZE, dead-letter summary.

Retention days come from ``STREAMFLOW_BRONZE_RETENTION_DAYS`` (default 30), read when the task
runs, not when the file is parsed.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

from airflow.sdk import DAG, task

from streamflow.orchestration import maintenance as ops
from streamflow.orchestration.alerts import on_failure
from streamflow.orchestration.config import pg_dsn

with DAG(
    dag_id="maintenance",
    description="bronze retention, VACUUM/ANALYZE, dead-letter summary",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": on_failure,
    },
    tags=["streamflow", "maintenance"],
) as dag:

    @task
    def bronze_retention() -> dict[str, int]:
        days = int(os.environ.get("STREAMFLOW_BRONZE_RETENTION_DAYS", "30"))
        return ops.apply_retention(pg_dsn(), days)

    @task
    def vacuum_analyze() -> int:
        return len(ops.vacuum_analyze(pg_dsn()))

    @task
    def dead_letter_summary(ds: str | None = None) -> list[tuple[str, str, int]]:
        day = date.fromisoformat(ds) if ds else datetime.now(UTC).date()
        return ops.summarise_dead_letters(pg_dsn(), day)

    bronze_retention() >> vacuum_analyze() >> dead_letter_summary()
