#!/usr/bin/env bash
# StreamFlow `make setup`: install everything the project needs, idempotently, by running every
# step in scripts/setup.d/*.sh in name order (10-uv, 20-apt, 30-python-main, 40-jars, ...).
# Each step prints one short progress line and skips itself when its stamp under $LOCAL_DIR/stamps
# matches its inputs, so a no-op run takes well under two seconds. Works with CI=true, no stdin.
# Add a step: drop an executable-or-not NN-name.sh into scripts/setup.d (it is run with bash and
# may `source "$REPO/scripts/infra/lib.sh"` for step_log / stamp_ok / stamp_write / die).
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/infra/lib.sh"
export PATH="$HOME/.local/bin:$PATH"

t0=$(date +%s%N)
shopt -s nullglob
for step in "$REPO"/scripts/setup.d/*.sh; do
  name="$(basename "$step" .sh)"
  STREAMFLOW_SETUP_STEP="$name" bash "$step" </dev/null \
    || die "setup step $name failed (scripts/setup.d/$name.sh); fix the error above and re-run 'make setup'"
done
printf '[setup] done in %s ms\n' "$((($(date +%s%N) - t0) / 1000000))"
