#!/usr/bin/env bash
# Setup step: the scorer's PyFlink environment (services/fraud-scorer/.venv: its own uv project,
# outside the root workspace, with apache-flink pinned), installed exactly from
# services/fraud-scorer/uv.lock; an out-of-date lock fails loudly.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

inputs=(services/fraud-scorer/uv.lock services/fraud-scorer/pyproject.toml packages/*/pyproject.toml
  services/fraud-lab/pyproject.toml)
hash="$(hash_inputs "${inputs[@]}")"

# The local MiniCluster loads no plugins: Flink's Prometheus reporter must be on the gateway JVM's
# classpath (PyFlink's lib/) or the scorer exports no metrics ("reporter factory ... could not be
# found"). The image uses the plugin directory of the official Flink image instead.
reporter_on_classpath() {
  local pyflink jar
  pyflink="$(ls -d services/fraud-scorer/.venv/lib/python3*/site-packages/pyflink 2>/dev/null | head -n1)"
  [[ -n "$pyflink" ]] || return 0
  for jar in "$pyflink"/plugins/metrics-prometheus/flink-metrics-prometheus-*.jar; do
    [[ -f "$jar" ]] || continue
    cmp -s "$jar" "$pyflink/lib/$(basename "$jar")" || cp "$jar" "$pyflink/lib/"
  done
}

if stamp_ok python-flink "$hash" && [[ -x services/fraud-scorer/.venv/bin/python ]]; then
  reporter_on_classpath
  step_log "flink env up to date"
  exit 0
fi
step_log "syncing the PyFlink env from services/fraud-scorer/uv.lock"
if ! out="$(scripts/uv.sh sync --locked --project services/fraud-scorer 2>&1)"; then
  echo "$out" >&2
  die "uv sync failed for services/fraud-scorer: if services/fraud-scorer/uv.lock is out of date, run 'scripts/uv.sh lock --project services/fraud-scorer' and commit it"
fi
stamp_write python-flink "$hash"
reporter_on_classpath
