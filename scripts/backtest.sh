#!/usr/bin/env bash
# make backtest INPUT=file OUT=report.json ARGS="...": replay a labelled file through the scoring core.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 2 || -z "$1" || -z "$2" ]]; then
    echo "usage: make backtest INPUT=labelled.parquet OUT=report.json [ARGS=\"--compare r.yaml ...\"]" >&2
    exit 2
fi
input="$1" out="$2"
shift 2
exec scripts/uv.sh run python -m streamflow.lab.backtest "$input" --out "$out" "$@"
