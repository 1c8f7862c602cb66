#!/usr/bin/env bash
# StreamFlow `make down`: stop everything this project started, as tracked by the pid files under
# $LOCAL_DIR/run (services first, then Kafka, then PostgreSQL), then check that none of the
# project's ports (see streamflow_ports in lib.sh) is still held by a process we started.
# Never touches processes it did not start. Exit 1 naming the port if one is still held.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

here="$(dirname "${BASH_SOURCE[0]}")"
STOP_TIMEOUT="${STREAMFLOW_STOP_TIMEOUT:-20}"

# Remember every process we started (and its descendants) before stopping anything.
descendants() {
  local p
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$p"
    descendants "$p"
  done
}
ours=" "
for name in $(tracked_names); do
  if pid="$(read_pid "$name")"; then
    ours+="$pid $(descendants "$pid" | tr '\n' ' ') "
    [[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" == "$pid" ]] \
      && ours+="$(pgrep -g "$pid" | tr '\n' ' ') "
  fi
done

# Services (everything but kafka and postgres) first, in reverse name order.
for name in $(tracked_names | sort -r); do
  case "$name" in
    kafka | postgres) ;;
    *)
      log "stopping $name (pid $(read_pid "$name" || echo '?'))"
      stop_pid "$name" "$STOP_TIMEOUT"
      ;;
  esac
done
"$here/kafka.sh" stop
"$here/postgres.sh" stop

failed=0
for port in $(streamflow_ports); do
  port_listening "$port" || continue
  held_by_us=0
  for pid in $(port_pids "$port"); do
    [[ "$ours" == *" $pid "* ]] && held_by_us=1
  done
  if ((held_by_us)); then
    echo "[streamflow] error: port $port is still held by a process StreamFlow started: $(port_owner "$port")" >&2
    failed=1
  else
    log "note: port $port is in use by $(port_owner "$port"), which StreamFlow did not start; left alone"
  fi
done
((failed == 0)) || exit 1
log "down: everything StreamFlow started is stopped"
