#!/usr/bin/env bash
# Run the warehouse DAGs once, in order, with `airflow dags test` (no scheduler needed):
# dbt_staging -> dbt_marts -> dbt_quality (and maintenance with --maintenance); `--dag NAME...`
# runs just those (e.g. `--dag model_training`: training examples, then train and gate).
# Airflow's metadata DB is SQLite under $AIRFLOW_HOME; dbt's manifest is (re)built first so DAGs
# render from it. Targets the STREAMFLOW_PG_* database (default: the local `streamflow`).
set -euo pipefail
# shellcheck source=scripts/warehouse/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$WAREHOUSE_REPO"

dags=(dbt_staging dbt_marts dbt_quality)
if [[ "${1:-}" == "--maintenance" ]]; then dags+=(maintenance); fi
if [[ "${1:-}" == "--dag" ]]; then shift; dags=("$@"); fi

echo "[warehouse] dbt parse (manifest for Cosmos rendering)"
(cd "$STREAMFLOW_DBT_PROJECT_DIR" && "$WAREHOUSE_DBT" parse --quiet)

if [[ ! -f "$AIRFLOW_HOME/airflow.db" ]]; then
  echo "[warehouse] airflow db migrate (SQLite at $AIRFLOW_HOME)"
  "$WAREHOUSE_AIRFLOW" db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 \
    || { cat "$AIRFLOW_HOME/db-migrate.log" >&2; exit 1; }
fi

for dag in "${dags[@]}"; do
  echo "[warehouse] airflow dags test $dag"
  log="$AIRFLOW_HOME/dags-test-$dag.log"
  # Airflow 3 `dags test` exits non-zero ("DagRun failed") when the run fails
  if ! "$WAREHOUSE_AIRFLOW" dags test "$dag" >"$log" 2>&1; then
    grep -v "Asset (Dataset) URI\|AssetModel" "$log" | tail -n 60 >&2
    echo "[warehouse] $dag failed (full log: $log)" >&2
    exit 1
  fi
done
echo "[warehouse] ${dags[*]}: all succeeded"
