"""dbt_marts (when silver updates): snapshot, intermediate and gold marts, one task per model.

Scheduled on the SILVER asset that dbt_staging publishes; publishes GOLD when done.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from cosmos import DbtTaskGroup

from streamflow.orchestration.alerts import on_failure
from streamflow.orchestration.assets import GOLD, SILVER
from streamflow.orchestration.cosmos_setup import (
    execution_config,
    profile_config,
    project_config,
    render_config,
)

with DAG(
    dag_id="dbt_marts",
    description="silver -> gold: SCD2 snapshot, intermediate stats, dimensions, facts, aggregates",
    schedule=[SILVER],
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 1,
        "retry_delay": timedelta(minutes=2),
        "on_failure_callback": on_failure,
    },
    tags=["streamflow", "dbt", "gold"],
) as dag:
    marts = DbtTaskGroup(
        group_id="marts",
        project_config=project_config(),
        profile_config=profile_config(),
        execution_config=execution_config(),
        render_config=render_config(
            ["path:snapshots", "path:models/intermediate", "path:models/marts"]
        ),
        operator_args={"append_env": True},
    )
    gold_ready = EmptyOperator(task_id="gold_ready", outlets=[GOLD])
    marts >> gold_ready
