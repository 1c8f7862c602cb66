#!/usr/bin/env bash
# make train ARGS="INPUT [--out models/anomaly-iforest.npz] ...": (re)train the anomaly model.
# Without an input file, generates a training file first (seed 7, 200k transactions, 30 days).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -eq 0 ]]; then
    mkdir -p .local/train
    input=.local/train/train-seed7.parquet
    if [[ ! -f "$input" ]]; then
        make --no-print-directory generate ARGS="--seed 7 --count 200000 --days 30 --labelled-out $input"
    fi
    set -- "$input"
fi
exec scripts/uv.sh run python -m streamflow.scorer.train "$@"
