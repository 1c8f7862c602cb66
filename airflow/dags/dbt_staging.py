"""dbt_staging (hourly): bronze -> silver, one Cosmos task per staging model (build = run + tests).

Tests that also read gold (tag ``gold``) are left to dbt_marts.

Publishes the SILVER asset when every staging model is built and tested, which triggers
dbt_marts. Rendering reads dbt's manifest: importing this file runs no dbt and touches no database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from cosmos import DbtTaskGroup

from streamflow.orchestration.alerts import on_failure
from streamflow.orchestration.assets import SILVER
from streamflow.orchestration.cosmos_setup import (
    execution_config,
    profile_config,
    project_config,
    render_config,
)

with DAG(
    dag_id="dbt_staging",
    description="bronze -> silver: typed, validated, deduplicated staging models",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 1,
        "retry_delay": timedelta(minutes=2),
        "on_failure_callback": on_failure,
    },
    tags=["streamflow", "dbt", "silver"],
) as dag:
    staging = DbtTaskGroup(
        group_id="staging",
        project_config=project_config(),
        profile_config=profile_config(),
        execution_config=execution_config(),
        render_config=render_config(["path:models/staging"], exclude=["tag:gold"]),
        operator_args={"append_env": True},
    )
    silver_ready = EmptyOperator(task_id="silver_ready", outlets=[SILVER])
    staging >> silver_ready
