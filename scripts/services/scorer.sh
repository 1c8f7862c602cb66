#!/usr/bin/env bash
# Start/stop the fraud-scoring PyFlink job (local MiniCluster) in the background.
#   scripts/services/scorer.sh start|stop|restart|status
# The job resumes from the newest retained checkpoint (STREAMFLOW_SCORER_RESTORE=none to start
# fresh). Output goes to .local/logs/scorer.out; the pid file is .local/run/scorer.pid, so
# `make down` stops it too.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"
NAME=scorer

start() {
  require_java
  [[ -x services/fraud-scorer/.venv/bin/python ]] \
    || die "the scorer's PyFlink environment is missing: run 'make setup'"
  if is_running "$NAME"; then
    log "$NAME already running (pid $(read_pid "$NAME"))"
    return 0
  fi
  local pid
  # the committed starter model is current until the learning loop delivers one (ADR 0063)
  export STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH="${STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH-$REPO/models/fraud-gbdt.npz}"
  pid="$(start_bg "$NAME" scripts/uv.sh run --no-sync streamflow-scorer run)"
  # Fail fast on a bad setting or a missing connector (the job exits within seconds); after that
  # the MiniCluster keeps running (start-up takes ~20-40 s on 2 cores, see the log).
  sleep 8
  if ! is_running "$NAME"; then
    tail -n 30 "$LOG_DIR/$NAME.out" >&2 || true
    die "$NAME exited during start-up; see $LOG_DIR/$NAME.out"
  fi
  log "$NAME running (pid $pid), log $LOG_DIR/$NAME.out"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid "$NAME" 30 && log "$NAME stopped" ;;
  restart)
    stop_pid "$NAME" 30
    start
    ;;
  status)
    if is_running "$NAME"; then log "$NAME running (pid $(read_pid "$NAME"))"; else log "$NAME stopped"; fi
    ;;
  *) die "usage: $0 start|stop|restart|status" ;;
esac
