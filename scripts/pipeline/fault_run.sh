#!/usr/bin/env bash
# One end-to-end fault run (called by scripts/test_faults.sh): a live generator stream through the
# scorer and the ingestor while, in turn, the scorer is killed -9 and restarted, the ingestor is
# killed -9 and restarted, the Kafka broker is restarted, and PostgreSQL is stopped for a while and
# restarted. Then the pipeline must catch up and the exact accounting must hold on every stage.
# Every run uses its own topics, database, consumer groups and checkpoint dir, so runs are isolated.
#   scripts/pipeline/fault_run.sh RUN_NUMBER
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"
run="${1:?run number}"
count="${STREAMFLOW_FAULT_COUNT:-40000}"
rate="${STREAMFLOW_FAULT_RATE:-500}"
id="faults$(date +%s)r$run"
say() { printf '[fault run %s] [%4ss] %s\n' "$run" "$SECONDS" "$*"; }

for t in transactions_raw transactions_scored fraud_alerts fraud_feedback fraud_rules fraud_models metrics_realtime dlq; do
  export "STREAMFLOW_TOPIC_${t^^}=$id.${t//_/.}"
done
export STREAMFLOW_PG_DATABASE="$id"
export STREAMFLOW_SCORER_CHECKPOINT_DIR="file://$LOCAL_DIR/faults/$id/checkpoints"
export STREAMFLOW_SCORER_GROUP_ID="$id-scorer" STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX="$id-scorer"
export STREAMFLOW_INGESTOR_GROUP_ID="$id-ingestor"
run_dir="$LOCAL_DIR/faults/$id"
mkdir -p "$run_dir"

# The run's scorer and ingestor get their own pid/log dir ($run_dir/local), so a demo's services
# (pid files .local/run/scorer.pid, ingestor.pid) are neither reused nor killed, and the ingestor
# its own metrics port. The Flink jars are looked up under STREAMFLOW_LOCAL_DIR: pin them.
svc_local="$run_dir/local"
connector_jar="${STREAMFLOW_FLINK_CONNECTOR_JAR:-$(ls "$LOCAL_DIR"/lib/flink/flink-sql-connector-kafka-*.jar 2>/dev/null | sort | tail -n 1)}"
[[ -n "$connector_jar" ]] || die "no Kafka connector jar under $LOCAL_DIR/lib/flink: run 'make setup'"
java_jar="${STREAMFLOW_FLINK_JAVA_JAR:-$LOCAL_DIR/lib/flink-java/streamflow-flink-java.jar}"
[[ -f "$java_jar" ]] || die "no $java_jar: run 'make setup'"
ingestor_port="$(scripts/uv.sh run --no-sync python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
svc() {  # svc SCRIPT ARGS...: run a service script in this run's own local dir
  STREAMFLOW_LOCAL_DIR="$svc_local" STREAMFLOW_FLINK_CONNECTOR_JAR="$connector_jar" \
    STREAMFLOW_FLINK_JAVA_JAR="$java_jar" \
    STREAMFLOW_FLINK_LOG_DIR="$svc_local/flink-logs" STREAMFLOW_INGESTOR_METRICS_PORT="$ingestor_port" \
    "$@"
}

progress() {  # progress WHAT WAIT_DRAINED_ARGS...: wait (<= 5 min) until the pipeline got this far
  local what="$1"
  shift
  if ! scripts/uv.sh run --no-sync python scripts/pipeline/wait_drained.py --timeout 300 \
    --interval 1 "$@" >>"$run_dir/progress.log" 2>&1; then
    tail -n 5 "$run_dir/progress.log" >&2
    die "the pipeline did not get this far: $what"
  fi
  say "$what:$(tail -n 1 "$run_dir/progress.log" | sed 's/^ *\[ *[0-9]*s\]//')"
}

kill9() {  # kill9 NAME: SIGKILL the whole process group of a service this run started
  local pid
  pid="$(RUN_DIR="$svc_local/run" read_pid "$1")" || die "$1 is not running"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  # Wait until the whole group is gone, so its ports are free before the restart.
  local deadline=$((SECONDS + 20))
  while _alive "$pid" 1 && ((SECONDS < deadline)); do sleep 0.2; done
  _alive "$pid" 1 && die "$1 (pid $pid) still alive 20 s after SIGKILL"
  rm -f "$svc_local/run/$1.pid"
  say "killed -9 $1 (pid $pid)"
}
cleanup() {
  svc scripts/services/scorer.sh stop >/dev/null 2>&1 || true
  svc scripts/services/ingestor.sh stop >/dev/null 2>&1 || true
  [[ -n "${gen_pid:-}" ]] && kill "$gen_pid" 2>/dev/null || true
}
trap cleanup EXIT

say "topics and database $id"
scripts/uv.sh run --no-sync python -m streamflow.platform bootstrap --create-database >/dev/null
svc scripts/services/scorer.sh start
svc scripts/services/ingestor.sh start

# The stream starts once the job runs (its first checkpoint completed): the MiniCluster's start-up
# takes 30 s on an idle machine but minutes on a loaded one, and the faults must hit a live job.
deadline=$((SECONDS + 420))
until compgen -G "$run_dir/checkpoints/*/chk-*" >/dev/null; do
  RUN_DIR="$svc_local/run" is_running scorer || die "the scorer exited during start-up; see $svc_local/logs/scorer.out"
  ((SECONDS < deadline)) || die "the scorer did not complete a checkpoint within 420 s"
  sleep 1
done
say "the scoring job is running"
say "streaming $count transactions at $rate/s (0.3% malformed)"
scripts/uv.sh run --no-sync streamflow-generate --seed "$((700 + run))" --count "$count" --days 3 \
  --customers 2000 --rate "$rate" --malformed-rate 0.003 --metrics-port 0 --quiet \
  >"$run_dir/generator.log" 2>&1 &
gen_pid=$!

# Each fault strikes once the pipeline is visibly mid-stream (counts landed in bronze), not after a
# fixed sleep: on a loaded machine the MiniCluster alone can take minutes to start.
progress "the scorer is scoring" --scored "$((count / 20))"
kill9 scorer
svc scripts/services/scorer.sh start
progress "the ingestor is mid-stream" --ingested "$((count * 3 / 10))"
kill9 ingestor
svc scripts/services/ingestor.sh start
progress "half the stream is in" --ingested "$((count / 2))"
say "restarting the Kafka broker"
scripts/infra/kafka.sh stop
scripts/infra/kafka.sh start
progress "70% of the stream is in" --ingested "$((count * 7 / 10))"
say "stopping PostgreSQL for 15 s"
scripts/infra/postgres.sh stop
sleep 15
scripts/infra/postgres.sh start

wait "$gen_pid" || { tail -n 20 "$run_dir/generator.log"; die "the generator failed"; }
gen_pid=""
say "generator done; waiting for the pipeline to catch up"
scripts/uv.sh run --no-sync python scripts/pipeline/wait_drained.py --timeout 900 --interval 5
say "accounting"
scripts/uv.sh run --no-sync python -m streamflow.testkit.accounting
svc scripts/services/scorer.sh stop >/dev/null
svc scripts/services/ingestor.sh stop >/dev/null
if [[ -z "${STREAMFLOW_FAULT_KEEP:-}" ]]; then
  # A passed run's topics and database are dropped (a failed run's are kept for diagnosis).
  scripts/uv.sh run --no-sync python scripts/pipeline/drop_run.py
  rm -rf "$run_dir/checkpoints"
fi
say "passed"
