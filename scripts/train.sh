#!/usr/bin/env bash
# make train ARGS="[iforest] INPUT [--out models/anomaly-iforest.npz] ...": the anomaly model.
# make train ARGS="gbdt [INPUT] [--train-window 28d] [--feedback-delay 7d] [--eval-days 7]
#   [--margin 0.01] [--max-alerts-per-1000 30] [--registry URL] ...": the supervised model, recorded
#   in the MLflow registry and promoted by the gate (docs/adr/0056); the registry must be up (make up).
# Without an input file, a training file is generated first: for the anomaly model the seed-7 file
# (200k transactions, 30 days), for the supervised one the seed-7 learning-scenario file (200k, 60 days).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local/train

# generated NAME GENERATOR_ARGS...: the path of a generated training file (made once).
generated() {
    local input=".local/train/$1.parquet"
    shift
    if [[ ! -f "$input" ]]; then
        make --no-print-directory generate ARGS="$* --labelled-out $input" >&2
    fi
    echo "$input"
}

kind=iforest
if [[ "${1:-}" == iforest || "${1:-}" == gbdt ]]; then
    kind="$1"
    shift
fi
if [[ " $* " != *" -h "* && " $* " != *" --help "* ]] && [[ $# -eq 0 || "$1" == --* ]]; then
    if [[ "$kind" == gbdt ]]; then
        input="$(generated learning-seed7 --seed 7 --count 200000 --days 60 --scenarios learning \
            --no-seed-reference --quiet)"
    else
        input="$(generated train-seed7 --seed 7 --count 200000 --days 30)"
    fi
    set -- "$input" "$@"
fi
exec scripts/uv.sh run python -m streamflow.lab.train "$kind" "$@"
