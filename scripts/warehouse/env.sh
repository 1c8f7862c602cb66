#!/usr/bin/env bash
# Source me: the environment the warehouse scripts and tests run Airflow and dbt with.
# Airflow's metadata DB is SQLite under $AIRFLOW_HOME (default .local/airflow); dbt's connection
# and the maintenance DAG's come from the STREAMFLOW_PG_* variables (loopback defaults).
WAREHOUSE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$WAREHOUSE_REPO/.local/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$WAREHOUSE_REPO/airflow/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-2}"
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG="${AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG:-2}"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
export AIRFLOW__LOGGING__LOGGING_LEVEL="${AIRFLOW__LOGGING__LOGGING_LEVEL:-WARNING}"
export AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
export AIRFLOW__COSMOS__PROPAGATE_LOGS=False
export DO_NOT_TRACK=1
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
export DBT_PROFILES_DIR="$WAREHOUSE_REPO/dbt"
export STREAMFLOW_DBT_PROJECT_DIR="${STREAMFLOW_DBT_PROJECT_DIR:-$WAREHOUSE_REPO/dbt}"
export STREAMFLOW_DBT_EXECUTABLE="${STREAMFLOW_DBT_EXECUTABLE:-$WAREHOUSE_REPO/envs/dbt/.venv/bin/dbt}"
export WAREHOUSE_AIRFLOW="$WAREHOUSE_REPO/airflow/.venv/bin/airflow"
export WAREHOUSE_AIRFLOW_PY="$WAREHOUSE_REPO/airflow/.venv/bin/python"
export WAREHOUSE_DBT="$STREAMFLOW_DBT_EXECUTABLE"
mkdir -p "$AIRFLOW_HOME"
