#!/usr/bin/env bash
# make bench: run every component benchmark that exists, then the end-to-end one, then merge the
# results into bench/results/latest.json and docs/benchmarks.md. A failing benchmark is reported
# and its figure stays null; the run still writes what was measured. Exit 1 if any failed.
# Before each component the 1-minute load average is checked (bench/load_gate.py): above 1.0 it
# waits up to 5 minutes, then runs anyway; the result records that load ("load_gate") and
# whether it was "loaded" (aggregate.py then keeps the last unloaded headline figure).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
scripts/infra/up.sh || exit 1
failed=()
gate=$(mktemp)
trap 'rm -f "$gate"' EXIT
run() {  # run NAME CMD...
  local name=$1
  shift
  [ -f "bench/$name.py" ] || { echo "==> bench $name: not present, skipped"; return; }
  "${py_main[@]}" bench/load_gate.py wait >"$gate" || echo '{}' >"$gate"
  echo "==> bench $name (load gate: $(cat "$gate"))"
  if ! "$@" "bench/$name.py"; then
    echo "==> bench $name FAILED" >&2
    failed+=("$name")
  else
    "${py_main[@]}" bench/load_gate.py stamp "bench/results/$name.json" "$gate" || true
  fi
}
py_main=(scripts/uv.sh run python)
py_flink=(env "PATH=$REPO/services/fraud-scorer/.venv/bin:$PATH" "$REPO/services/fraud-scorer/.venv/bin/python")
run generator "${py_main[@]}"
run scorer_core "${py_main[@]}"
run scorer_flink "${py_flink[@]}"
run ingestor "${py_main[@]}"
# The reference ladder (docs/adr/0081): scorer rungs in the PyFlink env, ingestor rungs here.
run ladder "${py_main[@]}"
run alert_api "${py_main[@]}"
run dbt_incremental "${py_main[@]}"
run e2e "${py_main[@]}"
scripts/uv.sh run python bench/aggregate.py
if [ ${#failed[@]} -gt 0 ]; then
  echo "benchmarks that failed: ${failed[*]}" >&2
  exit 1
fi
