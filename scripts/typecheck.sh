#!/usr/bin/env bash
# mypy --strict (config in pyproject.toml) over every Python tree the main environment can see.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(packages services flink_jobs/src flink_jobs/tests tests conftest.py)
for extra in scripts/k8s scripts/pipeline bench airflow/dags airflow/tests; do
  [ -d "$extra" ] && targets+=("$extra")
done
exec scripts/uv.sh run mypy "${targets[@]}"
