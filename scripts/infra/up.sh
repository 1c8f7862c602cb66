#!/usr/bin/env bash
# StreamFlow `make up`: start the local infrastructure on loopback (idempotent; running services
# are reused), wait until ready, then bootstrap it (topics + database migrations) with
# `python -m streamflow.platform bootstrap` when that module is available.
# Usage: scripts/infra/up.sh [kafka|postgres|mlflow|core|all] [--no-bootstrap]   (default: all)
#   core = PostgreSQL + Kafka + bootstrap (what the Kafka/PostgreSQL test fixtures need);
#   all = core + the MLflow model registry; mlflow = PostgreSQL + the registry.
# Env: STREAMFLOW_SKIP_BOOTSTRAP=1 is the same as --no-bootstrap; ports: see scripts/infra/lib.sh.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

what=all
bootstrap="${STREAMFLOW_SKIP_BOOTSTRAP:-0}"
[[ "$bootstrap" == 1 ]] && bootstrap=0 || bootstrap=1
for arg in "$@"; do
  case "$arg" in
    kafka | postgres | mlflow | core | all) what="$arg" ;;
    --no-bootstrap) bootstrap=0 ;;
    *) die "usage: $0 [kafka|postgres|mlflow|core|all] [--no-bootstrap]" ;;
  esac
done

here="$(dirname "${BASH_SOURCE[0]}")"
case "$what" in
  kafka) "$here/kafka.sh" start ;;
  postgres) "$here/postgres.sh" start ;;
  mlflow)
    "$here/postgres.sh" start
    "$here/mlflow.sh" start
    ;;
  core | all)
    "$here/postgres.sh" start
    "$here/kafka.sh" start
    ;;
esac

if ((bootstrap)) && [[ "$what" == core || "$what" == all ]]; then
  if "$REPO/scripts/uv.sh" run --frozen --project "$REPO" python -c 'import streamflow.platform.__main__' >/dev/null 2>&1; then
    log "bootstrap: creating topics and applying migrations"
    "$REPO/scripts/uv.sh" run --frozen --project "$REPO" python -m streamflow.platform bootstrap \
      || die "bootstrap failed (python -m streamflow.platform bootstrap)"
  else
    log "bootstrap: skipped (module streamflow.platform.__main__ not available yet)"
  fi
fi
registry=""
if [[ "$what" == all ]]; then
  "$here/mlflow.sh" start
  registry=", mlflow http://$STREAMFLOW_HOST:$STREAMFLOW_MLFLOW_PORT"
fi
log "up: kafka $STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS, postgres $STREAMFLOW_HOST:$STREAMFLOW_PG_PORT/$STREAMFLOW_PG_DATABASE$registry"
