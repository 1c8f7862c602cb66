#!/usr/bin/env bash
# Start/stop a streaming generator (labelled transactions -> Kafka) in the background.
#   scripts/services/generator.sh start [generator flags...]   e.g. start --rate 500 --count 1000000
#   scripts/services/generator.sh stop|status
# Without flags it streams 1,000,000 transactions at 500/s (--seed 42). Settings come from the
# environment (STREAMFLOW_GENERATOR_*, STREAMFLOW_KAFKA_*, STREAMFLOW_PG_*). Output (progress lines
# and the final JSON summary) goes to .local/logs/generator.out; the pid file is
# .local/run/generator.pid, so `make down` stops it too. stop sends SIGTERM: the generator flushes
# every queued record and exits 0.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"
NAME=generator
METRICS_PORT="${STREAMFLOW_GENERATOR_METRICS_PORT:-9101}"

start() {
  if is_running "$NAME"; then
    log "$NAME already running (pid $(read_pid "$NAME"))"
    return 0
  fi
  require_port_free "$METRICS_PORT" "the generator's metrics" STREAMFLOW_GENERATOR_METRICS_PORT
  local args=("$@")
  ((${#args[@]})) || args=(--seed 42 --count 1000000 --rate 500)
  local pid
  pid="$(start_bg "$NAME" scripts/uv.sh run --no-sync streamflow-generate --metrics-port "$METRICS_PORT" "${args[@]}")"
  record_port "$NAME" "$METRICS_PORT"
  if ! wait_for_port 127.0.0.1 "$METRICS_PORT" 120 "$NAME" "$NAME"; then
    tail -n 30 "$LOG_DIR/$NAME.out" >&2 || true
    die "$NAME did not start; see $LOG_DIR/$NAME.out"
  fi
  log "$NAME running (pid $pid), metrics on 127.0.0.1:$METRICS_PORT/metrics, log $LOG_DIR/$NAME.out"
}

case "${1:-}" in
  start)
    shift
    start "$@"
    ;;
  stop) stop_pid "$NAME" 60 && log "$NAME stopped" ;;
  status)
    if is_running "$NAME"; then log "$NAME running (pid $(read_pid "$NAME"))"; else log "$NAME stopped"; fi
    ;;
  *) die "usage: $0 start [flags...]|stop|status" ;;
esac
