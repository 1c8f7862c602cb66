#!/usr/bin/env bash
# Setup step: the console's charting library (uPlot, ADR 0102) vendored into the alert API's
# package. scripts/vendor_uplot.sh is idempotent: no network when the pinned files are present.
set -euo pipefail
"$(dirname "${BASH_SOURCE[0]}")/../vendor_uplot.sh" | sed 's/^/[setup] 72-console-assets   /'
