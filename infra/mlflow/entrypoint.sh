#!/bin/sh
# The MLflow server of infra/mlflow/Dockerfile: its backend store URI from the StreamFlow settings
# (the password reaches libpq through PGPASSWORD, never a URI or a command line), then
# `mlflow server` with the artifacts it serves itself. Extra arguments go to `mlflow server`.
#   STREAMFLOW_PG_HOST, STREAMFLOW_PG_PORT (5432)      the CloudNativePG read-write service
#   STREAMFLOW_PG_SSLMODE (require), STREAMFLOW_PG_SSLROOTCERT (unset)   libpq's PGSSLMODE/PGSSLROOTCERT
#   STREAMFLOW_MLFLOW_PG_USER (streamflow_mlflow), STREAMFLOW_MLFLOW_PG_PASSWORD (required)
#   STREAMFLOW_MLFLOW_DATABASE (mlflow), STREAMFLOW_MLFLOW_PORT (5000), STREAMFLOW_MLFLOW_WORKERS (1)
#   STREAMFLOW_MLFLOW_ARTIFACTS (/var/lib/mlflow/artifacts)
#   STREAMFLOW_MLFLOW_ALLOWED_HOSTS   Host headers MLflow accepts (its DNS-rebinding guard; the
#                                     default admits localhost and private IPs, not service names)
set -eu
: "${STREAMFLOW_PG_HOST:?STREAMFLOW_PG_HOST is not set}"
: "${STREAMFLOW_MLFLOW_PG_PASSWORD:?STREAMFLOW_MLFLOW_PG_PASSWORD is not set}"
PGPASSWORD="$STREAMFLOW_MLFLOW_PG_PASSWORD"
PGSSLMODE="${STREAMFLOW_PG_SSLMODE:-require}"
export PGPASSWORD PGSSLMODE
unset STREAMFLOW_MLFLOW_PG_PASSWORD
if [ -n "${STREAMFLOW_PG_SSLROOTCERT:-}" ]; then
    PGSSLROOTCERT="$STREAMFLOW_PG_SSLROOTCERT"
    export PGSSLROOTCERT
fi
user="${STREAMFLOW_MLFLOW_PG_USER:-streamflow_mlflow}"
database="${STREAMFLOW_MLFLOW_DATABASE:-mlflow}"
MLFLOW_BACKEND_STORE_URI="postgresql+psycopg://$user@$STREAMFLOW_PG_HOST:${STREAMFLOW_PG_PORT:-5432}/$database"
export MLFLOW_BACKEND_STORE_URI
if [ -n "${STREAMFLOW_MLFLOW_ALLOWED_HOSTS:-}" ]; then
    MLFLOW_SERVER_ALLOWED_HOSTS="$STREAMFLOW_MLFLOW_ALLOWED_HOSTS"
    export MLFLOW_SERVER_ALLOWED_HOSTS
fi
artifacts="${STREAMFLOW_MLFLOW_ARTIFACTS:-/var/lib/mlflow/artifacts}"
mkdir -p "$artifacts"
# Not exec: as PID 1, `mlflow server` would ignore SIGTERM (no handler for it) and be killed only
# after the grace period. This shell stays PID 1 and hands SIGTERM/SIGINT to the server, which
# stops its uvicorn worker gracefully and exits (as with scripts/infra/mlflow.sh's stop).
mlflow server --host 0.0.0.0 --port "${STREAMFLOW_MLFLOW_PORT:-5000}" \
    --workers "${STREAMFLOW_MLFLOW_WORKERS:-1}" --artifacts-destination "$artifacts" "$@" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
status=0
wait "$server" || status=$?
if kill -0 "$server" 2>/dev/null; then  # the wait was cut short by a signal: wait for the exit
    status=0
    wait "$server" || status=$?
fi
exit "$status"
