#!/usr/bin/env bash
# Run the warehouse DAGs once, in order, as `airflow dags test` does (no scheduler needed):
# dbt_staging -> dbt_marts -> dbt_quality (and maintenance with --maintenance); `--dag NAME...`
# runs just those (e.g. `--dag model_training`: training examples, then train and gate).
# Each DAG's output goes to $AIRFLOW_HOME/dags-test-DAG.log. Airflow's metadata DB is SQLite under
# $AIRFLOW_HOME; dbt's manifest is (re)built first so DAGs render from it. Targets the
# STREAMFLOW_PG_* database (default: the local `streamflow`).
set -euo pipefail
# shellcheck source=scripts/warehouse/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$WAREHOUSE_REPO"

dags=(dbt_staging dbt_marts dbt_quality)
if [[ "${1:-}" == "--maintenance" ]]; then dags+=(maintenance); fi
if [[ "${1:-}" == "--dag" ]]; then shift; dags=("$@"); fi

echo "[warehouse] dbt parse (manifest for Cosmos rendering)"
# With the profile and target the tasks pass (Cosmos names both): dbt reparses everything when
# either differs from the parse that wrote partial_parse.msgpack, in the first task of each DAG.
(cd "$STREAMFLOW_DBT_PROJECT_DIR" \
  && "$WAREHOUSE_DBT" parse --quiet --profile streamflow --target "${STREAMFLOW_DBT_TARGET:-local}")

if [[ ! -f "$AIRFLOW_HOME/airflow.db" ]]; then
  echo "[warehouse] airflow db migrate (SQLite at $AIRFLOW_HOME)"
  "$WAREHOUSE_AIRFLOW" db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 \
    || { cat "$AIRFLOW_HOME/db-migrate.log" >&2; exit 1; }
fi

# `airflow dags test` for each DAG, in one Airflow process (run_dags.py, docs/adr/0132).
echo "[warehouse] airflow dags test ${dags[*]}"
"$WAREHOUSE_AIRFLOW_PY" "$WAREHOUSE_REPO/scripts/warehouse/run_dags.py" "$AIRFLOW_HOME" "${dags[@]}"
echo "[warehouse] ${dags[*]}: all succeeded"
