#!/usr/bin/env bash
# make rules ARGS="show|diff FILE|publish FILE": inspect and publish rule sets on fraud.rules.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/uv.sh run python -m streamflow.lab.rules_cli "$@"
