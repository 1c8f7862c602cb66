#!/usr/bin/env bash
# Setup step: make sure uv (the Python package/environment manager, pinned 0.13.9) is available.
# Installs it with pip into ~/.local when it is neither on PATH nor in ~/.local/bin.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
UV_VERSION=0.13.9
export PATH="$HOME/.local/bin:$PATH"

if command -v uv >/dev/null 2>&1; then
  step_log "uv present ($(command -v uv))"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || die "python3 is missing: install Python 3.11 first"
python3 -m pip --version >/dev/null 2>&1 \
  || die "pip is missing for python3 (Debian: apt-get install python3-pip), needed to install uv"
step_log "installing uv==$UV_VERSION with pip --user"
python3 -m pip install --quiet --user --disable-pip-version-check "uv==$UV_VERSION" \
  || python3 -m pip install --quiet --user --disable-pip-version-check --break-system-packages "uv==$UV_VERSION" \
  || die "could not install uv==$UV_VERSION from PyPI with pip"
command -v uv >/dev/null 2>&1 || die "uv was installed but is not on PATH (expected in ~/.local/bin)"
