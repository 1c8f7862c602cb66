"""dbt_marts (when silver updates): snapshot, intermediate and gold marts, one task per model.

Scheduled on the SILVER asset that dbt_staging publishes; publishes GOLD when done.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from streamflow.orchestration.assets import GOLD, SILVER
from streamflow.orchestration.cosmos_setup import dbt_task_group, retrying_default_args

with DAG(
    dag_id="dbt_marts",
    description="silver -> gold: SCD2 snapshot, intermediate stats, dimensions, facts, aggregates",
    schedule=[SILVER],
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=retrying_default_args(),
    tags=["streamflow", "dbt", "gold"],
) as dag:
    marts = dbt_task_group(
        "marts", ["path:snapshots", "path:models/intermediate", "path:models/marts"]
    )
    gold_ready = EmptyOperator(task_id="gold_ready", outlets=[GOLD])
    marts >> gold_ready
