#!/usr/bin/env bash
# The alert API as a background service: start | stop | status | demo-key.
#   start     run `streamflow-alert-api` detached on $STREAMFLOW_API_HOST:$STREAMFLOW_API_PORT
#             (127.0.0.1:8000; Prometheus /metrics on $STREAMFLOW_API_METRICS_PORT, 9104), pid in
#             .local/run/alert-api.pid, log in .local/logs/alert-api.out; waits for /healthz.
#             Settings come from STREAMFLOW_API_* / STREAMFLOW_PG_* / ... env. The feedback outbox
#             relay runs inside the API (ADR 0057): nothing else to start or stop.
#   stop      stop it (make down does too, through the pid file).
#   demo-key  create an alerts:read+write key and write it to .local/demo-api-key (0600);
#             an existing file is kept, so re-running is a no-op.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

NAME=alert-api
UV="$REPO/scripts/uv.sh"
HOST="${STREAMFLOW_API_HOST:-$STREAMFLOW_HOST}"
PORT="$STREAMFLOW_API_PORT"
METRICS_PORT="${STREAMFLOW_API_METRICS_PORT:-9104}"
export STREAMFLOW_API_HOST="$HOST" STREAMFLOW_API_PORT="$PORT" STREAMFLOW_API_METRICS_PORT="$METRICS_PORT"

cmd_start() {
  if is_running "$NAME"; then
    log "$NAME: already running (pid $(read_pid "$NAME")) on $HOST:$PORT"
    return 0
  fi
  require_port_free "$PORT" "$NAME" STREAMFLOW_API_PORT
  if [[ "$METRICS_PORT" != 0 ]]; then
    require_port_free "$METRICS_PORT" "$NAME" STREAMFLOW_API_METRICS_PORT
  fi
  local pid
  pid="$(cd "$REPO" && start_bg "$NAME" "$UV" run --no-sync streamflow-alert-api)"
  record_port "$NAME" "$PORT"
  wait_for_port "$HOST" "$PORT" 60 "$NAME" "$NAME" \
    || die "$NAME did not start; see $LOG_DIR/$NAME.out"
  log "$NAME: running (pid $pid) on http://$HOST:$PORT (console: /console, docs: /docs;" \
    "metrics: http://$HOST:$METRICS_PORT/metrics)"
}

cmd_stop() {
  stop_pid "$NAME" 20
  log "$NAME: stopped"
}

cmd_status() {
  if is_running "$NAME"; then
    echo "$NAME running (pid $(read_pid "$NAME")) on $HOST:$PORT"
  else
    echo "$NAME stopped"
  fi
}

cmd_demo_key() {
  local out="$LOCAL_DIR/demo-api-key"
  if [[ -s "$out" ]]; then
    log "demo API key already in $out"
    return 0
  fi
  (cd "$REPO" && "$UV" run --no-sync python -m streamflow.alert_api.keys create \
    --name demo --scopes alerts:read,alerts:write,admin --out "$out")
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  demo-key) cmd_demo_key ;;
  *) die "usage: $0 start|stop|status|demo-key" ;;
esac
