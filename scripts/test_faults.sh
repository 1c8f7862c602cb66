#!/usr/bin/env bash
# make test-faults: the long fault runs. First the slow-marked tests of every suite (e.g. the
# ingestor killed -9 three times during a 200k-event stream, PostgreSQL down for 30 s, the scorer
# killed mid-stream), then STREAMFLOW_FAULT_RUNS (default 3) end-to-end runs in a row, each ending
# with the exact per-stage accounting (scripts/pipeline/fault_run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
scripts/infra/up.sh
echo "==> slow tests (main environment)"
scripts/uv.sh run pytest -m slow -p no:cacheprovider packages services tests || rc=$?
[ "${rc:-0}" -eq 0 ] || [ "${rc:-0}" -eq 5 ] || exit "$rc"
echo "==> slow tests (PyFlink environment)"
rc=0
PATH="$REPO/flink_jobs/.venv/bin:$PATH" flink_jobs/.venv/bin/python -m pytest -m slow \
  -p no:cacheprovider --rootdir "$REPO" -c "$REPO/pyproject.toml" flink_jobs/tests || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 5 ] || exit "$rc"
for run in $(seq 1 "${STREAMFLOW_FAULT_RUNS:-3}"); do
  echo "==> end-to-end fault run $run"
  scripts/pipeline/fault_run.sh "$run"
done
echo "test-faults: all runs passed"
