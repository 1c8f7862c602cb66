#!/usr/bin/env bash
# Setup step: Debian's headless-capable Chromium for the analyst-console browser test (Playwright
# drives /usr/bin/chromium through executable_path; `playwright install` is never used because
# browser downloads are not available here). Installs only when missing; apt-get update only then.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

if command -v chromium >/dev/null 2>&1; then
  step_log "chromium present"
  exit 0
fi

step_log "installing chromium with apt-get"
sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 \
    || die "chromium is missing; run as root or install it: apt-get install chromium"
  sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
log_file="$(mktemp)"
if ! { "${sudo[@]}" apt-get update -q \
  && "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium fonts-liberation; } >"$log_file" 2>&1; then
  tail -n 30 "$log_file" >&2
  die "apt-get could not install chromium (output above)"
fi
rm -f "$log_file"
