#!/usr/bin/env bash
# make bench: run every component benchmark that exists, then the end-to-end one, then merge the
# results into bench/results/latest.json and docs/benchmarks.md. A failing benchmark is reported
# and its figure stays null; the run still writes what was measured. Exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
scripts/infra/up.sh || exit 1
failed=()
run() {  # run NAME CMD...
  local name=$1
  shift
  [ -f "bench/$name.py" ] || { echo "==> bench $name: not present, skipped"; return; }
  echo "==> bench $name"
  if ! "$@" "bench/$name.py"; then
    echo "==> bench $name FAILED" >&2
    failed+=("$name")
  fi
}
py_main=(scripts/uv.sh run python)
py_flink=(env "PATH=$REPO/flink_jobs/.venv/bin:$PATH" "$REPO/flink_jobs/.venv/bin/python")
run generator "${py_main[@]}"
run scorer_core "${py_main[@]}"
run scorer_flink "${py_flink[@]}"
run ingestor "${py_main[@]}"
run alert_api "${py_main[@]}"
run dbt_incremental "${py_main[@]}"
run e2e "${py_main[@]}"
scripts/uv.sh run python bench/aggregate.py
if [ ${#failed[@]} -gt 0 ]; then
  echo "benchmarks that failed: ${failed[*]}" >&2
  exit 1
fi
