#!/usr/bin/env bash
# Setup step: the deployment checks' Go tools, pinned and built from source with `go install`
# from the Go module proxy: kubeconform (schemas) and conftest (rego policies; docs/adr/0012).
# Each tool version is built once per machine into $GO_CACHE/bin/<tool>@<version>, with the Go
# module and build caches beside it (default ~/.cache/streamflow/go, outside the clone, so a fresh
# clone on the same machine only copies the binaries), then copied into $LOCAL_DIR/bin.
# Measured on 2 shared cores: 2-4 min cold (conftest is most of it), 0.06 s from the machine cache.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

# name, package, version, the variable its release builds stamp the version into, version flag
TOOLS=(
  "kubeconform github.com/yannh/kubeconform/cmd/kubeconform v0.8.0 main.version -v"
  "conftest github.com/open-policy-agent/conftest v0.71.1 github.com/open-policy-agent/conftest/internal/version.Version --version"
)
GO_CACHE="${STREAMFLOW_GO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/streamflow/go}"
BIN="$LOCAL_DIR/bin"

hash="$(hash_inputs "${TOOLS[@]}")"
if stamp_ok k8s-check-tools "$hash" && [[ -x "$BIN/kubeconform" && -x "$BIN/conftest" ]]; then
  step_log "kubeconform, conftest up to date"
  exit 0
fi

export PATH="$PATH:/usr/local/go/bin"
export GOPATH="$GO_CACHE" GOMODCACHE="$GO_CACHE/pkg/mod" GOCACHE="$GO_CACHE/build" CGO_ENABLED=0
mkdir -p "$BIN"
for spec in "${TOOLS[@]}"; do
  read -r name package version version_var version_flag <<<"$spec"
  cached="$GO_CACHE/bin/$name@$version/$name"
  if [[ ! -x "$cached" ]]; then
    need_cmd go "Go is missing: install Go >= 1.26 (https://go.dev/dl) to build $name $version."
    step_log "building $name $version with go install (first time on this machine: minutes)"
    t0=$SECONDS
    if ! out="$(GOBIN="$(dirname "$cached")" go install -trimpath \
      -ldflags "-s -w -X $version_var=$version" "$package@$version" 2>&1)"; then
      echo "$out" | tail -n 30 >&2
      die "could not build $name $version ($package) with $(go version); if Go is too old, install a newer one or set GOTOOLCHAIN=auto"
    fi
    step_log "built $name $version in $((SECONDS - t0)) s"
  fi
  install -m 0755 "$cached" "$BIN/$name"
  "$BIN/$name" "$version_flag" | grep -q "$version" || die "$BIN/$name does not report version $version"
done
stamp_write k8s-check-tools "$hash"
step_log "kubeconform, conftest in ${BIN#"$REPO"/}"
