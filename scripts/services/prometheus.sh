#!/usr/bin/env bash
# Local Prometheus (Debian package) scraping the StreamFlow services: start|stop|status.
# Data under $LOCAL_DIR/prometheus, listening on 127.0.0.1:$STREAMFLOW_PROMETHEUS_PORT only.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

name=prometheus
bin="${STREAMFLOW_PROMETHEUS_BIN:-/usr/bin/prometheus}"
case "${1:-status}" in
  start)
    if is_running "$name"; then
      log "prometheus: already running (pid $(read_pid "$name"))"
      exit 0
    fi
    [[ -x "$bin" ]] || die "prometheus not found at $bin: run 'make setup' (Debian package prometheus)"
    require_port_free "$STREAMFLOW_PROMETHEUS_PORT" prometheus
    mkdir -p "$LOCAL_DIR/prometheus/data"
    start_bg "$name" "$bin" \
      --config.file="$REPO/infra/prometheus/prometheus.yml" \
      --storage.tsdb.path="$LOCAL_DIR/prometheus/data" \
      --storage.tsdb.retention.time=2d \
      --web.listen-address="$STREAMFLOW_HOST:$STREAMFLOW_PROMETHEUS_PORT" >/dev/null
    record_port "$name" "$STREAMFLOW_PROMETHEUS_PORT"
    wait_for_port "$STREAMFLOW_HOST" "$STREAMFLOW_PROMETHEUS_PORT" 30 prometheus
    log "prometheus: http://$STREAMFLOW_HOST:$STREAMFLOW_PROMETHEUS_PORT"
    ;;
  stop) stop_pid "$name" ;;
  status)
    if is_running "$name"; then echo "prometheus running (pid $(read_pid "$name"))"; else echo "prometheus stopped"; fi
    ;;
  *) die "usage: $0 start|stop|status" ;;
esac
