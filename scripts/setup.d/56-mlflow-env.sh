#!/usr/bin/env bash
# Setup step: the model registry's environment, envs/mlflow/.venv (the MLflow tracking server and
# SQLAlchemy's psycopg driver), installed exactly from its committed lock. Kept apart from the main
# environment, where mlflow would downgrade pyarrow (docs/adr/0056). Skipped when nothing changed.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

project=envs/mlflow
hash="$(hash_inputs "$project/uv.lock" "$project/pyproject.toml")"
if stamp_ok mlflow-env "$hash" && [[ -x "$project/.venv/bin/mlflow" ]]; then
  step_log "mlflow env up to date"
  exit 0
fi
step_log "syncing $project/.venv from $project/uv.lock"
if ! out="$(scripts/uv.sh sync --frozen --project "$project" 2>&1)"; then
  echo "$out" >&2
  die "uv sync failed for $project: if $project/uv.lock is out of date, run 'scripts/uv.sh lock --project $project' and commit it"
fi
stamp_write mlflow-env "$hash"
