#!/usr/bin/env bash
# Setup step: the PyFlink environment (flink_jobs/.venv, its own uv project with apache-flink
# pinned), installed exactly from flink_jobs/uv.lock; an out-of-date lock fails loudly.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

inputs=(flink_jobs/uv.lock flink_jobs/pyproject.toml packages/events/pyproject.toml
  services/fraud-scorer/pyproject.toml)
hash="$(hash_inputs "${inputs[@]}")"
if stamp_ok python-flink "$hash" && [[ -x flink_jobs/.venv/bin/python ]]; then
  step_log "flink env up to date"
  exit 0
fi
step_log "syncing the PyFlink env from flink_jobs/uv.lock"
if ! out="$(scripts/uv.sh sync --locked --project flink_jobs 2>&1)"; then
  echo "$out" >&2
  die "uv sync failed for flink_jobs: if flink_jobs/uv.lock is out of date, run 'scripts/uv.sh lock --project flink_jobs' and commit it"
fi
stamp_write python-flink "$hash"
