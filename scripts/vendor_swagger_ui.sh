#!/usr/bin/env bash
# scripts/vendor_swagger_ui.sh VERSION: replace the alert API's vendored Swagger UI with
# swagger-ui-dist VERSION from the npm registry (ADR 0091). Run by hand, then commit the files;
# nothing is fetched at build or run time.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/vendor_swagger_ui.sh VERSION (e.g. 5.35.0)}"
dest=services/alert-api/src/streamflow/alert_api/static/swagger-ui
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
integrity="$(npm view "swagger-ui-dist@$version" dist.integrity)"
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf ./*.tgz)
files=(swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE)
for f in "${files[@]}"; do cp "$work/package/$f" "$dest/$f"; done
cat >"$dest/VERSION" <<VERSION
swagger-ui-dist $version from the npm registry (Apache-2.0, LICENSE and NOTICE beside this file)
integrity $integrity
files: ${files[*]} (unchanged)
update: scripts/vendor_swagger_ui.sh VERSION (ADR 0091)
VERSION
echo "vendored swagger-ui-dist $version into $dest"
