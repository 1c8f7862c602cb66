#!/usr/bin/env bash
# Runs uv from wherever setup installed it, with caches outside the clone.
set -euo pipefail
export PATH="$HOME/.local/bin:$PATH"
exec uv "$@"
