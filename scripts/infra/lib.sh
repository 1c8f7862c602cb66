# shellcheck shell=bash
# StreamFlow local infrastructure: shared bash helpers, sourced by scripts/infra/*.sh, scripts/setup.d
# and the service start scripts. Defines the repo/local paths, the loopback ports (all overridable
# by env), error/log helpers, port checks and pid-file process management under $LOCAL_DIR/run.
# Source it: `source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"` (it sets no shell options itself).

if [[ -n "${_STREAMFLOW_LIB_SH:-}" ]]; then return 0; fi
_STREAMFLOW_LIB_SH=1

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
LOCAL_DIR="${STREAMFLOW_LOCAL_DIR:-$REPO/.local}"
RUN_DIR="$LOCAL_DIR/run"
LOG_DIR="$LOCAL_DIR/logs"
STAMP_DIR="$LOCAL_DIR/stamps"
export REPO LOCAL_DIR RUN_DIR LOG_DIR STAMP_DIR

# Everything binds to and talks to loopback only. The defaults sit below Linux's ephemeral range
# (32768-60999), where an outgoing loopback connection can hold the port first (docs/adr/0137).
STREAMFLOW_HOST="${STREAMFLOW_HOST:-127.0.0.1}"
STREAMFLOW_KAFKA_PORT="${STREAMFLOW_KAFKA_PORT:-19092}"
STREAMFLOW_KAFKA_CONTROLLER_PORT="${STREAMFLOW_KAFKA_CONTROLLER_PORT:-19093}"
STREAMFLOW_PG_PORT="${STREAMFLOW_PG_PORT:-15432}"
STREAMFLOW_API_PORT="${STREAMFLOW_API_PORT:-8000}"
STREAMFLOW_FLINK_UI_PORT="${STREAMFLOW_FLINK_UI_PORT:-8081}"
STREAMFLOW_AIRFLOW_PORT="${STREAMFLOW_AIRFLOW_PORT:-8080}"
STREAMFLOW_PROMETHEUS_PORT="${STREAMFLOW_PROMETHEUS_PORT:-9090}"
# MLflow's default 5000 shifted like PostgreSQL's 5432 -> 15432 (docs/adr/0056, 0137).
STREAMFLOW_MLFLOW_PORT="${STREAMFLOW_MLFLOW_PORT:-15000}"
STREAMFLOW_METRICS_PORTS="${STREAMFLOW_METRICS_PORTS:-9101 9102 9103 9104}"
STREAMFLOW_PG_HOST="${STREAMFLOW_PG_HOST:-$STREAMFLOW_HOST}"
STREAMFLOW_PG_DATABASE="${STREAMFLOW_PG_DATABASE:-streamflow}"
STREAMFLOW_PG_USER="${STREAMFLOW_PG_USER:-streamflow}"
# The default password is for the local profile only; anything else must set the env var.
STREAMFLOW_PG_PASSWORD="${STREAMFLOW_PG_PASSWORD:-streamflow}"
STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS="${STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS:-$STREAMFLOW_HOST:$STREAMFLOW_KAFKA_PORT}"
export STREAMFLOW_HOST STREAMFLOW_KAFKA_PORT STREAMFLOW_KAFKA_CONTROLLER_PORT STREAMFLOW_PG_PORT \
  STREAMFLOW_API_PORT STREAMFLOW_FLINK_UI_PORT STREAMFLOW_AIRFLOW_PORT STREAMFLOW_PROMETHEUS_PORT \
  STREAMFLOW_MLFLOW_PORT STREAMFLOW_METRICS_PORTS STREAMFLOW_PG_HOST STREAMFLOW_PG_DATABASE \
  STREAMFLOW_PG_USER STREAMFLOW_PG_PASSWORD STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS

# Every port `make down` guarantees free (plus any in STREAMFLOW_EXTRA_PORTS).
streamflow_ports() {
  # shellcheck disable=SC2086
  echo "$STREAMFLOW_KAFKA_PORT" "$STREAMFLOW_KAFKA_CONTROLLER_PORT" "$STREAMFLOW_PG_PORT" \
    "$STREAMFLOW_API_PORT" "$STREAMFLOW_FLINK_UI_PORT" "$STREAMFLOW_AIRFLOW_PORT" \
    "$STREAMFLOW_PROMETHEUS_PORT" "$STREAMFLOW_MLFLOW_PORT" $STREAMFLOW_METRICS_PORTS \
    ${STREAMFLOW_EXTRA_PORTS:-}
}

log() { printf '[streamflow] %s\n' "$*"; }
warn() { printf '[streamflow] warning: %s\n' "$*" >&2; }
die() {
  printf '[streamflow] error: %s\n' "$*" >&2
  exit 1
}

need_cmd() {  # need_cmd CMD HINT
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH. ${2:-Run 'make setup' first.}"
}

require_java() {
  command -v java >/dev/null 2>&1 \
    || die "Java is missing: install a JDK 17 ('make setup' does: apt-get install openjdk-17-jre-headless)."
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [[ -n "$v" && "$v" -ge 17 ]] || die "Java 17 or newer is needed, found: $(java -version 2>&1 | head -n1)"
}

# ---------------------------------------------------------------------------------------- ports
_ss() {
  command -v ss >/dev/null 2>&1 || die "'ss' is missing (package iproute2): run 'make setup'."
  ss "$@"
}

# port_listening PORT: true if any process listens on TCP PORT (any address).
port_listening() {
  [[ -n "$(_ss -Hltn "sport = :$1" 2>/dev/null)" ]]
}

# port_pids PORT: the pids listening on PORT, one per line (empty if unknown/none).
port_pids() {
  _ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# port_owner PORT: "pid 123 (java)" descriptions of the listeners on PORT.
port_owner() {
  local pid out=""
  for pid in $(port_pids "$1"); do
    out+="${out:+, }pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null || echo '?'))"
  done
  echo "${out:-an unknown process}"
}

# port_in_use PORT NAME: true (and prints who) if PORT is taken.
port_in_use() {
  if port_listening "$1"; then
    echo "port $1 (${2:-?}) is already in use by $(port_owner "$1")" >&2
    return 0
  fi
  return 1
}

# require_port_free PORT NAME ENVVAR: die with a clear message if PORT is taken.
require_port_free() {
  local port="$1" name="$2" var="${3:-}"
  if port_listening "$port"; then
    die "port $port needed by $name is already in use by $(port_owner "$port")." \
      "Stop that process or choose another port${var:+ (export $var=<free port>)}."
  fi
}

# port_open HOST PORT: true if a TCP connection to HOST:PORT succeeds.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") >/dev/null 2>&1
}

# wait_for_port HOST PORT TIMEOUT_S NAME [PIDNAME]: wait until HOST:PORT accepts connections.
# With PIDNAME, fail fast if that tracked process dies meanwhile.
wait_for_port() {
  local host="$1" port="$2" timeout="$3" name="$4" pidname="${5:-}"
  local deadline=$((SECONDS + timeout))
  until port_open "$host" "$port"; do
    if [[ -n "$pidname" ]] && ! is_running "$pidname"; then
      echo "[streamflow] $name exited before opening $host:$port" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "[streamflow] $name did not open $host:$port within ${timeout}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# ------------------------------------------------------------------------------------ pid files
# A pid file holds two lines: the pid and the process start time (field 22 of /proc/PID/stat),
# so a recycled pid is never mistaken for (and never killed as) one of ours.

pid_file() { echo "$RUN_DIR/$1.pid"; }

_proc_starttime() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  # The comm field may hold spaces: cut after the last ')'.
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

# write_pid NAME PID: record PID (which must be alive) as the process of NAME.
write_pid() {
  local st
  mkdir -p "$RUN_DIR"
  st="$(_proc_starttime "$2")" || st=""
  printf '%s\n%s\n' "$2" "$st" >"$(pid_file "$1")"
}

# A pid-file service's status: "running PID" (exit 0) or "stopped" (exit 3, as LSB scripts do).
pid_status() {
  local pid
  if pid="$(read_pid "$1")"; then
    echo "running $pid"
  else
    echo "stopped"
    return 3
  fi
}

# read_pid NAME: print the tracked pid if that very process is alive; else clean up, return 1.
read_pid() {
  local f pid st now
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  { read -r pid && read -r st; } <"$f" || true
  if [[ "$pid" =~ ^[0-9]+$ ]] && now="$(_proc_starttime "$pid")" && [[ -z "$st" || "$now" == "$st" ]]; then
    echo "$pid"
    return 0
  fi
  rm -f "$f"
  return 1
}

is_running() { read_pid "$1" >/dev/null; }

# start_bg NAME CMD...: start CMD detached (own session), output appended to $LOG_DIR/NAME.out,
# pid tracked in $RUN_DIR/NAME.pid. Returns at once; the caller waits for readiness.
start_bg() {
  local name="$1"
  shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if is_running "$name"; then
    die "$name is already running (pid $(read_pid "$name"))"
  fi
  setsid "$@" </dev/null >>"$LOG_DIR/$name.out" 2>&1 &
  local pid=$!
  # The start time is fixed at fork, so reading it before the exec is fine.
  write_pid "$name" "$pid"
  echo "$pid"
}

# _alive PID GROUP: true while the process (GROUP=1: any process of its process group) exists
# and is not merely a zombie.
_alive() {
  if [[ "$2" == 1 ]]; then
    ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
  else
    kill -0 "$1" 2>/dev/null && [[ "$(ps -o stat= -p "$1" 2>/dev/null)" != Z* ]]
  fi
}

# stop_pid NAME [TIMEOUT_S]: SIGTERM the tracked process, SIGKILL it after TIMEOUT_S (default 20).
# A process started by start_bg leads its own process group (setsid): the whole group is signalled,
# so helpers it spawned (e.g. PyFlink's JVM) go with it. Nothing untracked is ever signalled.
stop_pid() {
  local name="$1" timeout="${2:-20}" pid group=0 target
  if ! pid="$(read_pid "$name")"; then
    rm -f "$(pid_file "$name")" "$RUN_DIR/$name.port"
    return 0
  fi
  [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]] && group=1
  target="$pid"
  ((group)) && target="-$pid"
  kill -TERM -- "$target" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while _alive "$pid" "$group" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if _alive "$pid" "$group"; then
    warn "$name (pid $pid) still running ${timeout}s after SIGTERM: sending SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pid_file "$name")" "$RUN_DIR/$name.port"
}

# record_port NAME PORT...: note the port(s) a tracked process serves (shown by status.sh).
record_port() {
  local name="$1"
  shift
  mkdir -p "$RUN_DIR"
  echo "$*" >"$RUN_DIR/$name.port"
}

# tracked_names: names of all pid files under $RUN_DIR.
tracked_names() {
  local f
  for f in "$RUN_DIR"/*.pid; do
    [[ -e "$f" ]] || continue
    f="${f##*/}"
    echo "${f%.pid}"
  done
}

# ---------------------------------------------------------------------------------------- misc
# hash_inputs FILE_OR_STRING...: a short stable hash of files' contents (or literal strings).
hash_inputs() {
  local x
  for x in "$@"; do
    if [[ -f "$x" ]]; then cat "$x"; else printf '%s' "$x"; fi
    printf '\0'
  done | sha256sum | cut -c1-16
}

# ------------------------------------------------------------------------------ setup step helpers
# Used by scripts/setup.d/*.sh: one short progress line per step, stamp files for no-op runs.
step_log() { printf '[setup] %-18s %s\n' "${STREAMFLOW_SETUP_STEP:-setup}" "$*"; }

# stamp_ok STEP HASH: true if STEP already ran successfully with these inputs.
stamp_ok() { [[ -f "$STAMP_DIR/$1-$2" ]]; }

# stamp_write STEP HASH: record success of STEP for these inputs (dropping older stamps of STEP).
stamp_write() {
  mkdir -p "$STAMP_DIR"
  rm -f "$STAMP_DIR/$1"-*
  : >"$STAMP_DIR/$1-$2"
}
