#!/usr/bin/env bash
# Setup step: the main Python environment (.venv at the repo root: the whole uv workspace with the
# dev group), installed exactly from uv.lock. A lock that is out of date with the pyproject files
# fails loudly (uv sync --locked); it is never re-locked here: run `scripts/uv.sh lock` and commit.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

inputs=(uv.lock pyproject.toml packages/*/pyproject.toml services/*/pyproject.toml)
hash="$(hash_inputs "${inputs[@]}")"
if stamp_ok python-main "$hash" && [[ -x .venv/bin/python ]]; then
  step_log "main env up to date"
  exit 0
fi
step_log "syncing the main env from uv.lock"
if ! out="$(scripts/uv.sh sync --locked --all-packages 2>&1)"; then
  echo "$out" >&2
  die "uv sync --locked failed: if uv.lock is out of date, run 'scripts/uv.sh lock' and commit uv.lock"
fi
stamp_write python-main "$hash"
