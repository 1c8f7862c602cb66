#!/usr/bin/env bash
# StreamFlow model registry: the MLflow tracking server (envs/mlflow/.venv) on loopback, its backend
# store a database of the local PostgreSQL, its artifacts (model files) served by the server itself
# from $LOCAL_DIR/mlflow/artifacts. One uvicorn worker, no job runner, no telemetry (docs/adr/0056).
# Usage: scripts/infra/mlflow.sh {start|stop|status}
#   start  idempotent (a second caller waits for the first under a lock): needs PostgreSQL running
#          (scripts/infra/up.sh mlflow starts both), creates the database once, waits for /health
#   stop   SIGTERM to the server's process group
#   status prints "running <pid>" / "stopped" (exit 0 / 3)
# Env: STREAMFLOW_MLFLOW_PORT (15000), STREAMFLOW_MLFLOW_DATABASE (mlflow),
#      STREAMFLOW_MLFLOW_START_TIMEOUT (180 s: the first start creates ~60 tables),
#      STREAMFLOW_MLFLOW_PG_USER (streamflow_mlflow) and STREAMFLOW_MLFLOW_PG_PASSWORD (default
#      STREAMFLOW_PG_PASSWORD): the server's own PostgreSQL role, as in K8s (docs/adr/0105). It
#      owns the registry's database and nothing else; the StreamFlow owner role creates both.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=mlflow
MLFLOW_HOME="$LOCAL_DIR/mlflow"
ARTIFACTS="$MLFLOW_HOME/artifacts"
BIN="$REPO/envs/mlflow/.venv/bin/mlflow"
DATABASE="${STREAMFLOW_MLFLOW_DATABASE:-mlflow}"
MLFLOW_PG_USER="${STREAMFLOW_MLFLOW_PG_USER:-streamflow_mlflow}"
MLFLOW_PG_PASSWORD="${STREAMFLOW_MLFLOW_PG_PASSWORD:-$STREAMFLOW_PG_PASSWORD}"
START_TIMEOUT="${STREAMFLOW_MLFLOW_START_TIMEOUT:-180}"
URL="http://$STREAMFLOW_HOST:$STREAMFLOW_MLFLOW_PORT"

# healthy: the server answers GET /health with 200 (plain bash: no curl needed).
healthy() {
  local line
  line="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/$STREAMFLOW_HOST/$STREAMFLOW_MLFLOW_PORT" || exit 1
    printf 'GET /health HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$STREAMFLOW_HOST" "$STREAMFLOW_MLFLOW_PORT" >&3
    timeout 5 head -n1 <&3
  )" || return 1
  [[ "$line" == *" 200 "* ]]
}

psql_bin() {
  command -v psql 2>/dev/null && return 0
  find /usr/lib/postgresql -path '*/bin/psql' 2>/dev/null | sort -V | tail -n1 | grep . \
    || die "psql not found: run 'make setup' (apt package 'postgresql')"
}
PSQL=""

# ensure_database: the registry's role (login, nothing else) and its database, which it owns. The
# StreamFlow owner role creates them (it may CREATEROLE and CREATEDB) and becomes a member of the
# registry's role, which it needs to hand the database over. A database an earlier start created
# under the owner role is handed over with its tables (their indexes and owned sequences follow).
# Values reach psql through the environment, never the command line (ps shows those).
ensure_database() {
  PGPASSWORD="$STREAMFLOW_PG_PASSWORD" _SF_DB="$DATABASE" _SF_ROLE="$MLFLOW_PG_USER" \
    _SF_PW="$MLFLOW_PG_PASSWORD" "$PSQL" -X -q -v ON_ERROR_STOP=1 \
    -h "$STREAMFLOW_PG_HOST" -p "$STREAMFLOW_PG_PORT" -U "$STREAMFLOW_PG_USER" \
    -d "$STREAMFLOW_PG_DATABASE" <<'SQL' >/dev/null || die "could not create role/database '$DATABASE' for MLflow"
\getenv db _SF_DB
\getenv role _SF_ROLE
\getenv pw _SF_PW
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD :'pw';
SELECT format('GRANT %I TO %I', :'role', current_user)
  WHERE NOT pg_has_role(current_user, :'role', 'member') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role')
  WHERE (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'db') <> :'role' \gexec
\connect :"db"
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              c.oid::regclass, :'role')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
    AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
    AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                                         WHERE d.classid = 'pg_class'::regclass
                                           AND d.objid = c.oid AND d.deptype IN ('a', 'i'))) \gexec
SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, :'role')
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
    AND t.typowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) \gexec
SQL
}

# adopt: our server running without its pid file (e.g. the file was removed) is reused.
adopt() {
  local owner parent
  for owner in $(port_pids "$STREAMFLOW_MLFLOW_PORT"); do
    parent="$(ps -o ppid= -p "$owner" 2>/dev/null | tr -d ' ')"
    for pid in "$owner" "$parent"; do
      if [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$BIN server"; then
        write_pid "$NAME" "$pid"
        return 0
      fi
    done
  done
  return 1
}

fail_start() {
  echo "[streamflow] mlflow: $1; last lines of $LOG_DIR/$NAME.out:" >&2
  tail -n 30 "$LOG_DIR/$NAME.out" >&2 2>/dev/null || true
  stop_pid "$NAME" 10
  exit 1
}

start_locked() {
  if pid="$(read_pid "$NAME")" || { adopt && pid="$(read_pid "$NAME")"; }; then
    local deadline=$((SECONDS + START_TIMEOUT))
    until healthy; do
      is_running "$NAME" || die "mlflow (pid $pid) exited while starting; see $LOG_DIR/$NAME.out"
      ((SECONDS < deadline)) || die "mlflow (pid $pid) not healthy within ${START_TIMEOUT}s"
      sleep 0.5
    done
    log "mlflow: already running (pid $pid) on $URL, reusing it"
    return 0
  fi
  [[ -x "$BIN" ]] || die "$BIN not found: run 'make setup' (scripts/setup.d/56-mlflow-env.sh)"
  PSQL="$(psql_bin)"
  "$(dirname "$PSQL")/pg_isready" -q -h "$STREAMFLOW_PG_HOST" -p "$STREAMFLOW_PG_PORT" -t 2 >/dev/null 2>&1 \
    || die "PostgreSQL is not reachable on $STREAMFLOW_PG_HOST:$STREAMFLOW_PG_PORT: 'scripts/infra/up.sh mlflow' starts it first"
  require_port_free "$STREAMFLOW_MLFLOW_PORT" "mlflow" STREAMFLOW_MLFLOW_PORT
  ensure_database
  mkdir -p "$ARTIFACTS"
  local t0=$SECONDS pid
  # The password reaches libpq through PGPASSWORD, never a command line (ps shows those).
  # MLflow's telemetry is off twice (its own switch and DO_NOT_TRACK, which it reads as "true");
  # its job runner (GenAI evaluation jobs, seven huey consumers, ~790 MB) is not started.
  # 9>&-: the server must not inherit (and so hold for ever) the start lock.
  pid="$(
    PGPASSWORD="$MLFLOW_PG_PASSWORD" \
      MLFLOW_BACKEND_STORE_URI="postgresql+psycopg://$MLFLOW_PG_USER@$STREAMFLOW_PG_HOST:$STREAMFLOW_PG_PORT/$DATABASE" \
      MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
      start_bg "$NAME" "$BIN" server --host "$STREAMFLOW_HOST" --port "$STREAMFLOW_MLFLOW_PORT" \
      --workers 1 --artifacts-destination "$ARTIFACTS" 9>&-
  )"
  record_port "$NAME" "$STREAMFLOW_MLFLOW_PORT"
  log "mlflow: starting (pid $pid), waiting up to ${START_TIMEOUT}s"
  local deadline=$((SECONDS + START_TIMEOUT))
  until healthy; do
    is_running "$NAME" || fail_start "the server exited"
    ((SECONDS < deadline)) || fail_start "not healthy within ${START_TIMEOUT}s"
    sleep 0.5
  done
  log "mlflow: ready on $URL (database $DATABASE as $MLFLOW_PG_USER, artifacts $ARTIFACTS) in $((SECONDS - t0))s"
}

start() {
  mkdir -p "$RUN_DIR"
  # Test sessions and `make up` may start it at the same moment: one starts, the others wait.
  exec 9>"$RUN_DIR/$NAME.lock"
  flock -w "$((START_TIMEOUT + 30))" 9 || die "mlflow: another start still holds $RUN_DIR/$NAME.lock"
  start_locked
}

stop() {
  if pid="$(read_pid "$NAME")"; then
    log "mlflow: stopping (pid $pid)"
    stop_pid "$NAME" 20
  fi
}

status() { pid_status "$NAME"; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 {start|stop|status}" ;;
esac
