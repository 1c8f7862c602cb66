"""dbt_staging (hourly): bronze -> silver, one Cosmos task per staging model (build = run + tests).

Tests that also read gold (tag ``gold``) are left to dbt_marts.

Publishes the SILVER asset when every staging model is built and tested, which triggers
dbt_marts. Rendering reads dbt's manifest: importing this file runs no dbt and touches no database.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from streamflow.orchestration.assets import SILVER
from streamflow.orchestration.cosmos_setup import dbt_task_group, retrying_default_args

with DAG(
    dag_id="dbt_staging",
    description="bronze -> silver: typed, validated, deduplicated staging models",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=retrying_default_args(),
    tags=["streamflow", "dbt", "silver"],
) as dag:
    staging = dbt_task_group("staging", ["path:models/staging"], exclude=["tag:gold"])
    silver_ready = EmptyOperator(task_id="silver_ready", outlets=[SILVER])
    staging >> silver_ready
