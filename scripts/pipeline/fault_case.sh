#!/usr/bin/env bash
# One case of the crash-level fault matrix (issue 17, Build 5): a live generator stream through the
# real scorer (PyFlink MiniCluster) and the real ingestor while ONE crash strikes mid-stream, then
# the pipeline must catch up by itself and the exact per-stage accounting must hold
# (streamflow.testkit.accounting: raw = bronze + dead letters, raw = scored + scorer rejections,
# every transaction_id once in Kafka and in bronze, alerts deduplicated by alert_id).
#   scripts/pipeline/fault_case.sh CASE
# Cases:
#   broker-kill9      the Kafka broker is killed -9 (no shutdown) and started again
#   pg-immediate      PostgreSQL is stopped with `pg_ctl -m immediate` (a crash) and started again
#   scorer-checkpoint the scorer is killed -9 while a checkpoint it was asked for over the Flink REST
#                     API (POST /jobs/<id>/checkpoints) is in progress (chk-N with no _metadata)
#   scorer-down       the scorer is killed -9 and stays down far longer than its checkpoint interval
#   disk-full         the run's database lives on a small tmpfs tablespace that is filled up: the
#                     ingestor stalls (retrying), then the space is freed and it resumes
# The shared broker and PostgreSQL are never touched: a case that crashes Kafka or PostgreSQL gets
# its own throwaway instance on free loopback ports (scripts/infra/*.sh with its own
# STREAMFLOW_LOCAL_DIR), removed at the end. Every run has its own topics, database, consumer
# groups and checkpoint dir (as scripts/pipeline/fault_run.sh).
# Env: STREAMFLOW_FAULT_COUNT (20000), STREAMFLOW_FAULT_RATE (500/s), STREAMFLOW_FAULT_DOWN_S (how
# long the crashed part stays down, 20 s), STREAMFLOW_FAULT_CHECKPOINT_INTERVAL_MS (2000),
# STREAMFLOW_FAULT_FS_MB (tmpfs size of disk-full, 64 + 4 per 1,000 events), STREAMFLOW_FAULT_KEEP=1
# keeps a passed run.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"
fault="${1:?usage: fault_case.sh broker-kill9|pg-immediate|scorer-checkpoint|scorer-down|disk-full}"
case "$fault" in
  broker-kill9 | pg-immediate | scorer-checkpoint | scorer-down | disk-full) ;;
  *) die "unknown case '$fault'" ;;
esac
count="${STREAMFLOW_FAULT_COUNT:-20000}"
rate="${STREAMFLOW_FAULT_RATE:-500}"
down_s="${STREAMFLOW_FAULT_DOWN_S:-20}"
interval_ms="${STREAMFLOW_FAULT_CHECKPOINT_INTERVAL_MS:-2000}"
id="crash$(date +%s)p$$${fault//-/}"
say() { printf '[crash %s] [%4ss] %s\n' "$fault" "$SECONDS" "$*"; }
py() { scripts/uv.sh run --no-sync python "$@"; }
free_port() { py -c 'from streamflow.platform.ports import free_loopback_port; print(free_loopback_port())'; }

for t in transactions_raw transactions_scored fraud_alerts fraud_feedback fraud_rules fraud_models metrics_realtime dlq; do
  export "STREAMFLOW_TOPIC_${t^^}=$id.${t//_/.}"
done
export STREAMFLOW_PG_DATABASE="$id"
run_dir="$LOCAL_DIR/faults/$id"
mkdir -p "$run_dir"
export STREAMFLOW_SCORER_CHECKPOINT_DIR="file://$run_dir/checkpoints"
export STREAMFLOW_SCORER_CHECKPOINT_INTERVAL_MS="$interval_ms"
export STREAMFLOW_SCORER_GROUP_ID="$id-scorer" STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX="$id-scorer"
export STREAMFLOW_INGESTOR_GROUP_ID="$id-ingestor"

# -------------------------------------------------------------- throwaway Kafka / PostgreSQL
own_kafka=0 own_pg=0
[[ "$fault" == broker-kill9 ]] && own_kafka=1
[[ "$fault" == pg-immediate || "$fault" == disk-full ]] && own_pg=1
infra_local="$run_dir/infra"
infra() {  # infra SCRIPT ARGS...: run an infra script against this run's own instances
  STREAMFLOW_LOCAL_DIR="$infra_local" STREAMFLOW_KAFKA_LIB="$LOCAL_DIR/lib/kafka" \
    STREAMFLOW_PG_FSYNC=off STREAMFLOW_PG_DATABASE=postgres STREAMFLOW_KAFKA_HEAP_OPTS="-Xms128m -Xmx384m" \
    STREAMFLOW_KAFKA_START_TIMEOUT=240 STREAMFLOW_PG_START_TIMEOUT=120 "$@"
}
if ((own_kafka)); then
  STREAMFLOW_KAFKA_PORT="$(free_port)"
  STREAMFLOW_KAFKA_CONTROLLER_PORT="$(free_port)"
  export STREAMFLOW_KAFKA_PORT STREAMFLOW_KAFKA_CONTROLLER_PORT
  export STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS="$STREAMFLOW_HOST:$STREAMFLOW_KAFKA_PORT"
fi
if ((own_pg)); then
  STREAMFLOW_PG_PORT="$(free_port)"
  export STREAMFLOW_PG_PORT
fi
pg_bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
pg_data="$infra_local/postgres/data"
as_postgres() { if [[ "$(id -u)" -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_super() {  # pg_super SQL: run SQL as the throwaway cluster's superuser (private socket)
  as_postgres "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$infra_local/postgres/run" \
    -p "$STREAMFLOW_PG_PORT" -U postgres -d postgres -c "$1"
}

# ------------------------------------------------------------------- the run's own services
svc_local="$run_dir/local"
connector_jar="${STREAMFLOW_FLINK_CONNECTOR_JAR:-$(find "$LOCAL_DIR/lib/flink" -maxdepth 1 -name 'flink-sql-connector-kafka-*.jar' 2>/dev/null | sort | tail -n 1)}"
[[ -n "$connector_jar" ]] || die "no Kafka connector jar under $LOCAL_DIR/lib/flink: run 'make setup'"
java_jar="${STREAMFLOW_FLINK_JAVA_JAR:-$LOCAL_DIR/lib/flink-java/streamflow-flink-java.jar}"
[[ -f "$java_jar" ]] || die "no $java_jar: run 'make setup'"
ingestor_port="$(free_port)"
scorer_metrics_port="$(free_port)"
svc() {  # svc SCRIPT ARGS...: run a service script in this run's own local dir
  STREAMFLOW_LOCAL_DIR="$svc_local" STREAMFLOW_FLINK_CONNECTOR_JAR="$connector_jar" \
    STREAMFLOW_FLINK_JAVA_JAR="$java_jar" STREAMFLOW_SCORER_METRICS_PORT="$scorer_metrics_port" \
    STREAMFLOW_FLINK_LOG_DIR="$svc_local/flink-logs" STREAMFLOW_INGESTOR_METRICS_PORT="$ingestor_port" \
    "$@"
}
counts() {  # counts: one line of per-stage counts now
  py scripts/pipeline/wait_drained.py --timeout 0 --interval 0 --ingested 0 2>/dev/null | tail -n 1 | sed 's/^ *\[ *[0-9]*s\] *//'
}
progress() {  # progress WHAT WAIT_DRAINED_ARGS...: wait (<= 10 min) until the pipeline got this far
  local what="$1"
  shift
  if ! py scripts/pipeline/wait_drained.py --timeout 600 --interval 1 "$@" >>"$run_dir/progress.log" 2>&1; then
    tail -n 5 "$run_dir/progress.log" >&2
    die "the pipeline did not get this far: $what"
  fi
  say "$what: $(tail -n 1 "$run_dir/progress.log" | sed 's/^ *\[ *[0-9]*s\] *//')"
}
kill9_group() {  # kill9_group NAME PIDFILE_RUN_DIR: SIGKILL a tracked process group, wait until gone
  local pid
  pid="$(RUN_DIR="$2" read_pid "$1")" || die "$1 is not running"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  local deadline=$((SECONDS + 30))
  while _alive "$pid" 1 && ((SECONDS < deadline)); do sleep 0.2; done
  _alive "$pid" 1 && die "$1 (pid $pid) still alive 30 s after SIGKILL"
  rm -f "$2/$1.pid"
  say "killed -9 $1 (pid $pid)"
}
mnt="$run_dir/small-fs"
passed=0
cleanup() {
  svc scripts/services/scorer.sh stop >/dev/null 2>&1 || true
  svc scripts/services/ingestor.sh stop >/dev/null 2>&1 || true
  if [[ -n "${gen_pid:-}" ]]; then kill "$gen_pid" 2>/dev/null || true; fi
  rm -f "$mnt/filler" "$mnt/filler.pages" 2>/dev/null || true
  if ((own_kafka)); then
    infra scripts/infra/kafka.sh stop >/dev/null 2>&1 || true
    # The run's database on the shared PostgreSQL is of no use once its broker is gone.
    [[ -n "${STREAMFLOW_FAULT_KEEP:-}" ]] || py -c 'import sys, psycopg
from psycopg import sql
from streamflow.platform.settings import ServiceSettings, load_settings
pg = load_settings(ServiceSettings).pg
with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
    conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(sys.argv[1])))
' "$id" >/dev/null 2>&1 || true
  fi
  if ((own_pg)); then infra scripts/infra/postgres.sh stop >/dev/null 2>&1 || true; fi
  if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt" || umount -l "$mnt" || true; fi
  # A throwaway instance goes with its run; a failed run's logs and checkpoints are kept.
  if ((passed)) && [[ -z "${STREAMFLOW_FAULT_KEEP:-}" ]]; then rm -rf "$run_dir"; fi
}
trap cleanup EXIT

# ------------------------------------------------------------------------------------- set-up
if ((own_kafka)); then
  say "own Kafka broker on $STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS"
  infra scripts/infra/kafka.sh start >"$run_dir/infra.log" 2>&1 || { cat "$run_dir/infra.log" >&2; die "own Kafka did not start"; }
fi
if ((own_pg)); then
  say "own PostgreSQL on 127.0.0.1:$STREAMFLOW_PG_PORT"
  infra scripts/infra/postgres.sh start >>"$run_dir/infra.log" 2>&1 || { cat "$run_dir/infra.log" >&2; die "own PostgreSQL did not start"; }
fi
if [[ "$fault" == disk-full ]]; then
  # Only the database's data goes on the small filesystem (a tablespace); the WAL stays on the
  # cluster's own disk, as with a separate WAL volume. A full WAL disk PANICs PostgreSQL, which is
  # the pg-immediate case's crash-and-restart.
  # The run's own data must fit once the filler is gone: ~1.4 KB per scored record (its features
  # and every rule's explanation), ~0.7 KB per raw one, alerts, indexes and the app projections.
  # A flat 64 MB held 6,000 events but not the long case's 40,000, which then never caught up.
  fs_mb="${STREAMFLOW_FAULT_FS_MB:-$((64 + count * 4 / 1000))}"
  mkdir -p "$mnt"
  mount -t tmpfs -o "size=${fs_mb}m,mode=0700" tmpfs "$mnt" \
    || die "cannot mount a tmpfs at $mnt (needs root)"
  [[ "$(id -u)" -eq 0 ]] && chown postgres:postgres "$mnt"
  pg_super "create tablespace $id location '$mnt'"
  pg_super "create database $id owner $STREAMFLOW_PG_USER tablespace $id"
  say "database $id on a $fs_mb MB tmpfs tablespace ($mnt)"
fi
say "topics and database $id"
py -m streamflow.platform bootstrap --create-database >"$run_dir/bootstrap.log" 2>&1 \
  || { cat "$run_dir/bootstrap.log" >&2; die "bootstrap failed"; }
svc scripts/services/scorer.sh start
svc scripts/services/ingestor.sh start
deadline=$((SECONDS + 420))
until compgen -G "$run_dir/checkpoints/*/chk-*/_metadata" >/dev/null; do
  RUN_DIR="$svc_local/run" is_running scorer || die "the scorer exited during start-up; see $svc_local/logs/scorer.out"
  ((SECONDS < deadline)) || die "the scorer did not complete a checkpoint within 420 s"
  sleep 1
done
say "the scoring job is running (checkpoints every $interval_ms ms)"
say "streaming $count transactions at $rate/s (0.3% malformed)"
scripts/uv.sh run --no-sync streamflow-generate --seed 911 --count "$count" --days 3 \
  --customers 2000 --rate "$rate" --malformed-rate 0.003 --metrics-port 0 --quiet \
  >"$run_dir/generator.log" 2>&1 &
gen_pid=$!

# ------------------------------------------------------------------------------------ the fault
# Strike once the pipeline is visibly mid-stream (counts landed in bronze), not after a fixed sleep.
progress "mid-stream" --ingested "$((count / 5))" --scored "$((count / 5))"
case "$fault" in
  broker-kill9)
    kill9_group kafka "$infra_local/run"
    say "broker down for $down_s s"
    sleep "$down_s"
    infra scripts/infra/kafka.sh start >>"$run_dir/infra.log" 2>&1 || die "own Kafka did not restart"
    say "broker restarted"
    ;;
  pg-immediate)
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null
    say "PostgreSQL stopped with -m immediate; down for $down_s s"
    sleep "$down_s"
    infra scripts/infra/postgres.sh start >>"$run_dir/infra.log" 2>&1 || die "own PostgreSQL did not restart"
    grep -q "database system was interrupted\|not properly shut down" "$pg_data/../logs/postgres.log" \
      && say "PostgreSQL restarted: it ran crash recovery ($(grep -c 'redo done' "$pg_data/../logs/postgres.log") redo)"
    ;;
  scorer-checkpoint)
    pid="$(RUN_DIR="$svc_local/run" read_pid scorer)" || die "the scorer is not running"
    # The helper triggers a checkpoint over REST and SIGKILLs the scorer's process group while
    # that checkpoint is in progress; it fails if the checkpoint completed first.
    if ! py scripts/pipeline/faults/kill_in_checkpoint.py --pid "$pid" \
      --log-dir "$svc_local/flink-logs" --checkpoints "$run_dir/checkpoints" >"$run_dir/kill.log" 2>&1; then
      cat "$run_dir/kill.log" >&2
      die "could not kill the scorer during a checkpoint"
    fi
    while read -r line; do say "$line"; done <"$run_dir/kill.log"
    rm -f "$svc_local/run/scorer.pid"
    say "restarting the scorer: it resumes from $(svc scripts/uv.sh run --no-sync streamflow-scorer latest-checkpoint 2>/dev/null | tail -n 1)"
    svc scripts/services/scorer.sh start
    ;;
  scorer-down)
    kill9_group scorer "$svc_local/run"
    say "scorer down for $down_s s (checkpoint interval $interval_ms ms): $(counts)"
    sleep "$down_s"
    say "restarting the scorer: $(counts)"
    svc scripts/services/scorer.sh start
    ;;
  disk-full)
    # Big blocks first, then single pages: not even a small file fits afterwards.
    dd if=/dev/zero of="$mnt/filler" bs=1M >/dev/null 2>&1 || true
    dd if=/dev/zero of="$mnt/filler.pages" bs=4k >/dev/null 2>&1 || true
    say "tablespace filesystem full: $(df -h --output=used,avail "$mnt" | tail -n 1)"
    # The ingestor must stall (retrying, SQLSTATE 53100 disk_full), not lose, skip or stop.
    deadline=$((SECONDS + 300))
    until grep -q 'No space left on device\|DiskFull\|could not extend' "$svc_local/logs/ingestor.out"; do
      RUN_DIR="$svc_local/run" is_running ingestor || die "the ingestor stopped on a full disk"
      ((SECONDS < deadline)) || die "the ingestor never hit the full disk within 300 s"
      sleep 1
    done
    say "ingestor stalled on the full disk: $(counts)"
    say "ingestor log: $(grep -m 1 'No space left on device\|DiskFull\|could not extend' "$svc_local/logs/ingestor.out" | cut -c 1-400)"
    # While the disk is full the ingestor must also survive opening new sessions: a pool grows or
    # recycles connections, and autovacuum of the catalogs invalidates the relation-cache init file
    # (pg_internal.init, in the database's directory on the full filesystem) that a new session
    # then rewrites. Both happen on their own within minutes; here they are made certain: the init
    # file goes and the run database's sessions are terminated.
    find "$mnt" -name pg_internal.init -delete
    terminated="$(as_postgres "$pg_bin/psql" -X -q -At -h "$infra_local/postgres/run" -p "$STREAMFLOW_PG_PORT" \
      -U postgres -d postgres -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = '$id' and backend_type = 'client backend' and pid <> pg_backend_pid()")"
    say "relation-cache init file removed and $terminated session(s) of the database terminated: new sessions must start on the full disk"
    sleep "$down_s"
    RUN_DIR="$svc_local/run" is_running ingestor || die "the ingestor stopped on a full disk"
    say "after $down_s s on a full disk: $(counts)"
    rm -f "$mnt/filler" "$mnt/filler.pages"
    say "space freed: $(df -h --output=used,avail "$mnt" | tail -n 1)"
    ;;
esac

wait "$gen_pid" || { tail -n 20 "$run_dir/generator.log"; die "the generator failed"; }
gen_pid=""
say "generator done; waiting for the pipeline to catch up"
deadline=$((SECONDS + 900))
until py scripts/pipeline/wait_drained.py --timeout 20 --interval 5 >>"$run_dir/progress.log" 2>&1; do
  # Fail fast (with the log) when a stage stopped instead of resuming.
  for name in scorer ingestor; do
    if ! RUN_DIR="$svc_local/run" is_running "$name"; then
      tail -n 5 "$svc_local/logs/$name.out" | cut -c 1-600 >&2
      die "$name stopped instead of resuming; see $svc_local/logs/$name.out"
    fi
  done
  ((SECONDS < deadline)) || die "the pipeline did not catch up within 900 s"
done
tail -n 1 "$run_dir/progress.log"
say "accounting"
py -m streamflow.testkit.accounting
# The generator's own promise on top: every transaction it generated reached transactions.raw
# (records that timed out during an outage are re-sent, never dropped).
landed_txns="$(py - <<'PY'
import psycopg

from streamflow.events import Topic
from streamflow.platform.settings import ServiceSettings, load_settings

settings = load_settings(ServiceSettings)
with psycopg.connect(settings.pg.dsn()) as conn:
    row = conn.execute(
        "select count(distinct transaction_id) from bronze.transactions where kafka_topic = %s",
        (settings.topics.name(Topic.TRANSACTIONS_RAW),),
    ).fetchone()
print(row[0] if row else 0)
PY
)"
if [[ "$landed_txns" == "$count" ]]; then
  echo "ok   generated transactions = distinct transaction_ids in bronze: expected $count, found $landed_txns"
else
  echo "FAIL generated transactions = distinct transaction_ids in bronze: expected $count, found $landed_txns"
  die "the generator's transactions did not all land"
fi
for name in scorer ingestor; do
  RUN_DIR="$svc_local/run" is_running "$name" || die "$name is no longer running"
done
if [[ "$fault" == broker-kill9 || "$fault" == pg-immediate || "$fault" == disk-full ]]; then
  # Nobody restarted a service in these cases: the job failed over inside its MiniCluster (if at
  # all) and the ingestor retried.
  restarts="$(cat "$svc_local"/flink-logs/*.log 2>/dev/null | grep -c 'switched from state RUNNING to RESTARTING' || true)"
  say "the scorer and the ingestor ran through the fault unrestarted (the job failed over inside its MiniCluster $restarts time(s))"
fi
svc scripts/services/scorer.sh stop >/dev/null
svc scripts/services/ingestor.sh stop >/dev/null
if [[ -z "${STREAMFLOW_FAULT_KEEP:-}" ]]; then
  py scripts/pipeline/drop_run.py >/dev/null  # own instances go anyway; shared ones keep nothing
fi
passed=1
say "passed"
