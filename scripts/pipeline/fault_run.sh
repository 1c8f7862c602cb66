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
rate="${STREAMFLOW_FAULT_RATE:-1500}"
id="faults$(date +%s)r$run"
say() { printf '[fault run %s] [%4ss] %s\n' "$run" "$SECONDS" "$*"; }

for t in transactions_raw transactions_scored fraud_alerts fraud_feedback fraud_rules metrics_realtime dlq; do
  export "STREAMFLOW_TOPIC_${t^^}=$id.${t//_/.}"
done
export STREAMFLOW_PG_DATABASE="$id"
export STREAMFLOW_SCORER_CHECKPOINT_DIR="file://$LOCAL_DIR/faults/$id/checkpoints"
export STREAMFLOW_SCORER_GROUP_ID="$id-scorer" STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX="$id-scorer"
export STREAMFLOW_INGESTOR_GROUP_ID="$id-ingestor"
mkdir -p "$LOCAL_DIR/faults/$id"

kill9() {  # kill9 NAME: SIGKILL the whole process group of a service we started
  local pid
  pid="$(read_pid "$1")" || die "$1 is not running"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  rm -f "$(pid_file "$1")"
  say "killed -9 $1 (pid $pid)"
}
cleanup() {
  scripts/services/scorer.sh stop >/dev/null 2>&1 || true
  scripts/services/ingestor.sh stop >/dev/null 2>&1 || true
  [[ -n "${gen_pid:-}" ]] && kill "$gen_pid" 2>/dev/null || true
}
trap cleanup EXIT

say "topics and database $id"
scripts/uv.sh run --no-sync python -m streamflow.platform bootstrap --create-database >/dev/null
scripts/services/scorer.sh start
scripts/services/ingestor.sh start

say "streaming $count transactions at $rate/s (0.3% malformed)"
scripts/uv.sh run --no-sync streamflow-generate --seed "$((700 + run))" --count "$count" --days 3 \
  --customers 2000 --rate "$rate" --malformed-rate 0.003 --metrics-port 0 --quiet \
  >"$LOCAL_DIR/faults/$id/generator.log" 2>&1 &
gen_pid=$!

sleep 8
kill9 scorer
scripts/services/scorer.sh start
sleep 4
kill9 ingestor
scripts/services/ingestor.sh start
sleep 4
say "restarting the Kafka broker"
scripts/infra/kafka.sh stop
scripts/infra/kafka.sh start
sleep 4
say "stopping PostgreSQL for 15 s"
scripts/infra/postgres.sh stop
sleep 15
scripts/infra/postgres.sh start

wait "$gen_pid" || { tail -n 20 "$LOCAL_DIR/faults/$id/generator.log"; die "the generator failed"; }
gen_pid=""
say "generator done; waiting for the pipeline to catch up"
scripts/uv.sh run --no-sync python scripts/pipeline/wait_drained.py --timeout 600 --interval 5
say "accounting"
scripts/uv.sh run --no-sync python -m streamflow.platform.accounting
say "passed"
