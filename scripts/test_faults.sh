#!/usr/bin/env bash
# make test-faults: the long fault runs. First the slow-marked tests of every suite (e.g. the
# ingestor killed -9 three times during a 200k-event stream, PostgreSQL down for 30 s, the scorer
# killed mid-stream), then the long crash matrix one case at a time (tests/integration/
# test_crash_matrix.py over scripts/pipeline/fault_case.sh: broker kill -9, PostgreSQL
# -m immediate, scorer kill -9 during a checkpoint, scorer down past the checkpoint interval, a
# full disk under the database), then STREAMFLOW_FAULT_RUNS (default 3) end-to-end runs in a row,
# each ending with the exact per-stage accounting (scripts/pipeline/fault_run.sh).
# Every stage runs even if an earlier one failed (a failing slow test must not hide the end-to-end
# runs' verdicts); the summary at the end lists each stage's result and duration; exit 1 if any
# failed. STREAMFLOW_FAULT_SKIP_SLOW=1 runs the end-to-end runs only.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
scripts/infra/up.sh core || exit 1  # Kafka + PostgreSQL: no model registry needed
summary=()
failed=0
stage() {  # stage NAME CMD...: run one stage, note its verdict and duration
  local name="$1" started=$SECONDS rc=0
  shift
  echo "==> $name"
  "$@" || rc=$?
  # pytest exits 5 when a suite has no slow tests: nothing to run is not a failure.
  if [ "$rc" -eq 0 ] || { [ "$rc" -eq 5 ] && [[ "$name" == slow* ]]; }; then
    summary+=("passed  $(printf '%5ss' $((SECONDS - started)))  $name")
  else
    summary+=("FAILED  $(printf '%5ss' $((SECONDS - started)))  $name (exit $rc)")
    failed=1
  fi
}
if [ -z "${STREAMFLOW_FAULT_SKIP_SLOW:-}" ]; then
  stage "slow tests (main environment)" \
    scripts/uv.sh run pytest -m slow -p no:cacheprovider packages services tests \
    --ignore=services/fraud-scorer --deselect tests/integration/test_crash_matrix.py::test_crash_long
  # One stage per crash, so the summary shows each case's verdict and duration.
  for crash in broker-kill9 pg-immediate scorer-checkpoint scorer-down disk-full; do
    stage "slow crash matrix: $crash" scripts/uv.sh run pytest -m slow -p no:cacheprovider -s \
      "tests/integration/test_crash_matrix.py::test_crash_long[$crash]"
  done
  stage "slow tests (PyFlink environment)" \
    env "PATH=$REPO/services/fraud-scorer/.venv/bin:$PATH" services/fraud-scorer/.venv/bin/python \
    -m pytest -m slow \
    -p no:cacheprovider --rootdir "$REPO" -c "$REPO/pyproject.toml" services/fraud-scorer/tests
fi
for run in $(seq 1 "${STREAMFLOW_FAULT_RUNS:-3}"); do
  stage "end-to-end fault run $run" scripts/pipeline/fault_run.sh "$run"
done
echo
echo "test-faults summary:"
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "test-faults: FAILED" >&2
  exit 1
fi
echo "test-faults: all runs passed"
