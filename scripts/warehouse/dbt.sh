#!/usr/bin/env bash
# Run dbt from its own environment against the STREAMFLOW_PG_* database:
#   scripts/warehouse/dbt.sh build | parse | docs generate | source freshness ...
set -euo pipefail
# shellcheck source=scripts/warehouse/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$STREAMFLOW_DBT_PROJECT_DIR"
exec "$WAREHOUSE_DBT" "$@"
