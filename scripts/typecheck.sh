#!/usr/bin/env bash
# mypy --strict (config in pyproject.toml) over every Python tree the main environment can see.
# Sources in one run; each member's tests/ dir in a run of its own, because test modules and
# conftest.py files share names across members (pytest imports them with importlib mode).
set -euo pipefail
cd "$(dirname "$0")/.."
sources=(packages/*/src services/*/src tests conftest.py)
for extra in scripts/k8s scripts/pipeline scripts/contracts bench airflow/src airflow/dags; do
  [ -d "$extra" ] && sources+=("$extra")
done
scripts/uv.sh run mypy "${sources[@]}"
for tests in packages/*/tests services/*/tests airflow/tests; do
  [ -d "$tests" ] || continue
  # the sources ride along so mypy resolves modules exactly as in the first run (cached: fast).
  # The scorer's tests import each other relatively (``from .conftest import ...``); the '-' in
  # services/fraud-scorer ends mypy's package walk, so that directory is named as their base.
  base=""
  [ "$tests" = services/fraud-scorer/tests ] && base=services/fraud-scorer
  MYPYPATH="$base" scripts/uv.sh run mypy packages/*/src services/*/src "$tests"
done
