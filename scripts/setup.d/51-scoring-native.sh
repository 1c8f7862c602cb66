#!/usr/bin/env bash
# Setup step: the scoring core's per-event modules compiled with mypyc into the PyFlink env
# (scripts/build/scoring_native.py, docs/adr/0123). Skipped when the sources are unchanged and a
# fresh interpreter of that env loads the build; the main env always runs them as plain Python.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

need_cmd gcc "gcc is missing: mypyc compiles C (Debian: build-essential)."
py=services/fraud-scorer/.venv/bin/python
mapfile -t sources < <(find packages/scoring/src packages/events/src -name '*.py' | sort)
hash="$(hash_inputs "${sources[@]}" scripts/build/scoring_native.py services/fraud-scorer/uv.lock)"
if stamp_ok scoring-native "$hash" \
  && "$py" -c 'import streamflow.scoring as s; raise SystemExit(not s.COMPILED)' 2>/dev/null; then
  step_log "compiled scoring modules up to date"
  exit 0
fi
step_log "compiling the scoring modules with mypyc (about 20 s)"
"$py" scripts/build/scoring_native.py || die "could not compile the scoring modules (see above)"
stamp_write scoring-native "$hash"
