#!/usr/bin/env bash
# All tests with coverage: the main environment's suites, then the scorer's (its own PyFlink
# environment, services/fraud-scorer/.venv), then any
# Airflow-environment suite; coverage from both Python environments lands in one data file and must
# reach 85% (checked once, on the combined report). Each suite ends with its slowest tests
# (--durations): what to look at when make test nears its 30-minute budget.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export STREAMFLOW_LOCAL_DIR="${STREAMFLOW_LOCAL_DIR:-$REPO/.local}"
export COVERAGE_RCFILE="$REPO/pyproject.toml"
export COVERAGE_FILE="$STREAMFLOW_LOCAL_DIR/coverage/.coverage"
mkdir -p "$STREAMFLOW_LOCAL_DIR/coverage"
rm -f "$STREAMFLOW_LOCAL_DIR"/coverage/.coverage*

echo "==> starting local infrastructure (reuses running instances)"
scripts/infra/up.sh

echo "==> main environment tests"
main_dirs=(packages services tests)
# The scorer's tests need PyFlink: they run in its own environment below.
scripts/uv.sh run pytest -m "not slow" --cov --cov-report= --cov-fail-under=0 -p no:cacheprovider \
  --durations=25 --ignore=services/fraud-scorer "${main_dirs[@]}" "$@"

if [ -x services/fraud-scorer/.venv/bin/python ]; then
  # The scoring core's tests again, against the compiled build the job runs (docs/adr/0123).
  echo "==> scorer (PyFlink environment) tests"
  PATH="$REPO/services/fraud-scorer/.venv/bin:$PATH" VIRTUAL_ENV="$REPO/services/fraud-scorer/.venv" \
    services/fraud-scorer/.venv/bin/python -m pytest -m "not slow" --cov --cov-append --cov-report= \
    --cov-fail-under=0 -p no:cacheprovider --durations=15 \
    --rootdir "$REPO" -c "$REPO/pyproject.toml" services/fraud-scorer/tests packages/scoring/tests
fi

if [ -d airflow/tests ] && [ -x airflow/.venv/bin/python ]; then
  echo "==> Airflow environment tests"
  airflow/.venv/bin/python -m pytest -p no:cacheprovider --rootdir "$REPO" \
    -c "$REPO/pyproject.toml" -o addopts="" airflow/tests
fi

# pytest-cov combines each run into $COVERAGE_FILE itself; the PyFlink run appends to it.
echo "==> coverage (packages/, services/; fail under 85%)"
scripts/uv.sh run coverage report
