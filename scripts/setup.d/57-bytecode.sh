#!/usr/bin/env bash
# Setup step: every Python environment's packages and the project's own sources compiled to
# bytecode once, here, instead of in every process that imports them. uv installs no .pyc files
# (it leaves them to the first import), and where PYTHONDONTWRITEBYTECODE is set -- as on our CI
# machines -- no import ever writes one, so each dbt task, Airflow CLI, PyFlink worker and service
# start compiled its imports again: `import airflow.cli.cli_parser` 6.4 s -> 2.2 s with them,
# PyFlink's worker modules 5.3 -> 2.0 s, one `dbt build` of a model 7.6 -> 6.1 s (docs/adr/0130).
# An environment is compiled again when its lock changes or it is re-created; the sources on every
# run (compileall skips what is up to date, ~0.3 s). Files compileall cannot compile (templates,
# other Python versions' code in some packages) are skipped, as pip and uv do.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

# environment directory -> the lock it is installed from
declare -A envs=(
  [.venv]=uv.lock
  [services/fraud-scorer/.venv]=services/fraud-scorer/uv.lock
  [airflow/.venv]=airflow/uv.lock
  [envs/dbt/.venv]=envs/dbt/uv.lock
  [envs/mlflow/.venv]=envs/mlflow/uv.lock
)
compiled=()
for env in "${!envs[@]}"; do
  py="$env/bin/python"
  [[ -x "$py" ]] || continue
  name="bytecode-${env//\//-}"
  # the lock, this step, and when the environment was (re)created
  hash="$(hash_inputs "${envs[$env]}" "${BASH_SOURCE[0]}" "$(stat -c %Y "$env/pyvenv.cfg")")"
  stamp_ok "$name" "$hash" && continue
  site="$("$py" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
  # Not the packages' own test suites (a fifth of the files; our processes never import them):
  # -21% of the step's time in the scorer's environment (12.6 -> 10.0 s).
  "$py" -m compileall -q -j 0 -x '/tests/' "$site" >/dev/null 2>&1 || true
  stamp_write "$name" "$hash"
  compiled+=("$env")
done
# The project's own sources (installed editable: outside every site-packages).
.venv/bin/python -m compileall -q -j 0 packages/*/src services/*/src airflow/src airflow/dags \
  >/dev/null || die "the project's sources do not compile (see: .venv/bin/python -m compileall)"
if ((${#compiled[@]})); then
  step_log "compiled to bytecode: ${compiled[*]} and the project's sources"
else
  step_log "bytecode up to date"
fi
