#!/usr/bin/env bash
# Deployment checks' tools: promtool (Debian package `prometheus`) for `promtool check rules`.
# Idempotent: does nothing when promtool is already on PATH; runs `apt-get update` only when it
# has to install. The package's maintainer scripts would start a Prometheus on :9090 (a port
# another target uses), so service starts are forbidden during the install and the service is
# stopped and disabled afterwards.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    # exit 101 = "action not allowed": invoke-rc.d then skips starting the service.
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 0755 "$policy"
    created_policy=1
fi
cleanup() {
    if [ "$created_policy" -eq 1 ]; then
        $SUDO rm -f "$policy"
    fi
}
trap cleanup EXIT

echo "setup: installing promtool (Debian package prometheus)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null

# Belt and braces: whatever the init system, leave no Prometheus listening.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
$SUDO service prometheus stop >/dev/null 2>&1 || true
if command -v update-rc.d >/dev/null 2>&1; then
    $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
fi

command -v promtool >/dev/null 2>&1 || { echo "setup: promtool missing after install" >&2; exit 1; }
