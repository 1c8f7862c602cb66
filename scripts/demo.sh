#!/usr/bin/env bash
# make demo: start the local stack and run the demo, printing what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/infra/up.sh
exec scripts/uv.sh run python scripts/demo_smoke.py
