#!/usr/bin/env bash
# All tests with coverage: the main environment's suite and, at the same time, the scorer's (its own
# PyFlink environment, services/fraud-scorer/.venv), then any Airflow-environment suite. The two
# suites run side by side because the main one leaves the machine half idle (it mostly waits on
# Kafka, PostgreSQL, Flink and Airflow: ~53% of 2 cores on average) and the scorer's would
# otherwise add ~5 minutes at the end (docs/adr/0133). Each suite has its own coverage data and
# pytest temp root; the scorer suite's output follows the main one's. Coverage from both lands in
# one data file and must reach 85% (checked once, on the combined report). Each suite ends with
# its slowest tests (--durations): what to look at when make test nears its 30-minute budget.
# STREAMFLOW_TEST_SERIAL=1 runs the scorer suite after the main one instead.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export STREAMFLOW_LOCAL_DIR="${STREAMFLOW_LOCAL_DIR:-$REPO/.local}"
export COVERAGE_RCFILE="$REPO/pyproject.toml"
cov_dir="$STREAMFLOW_LOCAL_DIR/coverage"
rm -rf "$cov_dir"
mkdir -p "$cov_dir/main" "$cov_dir/scorer"

echo "==> starting local infrastructure (reuses running instances)"
scripts/infra/up.sh

scorer_pid=""
scorer_log="$cov_dir/scorer-suite.log"
scorer_tmp=""
cleanup() {
  if [[ -n "$scorer_pid" ]] && kill -0 "$scorer_pid" 2>/dev/null; then
    kill -- "-$scorer_pid" 2>/dev/null || kill "$scorer_pid" 2>/dev/null || true
  fi
  [[ -z "$scorer_tmp" ]] || rm -rf "$scorer_tmp"
}
trap cleanup EXIT

scorer_suite() {
  # The scoring core's tests run here again, against the compiled build the job runs (ADR 0123).
  COVERAGE_FILE="$cov_dir/scorer/.coverage" PYTEST_DEBUG_TEMPROOT="$scorer_tmp" \
    PATH="$REPO/services/fraud-scorer/.venv/bin:$PATH" VIRTUAL_ENV="$REPO/services/fraud-scorer/.venv" \
    services/fraud-scorer/.venv/bin/python -m pytest -m "not slow" --cov --cov-report= \
    --cov-fail-under=0 -p no:cacheprovider --durations=15 \
    --rootdir "$REPO" -c "$REPO/pyproject.toml" services/fraud-scorer/tests packages/scoring/tests
}
have_scorer=0
if [[ -x services/fraud-scorer/.venv/bin/python ]]; then
  have_scorer=1
  scorer_tmp="$(mktemp -d /tmp/sf-scorer.XXXXXX)"
fi
if ((have_scorer)) && [[ -z "${STREAMFLOW_TEST_SERIAL:-}" ]]; then
  echo "==> scorer (PyFlink environment) tests: started alongside, output in $scorer_log"
  set -m  # its own process group, so an early exit stops all of it
  scorer_suite >"$scorer_log" 2>&1 &
  scorer_pid=$!
  set +m
fi

echo "==> main environment tests"
main_dirs=(packages services tests)
# The scorer's tests need PyFlink: they run in its own environment.
main_rc=0
COVERAGE_FILE="$cov_dir/main/.coverage" scripts/uv.sh run pytest -m "not slow" --cov --cov-report= \
  --cov-fail-under=0 -p no:cacheprovider --durations=25 --ignore=services/fraud-scorer \
  "${main_dirs[@]}" "$@" || main_rc=$?

scorer_rc=0
if [[ -n "$scorer_pid" ]]; then
  wait "$scorer_pid" || scorer_rc=$?
  scorer_pid=""
  echo "==> scorer (PyFlink environment) tests (ran alongside the main suite)"
  cat "$scorer_log"
elif ((have_scorer)); then
  echo "==> scorer (PyFlink environment) tests"
  scorer_suite || scorer_rc=$?
fi
((main_rc == 0)) || { echo "main environment tests failed (exit $main_rc)" >&2; exit "$main_rc"; }
((scorer_rc == 0)) || { echo "scorer tests failed (exit $scorer_rc)" >&2; exit "$scorer_rc"; }

if [ -d airflow/tests ] && [ -x airflow/.venv/bin/python ]; then
  echo "==> Airflow environment tests"
  airflow/.venv/bin/python -m pytest -p no:cacheprovider --rootdir "$REPO" \
    -c "$REPO/pyproject.toml" -o addopts="" airflow/tests
fi

echo "==> coverage (packages/, services/; fail under 85%)"
export COVERAGE_FILE="$cov_dir/.coverage"
data=("$cov_dir/main/.coverage")
[[ -f "$cov_dir/scorer/.coverage" ]] && data+=("$cov_dir/scorer/.coverage")
scripts/uv.sh run coverage combine --quiet "${data[@]}"
scripts/uv.sh run coverage report
