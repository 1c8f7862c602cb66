#!/usr/bin/env bash
# make replay: re-process into bronze, idempotently (rows already there are skipped).
#   make replay ARGS="dead-letters --since 2h [--topic NAME] [--dry-run]"
#   make replay ARGS="topic transactions.raw --from-offset 0 [--to-offset N] [--partition P]"
#   make replay ARGS="topic transactions.raw --from-time 2026-11-22T10:00:00Z"
# --since/--from-time take ISO 8601 times (naive = UTC) or 30m / 2h / 7d ago. Prints a JSON summary.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -eq 0 ]]; then
  exec scripts/uv.sh run --no-sync streamflow-ingestor replay --help
fi
exec scripts/uv.sh run --no-sync streamflow-ingestor replay "$@"
