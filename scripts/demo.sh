#!/usr/bin/env bash
# make demo: the whole pipeline on the local stack, then a printed summary and reports/demo.html.
#   Kafka + PostgreSQL -> fraud scorer (PyFlink MiniCluster) -> ingestor -> alert API, Prometheus;
#   the generator streams several simulated days (with chargebacks and some malformed events);
#   once everything is landed, the Airflow DAGs build silver and gold; then the report; then one
#   retrain cycle of the supervised model (scripts/pipeline/demo_retrain.py: registry versions, the
#   promotion decision, precision/recall before and after).
# Services keep running afterwards (open the URLs printed at the end) until `make down`.
# Each run uses a new generator seed (transaction ids are per seed), so re-running adds a new batch.
# Knobs: STREAMFLOW_DEMO_COUNT (40000), STREAMFLOW_DEMO_RATE (450/s), STREAMFLOW_DEMO_DAYS (5),
# STREAMFLOW_DEMO_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export STREAMFLOW_LOCAL_DIR="${STREAMFLOW_LOCAL_DIR:-$REPO/.local}"
DEMO_DIR="$STREAMFLOW_LOCAL_DIR/demo"
mkdir -p "$DEMO_DIR" reports
started=$SECONDS
step() { printf '\n==> [%4ss] %s\n' "$((SECONDS - started))" "$*"; }

runs_file="$DEMO_DIR/runs"
run=$(( $(cat "$runs_file" 2>/dev/null || echo 0) + 1 ))
seed="${STREAMFLOW_DEMO_SEED:-$((1000 + run))}"
count="${STREAMFLOW_DEMO_COUNT:-40000}"
# Paced below the scorer's measured throughput, so transactions and their chargebacks arrive in
# event-time order (an unpaced burst lets the feedback source run ahead of the transaction backlog).
rate="${STREAMFLOW_DEMO_RATE:-450}"
days="${STREAMFLOW_DEMO_DAYS:-5}"

step "starting Kafka and PostgreSQL"
scripts/infra/up.sh
if (( run > 1 )) && [[ -z "${STREAMFLOW_SCORER_CHECKPOINT_DIR:-}" ]]; then
  # Each run simulates a new world (new seed) whose customer and merchant ids reuse the previous
  # run's: scoring it against the previous world's customer state and merchant risk is nonsense.
  # So the scorer starts from empty state; its Kafka sources resume after the records already
  # scored (committed group offsets), and the rule set is re-published below.
  step "fresh scorer state for this run's new simulated world"
  scripts/services/scorer.sh stop
  rm -rf "$STREAMFLOW_LOCAL_DIR/flink/scorer-checkpoints"
fi
step "starting the fraud scorer (PyFlink MiniCluster; first start takes ~30 s)"
scripts/services/scorer.sh start
step "starting the ingestor"
scripts/services/ingestor.sh start
step "starting the alert API and its demo key (.local/demo-api-key)"
scripts/services/alert_api.sh start
scripts/services/alert_api.sh demo-key
step "starting Prometheus"
scripts/services/prometheus.sh start

step "reference data for seed $seed and its blacklist, published as a new fraud.rules version"
scripts/uv.sh run --no-sync streamflow-generate --seed "$seed" --customers 5000 --reference-only \
  --blacklist-out "$DEMO_DIR/blacklist-$seed.json"
scripts/uv.sh run --no-sync python scripts/pipeline/publish_blacklist.py "$DEMO_DIR/blacklist-$seed.json"

step "streaming $count transactions over $days simulated days at $rate/s (seed $seed, 0.2% malformed)"
scripts/uv.sh run --no-sync streamflow-generate --seed "$seed" --count "$count" --days "$days" \
  --customers 5000 --malformed-rate 0.002 --kafka --rate "$rate" \
  --labels-out "$DEMO_DIR/labels-$seed.parquet" --progress-interval 5
echo "$run" >"$runs_file"

step "waiting for the scorer and the ingestor to catch up"
scripts/uv.sh run --no-sync python scripts/pipeline/wait_drained.py --timeout 420

step "building silver and gold: Airflow DAGs dbt_staging -> dbt_marts -> dbt_quality"
scripts/warehouse/run_dags.sh

step "exact accounting across stages"
scripts/uv.sh run --no-sync python -m streamflow.testkit.accounting || \
  echo "(accounting above shows a mismatch; see the lines marked FAIL)"

step "summary (also in reports/demo.html)"
labels=("$DEMO_DIR"/labels-*.parquet)
scripts/uv.sh run --no-sync python scripts/pipeline/demo_report.py \
  --labels "$DEMO_DIR/labels-$seed.parquet" --out reports/demo.html
step "retrain cycle: supervised model trained, gated and recorded in the MLflow registry"
scripts/uv.sh run --no-sync python scripts/pipeline/demo_retrain.py || \
  echo "(the retrain cycle failed; the pipeline above is unaffected)"

printf '\nDemo finished in %ss (run %s, %s labels files so far). Services keep running: make down stops them.\n' \
  "$((SECONDS - started))" "$run" "${#labels[@]}"
