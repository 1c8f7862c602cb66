"""dbt_quality (every 15 minutes): source freshness, then every data and unit test.

The training examples' tests (tag ``training``) run where the model is built, in model_training.

A failure logs and publishes a warehouse alert event (ops.warehouse_alerts + pg_notify).
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import DAG
from cosmos.operators.local import DbtSourceLocalOperator, DbtTestLocalOperator

from streamflow.orchestration.alerts import on_failure
from streamflow.orchestration.config import warehouse_config
from streamflow.orchestration.cosmos_setup import partial_parse_cache, profile_config

cfg = warehouse_config()
common = {
    "project_dir": str(cfg.project_dir),
    "profile_config": profile_config(cfg),
    "dbt_executable_path": str(cfg.dbt_executable),
    "install_deps": False,
    "append_env": True,
    "emit_datasets": False,
    "env": {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
    "cache_dir": partial_parse_cache("dbt_quality"),
}

with DAG(
    dag_id="dbt_quality",
    description="source freshness + all dbt tests; alerts on failure",
    schedule="*/15 * * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0, "on_failure_callback": on_failure},
    tags=["streamflow", "dbt", "quality"],
) as dag:
    freshness = DbtSourceLocalOperator(task_id="source_freshness", **common)
    tests = DbtTestLocalOperator(task_id="dbt_test", exclude=["tag:training"], **common)
    freshness >> tests
