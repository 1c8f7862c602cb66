#!/usr/bin/env bash
# The offline deployment checks, each run by the field's tool (docs/adr/0012): all of them on both
# overlays, the kustomize sources, compose and the Dockerfiles, or one step (tests/deploy runs each
# with CHECK_OUTPUT=json and reads kubeconform's and conftest's JSON; docs/DEPLOY.md shows them):
#   check.sh schemas FILE...|-             kubeconform -strict: Kubernetes 1.34 + CRD schemas
#   check.sh policies SET FACTS FILE...|-  conftest test --combine, k8s/policies/SET and lib
#   check.sh verify | rules FILE... | dockerfiles FILE...   rego fmt + unit tests | promtool | hadolint
# FACTS: what scripts/k8s/facts.py writes. One conftest run per overlay: --combine hands the
# policies all objects of the run at once.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"
BIN="$LOCAL_DIR/bin"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
JSON="${CHECK_OUTPUT:-}"
for tool in kubeconform conftest; do [[ -x "$BIN/$tool" ]] || die "$BIN/$tool is missing: run 'make setup'"; done

schemas() {
  local flags
  mapfile -t flags < <("$PYTHON" -m scripts.k8s.schemas)
  "$BIN/kubeconform" -strict -summary ${JSON:+-output json} "${flags[@]}" "$@"
}
policies() {
  local set="$1" facts="$2"
  "$BIN/conftest" test --combine --all-namespaces --no-color ${JSON:+-o json} \
    -p "k8s/policies/$set" -p k8s/policies/lib --data "$facts" "${@:3}"
}
verify() { "$BIN/conftest" fmt --check k8s/policies && "$BIN/conftest" verify --strict --no-color -p k8s/policies; }
rules() { "$PYTHON" -m scripts.k8s.promrules "$@"; }
dockerfiles() { "$(dirname "$PYTHON")/hadolint" --no-color --failure-threshold info "$@"; }

all() {
  local out="$LOCAL_DIR/k8s-check" status=0 overlay
  mkdir -p "$out"
  "$PYTHON" -m scripts.k8s.facts >"$out/facts.json"
  for overlay in dev prod; do
    "$PYTHON" -m scripts.k8s.render "k8s/kustomize/overlays/$overlay" >"$out/$overlay.yaml"
  done
  step() { printf '== %s %s\n' "$1" "${2:-}" && "$@" || status=1; }
  step verify
  step schemas "$out/dev.yaml" "$out/prod.yaml"
  step policies manifests "$out/facts.json" "$out/dev.yaml"
  step policies manifests "$out/facts.json" "$out/prod.yaml"
  mapfile -t sources < <(find k8s/kustomize -name '*.yaml' -o -name '*.yml' | sort)
  step policies sources "$out/facts.json" "${sources[@]}"
  step policies compose "$out/facts.json" docker-compose.test.yml
  step rules "$out/dev.yaml" "$out/prod.yaml"
  step dockerfiles services/*/Dockerfile airflow/Dockerfile infra/*/Dockerfile tests/deploy/*.Dockerfile
  echo "rendered overlays and facts: $out"
  return "$status"
}

"${1:-all}" "${@:2}"
