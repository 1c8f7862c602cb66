#!/usr/bin/env bash
# Start/stop the ingestor (every topic -> PostgreSQL bronze) in the background.
#   scripts/services/ingestor.sh start|stop|restart|status
# Settings come from the environment (STREAMFLOW_INGESTOR_*, STREAMFLOW_KAFKA_*, STREAMFLOW_PG_*).
# Output (JSON log lines) goes to .local/logs/ingestor.out; the pid file is .local/run/ingestor.pid,
# so `make down` stops it too. stop sends SIGTERM: the ingestor drains, commits and exits.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"
NAME=ingestor
METRICS_PORT="${STREAMFLOW_INGESTOR_METRICS_PORT:-9103}"

ready() {  # /readyz answers 200
  local reply
  reply="$( (exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT" && printf 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n' >&3 && head -c 12 <&3) 2>/dev/null || true)"
  [[ "$reply" == "HTTP/1.1 200" ]]
}

start() {
  if is_running "$NAME"; then
    log "$NAME already running (pid $(read_pid "$NAME"))"
    return 0
  fi
  require_port_free "$METRICS_PORT" "the ingestor's metrics" STREAMFLOW_INGESTOR_METRICS_PORT
  local pid
  pid="$(start_bg "$NAME" scripts/uv.sh run --no-sync streamflow-ingestor run)"
  record_port "$NAME" "$METRICS_PORT"
  if ! wait_for_port 127.0.0.1 "$METRICS_PORT" 60 "$NAME" "$NAME"; then
    tail -n 30 "$LOG_DIR/$NAME.out" >&2 || true
    die "$NAME did not start; see $LOG_DIR/$NAME.out"
  fi
  local deadline=$((SECONDS + 90))
  until ready; do
    if ! is_running "$NAME" || ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_DIR/$NAME.out" >&2 || true
      die "$NAME not ready; see $LOG_DIR/$NAME.out"
    fi
    sleep 0.5
  done
  log "$NAME running (pid $pid), metrics/health on 127.0.0.1:$METRICS_PORT, log $LOG_DIR/$NAME.out"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid "$NAME" 45 && log "$NAME stopped" ;;
  restart)
    stop_pid "$NAME" 45
    start
    ;;
  status)
    if is_running "$NAME"; then log "$NAME running (pid $(read_pid "$NAME"))"; else log "$NAME stopped"; fi
    ;;
  *) die "usage: $0 start|stop|restart|status" ;;
esac
