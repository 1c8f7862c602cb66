#!/usr/bin/env bash
# scripts/vendor_uplot.sh [VERSION]: vendor uPlot (the console's charting library, ADR 0102) from
# the npm registry into the alert API's package: static/uplot/{uPlot.iife.min.js, uPlot.min.css,
# LICENSE, VERSION}. Idempotent: when the files present are the pinned version with the recorded
# SHA-256 sums it does nothing and needs no network (setup runs it: scripts/setup.d/72-console-
# assets.sh). Otherwise `npm pack` fetches the tarball, whose sha512 must equal the pinned
# integrity. Nothing is fetched at run time; the wheel carries the files.
# Update: scripts/vendor_uplot.sh NEW_VERSION --pin prints the integrity to pin below; commit.
set -euo pipefail
cd "$(dirname "$0")/.."

PINNED_VERSION=1.6.32
PINNED_INTEGRITY="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="

version="${1:-$PINNED_VERSION}"
dest=services/alert-api/src/streamflow/alert_api/static/uplot
files=(dist/uPlot.iife.min.js dist/uPlot.min.css LICENSE)

sums() { (cd "$dest" && sha256sum uPlot.iife.min.js uPlot.min.css LICENSE); }

if [[ "${2:-}" == "--pin" ]]; then
  npm view "uplot@$version" dist.integrity
  exit 0
fi

if [[ "$version" == "$PINNED_VERSION" && -f "$dest/VERSION" ]] \
  && grep -qx "uplot $version from the npm registry (MIT, LICENSE beside this file)" "$dest/VERSION" \
  && sums 2>/dev/null | diff -q - <(sed -n 's/^sha256 //p' "$dest/VERSION") >/dev/null; then
  echo "uplot $version already vendored in $dest"
  exit 0
fi

[[ "$version" == "$PINNED_VERSION" ]] \
  || { echo "uplot $version is not the pinned $PINNED_VERSION: pin it in $0 first (--pin)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "npm is needed to vendor uplot (apt-get install npm)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "uplot@$version" >/dev/null)
tarball="$(ls "$work"/uplot-*.tgz)"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
[[ "$actual" == "$PINNED_INTEGRITY" ]] \
  || { echo "uplot $version tarball integrity $actual is not the pinned $PINNED_INTEGRITY" >&2; exit 1; }
tar xzf "$tarball" -C "$work"
mkdir -p "$dest"
for f in "${files[@]}"; do cp "$work/package/$f" "$dest/$(basename "$f")"; done
{
  echo "uplot $version from the npm registry (MIT, LICENSE beside this file)"
  echo "integrity $PINNED_INTEGRITY"
  echo "files: uPlot.iife.min.js uPlot.min.css LICENSE (unchanged)"
  echo "update: scripts/vendor_uplot.sh (ADR 0102)"
  sums | sed 's/^/sha256 /'
} >"$dest/VERSION"
echo "vendored uplot $version into $dest"
