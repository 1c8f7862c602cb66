#!/usr/bin/env bash
# StreamFlow `make status`: a small table of the local components (Kafka, PostgreSQL, the MLflow
# registry and every service tracked by a pid file under $LOCAL_DIR/run): component, port, state, pid.
# States: running (tracked process alive and its port open), starting (alive, port not open yet),
# stopped, foreign (not ours, but something else holds the port). Always exits 0.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

row() { printf '%-16s %-12s %-9s %s\n' "$@"; }

show() {  # show NAME PORTS
  local name="$1" ports="$2" pid state="stopped" p open=1 foreign=0
  for p in $ports; do
    port_open "$STREAMFLOW_HOST" "$p" || open=0
    port_listening "$p" && foreign=1
  done
  if pid="$(read_pid "$name")"; then
    state=running
    [[ -n "$ports" ]] && ((open == 0)) && state=starting
  else
    pid="-"
    ((foreign)) && state=foreign
  fi
  row "$name" "${ports:--}" "$state" "$pid"
}

row COMPONENT PORT STATE PID
show kafka "$STREAMFLOW_KAFKA_PORT $STREAMFLOW_KAFKA_CONTROLLER_PORT"
show postgres "$STREAMFLOW_PG_PORT"
show mlflow "$STREAMFLOW_MLFLOW_PORT"
for name in $(tracked_names); do
  case "$name" in
    kafka | postgres | mlflow) ;;
    *) show "$name" "$(cat "$RUN_DIR/$name.port" 2>/dev/null || true)" ;;
  esac
done
