#!/usr/bin/env bash
# Setup step: the console's charting library (uPlot, ADR 0102) vendored into the alert API's
# package. scripts/vendor_uplot.sh is idempotent: no network when the pinned files are present.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
step_log "$("$REPO/scripts/vendor_uplot.sh")"
