#!/usr/bin/env bash
# Setup step: the warehouse environments, each its own uv project installed exactly from its
# committed lock: airflow/.venv (Airflow 3 + Cosmos + the streamflow.orchestration package) and
# envs/dbt/.venv (dbt-core 1.11 + dbt-postgres). Skipped when neither lock nor project changed.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

inputs=(airflow/uv.lock airflow/pyproject.toml envs/dbt/uv.lock envs/dbt/pyproject.toml)
hash="$(hash_inputs "${inputs[@]}")"
if stamp_ok warehouse-envs "$hash" && [[ -x airflow/.venv/bin/airflow && -x envs/dbt/.venv/bin/dbt ]]; then
  step_log "warehouse envs (airflow, dbt) up to date"
  exit 0
fi
for project in envs/dbt airflow; do
  step_log "syncing $project/.venv from $project/uv.lock"
  if ! out="$(scripts/uv.sh sync --frozen --project "$project" 2>&1)"; then
    echo "$out" >&2
    die "uv sync failed for $project: if $project/uv.lock is out of date, run 'scripts/uv.sh lock --project $project' and commit it"
  fi
done
stamp_write warehouse-envs "$hash"
