#!/usr/bin/env bash
# Two-phase apply of a StreamFlow overlay to a K3s cluster:
#   phase 1  Namespaces + the operators' HelmCharts (objects labelled
#            streamflow.io/apply-phase=operators: Strimzi, Flink operator, CloudNativePG,
#            kube-prometheus-stack); then wait until their CRDs are Established and the operator
#            Deployments are Available (CNPG's webhook must answer before a Cluster is applied);
#   phase 2  everything (re-applying phase 1 is a no-op): Kafka, topics, users, the
#            FlinkDeployment, the PostgreSQL Cluster, services, policies, Airflow, monitoring.
# Usage: scripts/k8s/apply.sh dev|prod [--dry-run]     (kubectl must point at the cluster)
#        scripts/k8s/apply.sh --print-phase 1|2 FILE   (split rendered YAML; used by the tests)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TIMEOUT="${STREAMFLOW_APPLY_TIMEOUT:-600s}"
CRDS=(
    kafkas.kafka.strimzi.io kafkanodepools.kafka.strimzi.io kafkatopics.kafka.strimzi.io
    kafkausers.kafka.strimzi.io flinkdeployments.flink.apache.org clusters.postgresql.cnpg.io
    scheduledbackups.postgresql.cnpg.io servicemonitors.monitoring.coreos.com
    podmonitors.monitoring.coreos.com prometheusrules.monitoring.coreos.com
)

# Print the documents of rendered kustomize output that belong to phase $1: phase 1 = Namespaces
# and objects whose own metadata.labels (4-space indent in kustomize output) carry the label.
print_phase() {
    awk -v phase="$1" '
        function flush() {
            if (doc != "") {
                first = (kind == "Namespace" || labelled)
                if ((phase == 1 && first) || (phase == 2 && !first)) printf "---\n%s", doc
            }
            doc = ""; kind = ""; labelled = 0
        }
        /^---$/ { flush(); next }
        /^kind: / { kind = $2 }
        /^    streamflow\.io\/apply-phase: operators$/ { labelled = 1 }
        { doc = doc $0 "\n" }
        END { flush() }
    ' "$2"
}

wait_for_crd() {
    local crd="$1" deadline=$((SECONDS + 600))
    until kubectl get crd "$crd" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "apply: CRD $crd did not appear; check: kubectl -n kube-system get helmcharts,jobs" >&2
            return 1
        fi
        sleep 5
    done
    kubectl wait --for=condition=Established --timeout="$TIMEOUT" "crd/$crd"
}

check_env_files() {
    local missing=0 example
    while IFS= read -r example; do
        local env="${example%.example}"
        if [ ! -s "$env" ]; then
            echo "apply: missing $env (copy $example and fill it in)" >&2
            missing=1
        elif grep -Eq '^[^#][^=]*=[[:space:]]*$' "$env"; then
            echo "apply: $env has empty secret values" >&2
            missing=1
        fi
    done < <(find "$ROOT/k8s/kustomize" -name '*.env.example')
    return "$missing"
}

main() {
    if [ "${1:-}" = "--print-phase" ]; then
        print_phase "$2" "$3"
        return
    fi
    local overlay="${1:?usage: apply.sh dev|prod [--dry-run]}" dry=()
    [ "${2:-}" = "--dry-run" ] && dry=(--dry-run=server)
    local dir="$ROOT/k8s/kustomize/overlays/$overlay"
    [ -d "$dir" ] || { echo "apply: no overlay $overlay" >&2; return 2; }
    check_env_files

    local rendered
    rendered="$(mktemp)"
    trap 'rm -f "$rendered"' EXIT
    kubectl kustomize "$dir" >"$rendered"

    echo "== phase 1: namespaces and operators"
    print_phase 1 "$rendered" | kubectl apply --server-side --field-manager=streamflow "${dry[@]}" -f -
    if [ "${#dry[@]}" -eq 0 ]; then
        for crd in "${CRDS[@]}"; do wait_for_crd "$crd"; done
        kubectl -n streamflow-operators wait --for=condition=Available --timeout="$TIMEOUT" deployment --all
        kubectl -n monitoring wait --for=condition=Available --timeout="$TIMEOUT" deployment --all
    fi

    echo "== phase 2: custom resources and workloads"
    kubectl apply --server-side --field-manager=streamflow "${dry[@]}" -f "$rendered"
    echo "applied $overlay; follow progress with: kubectl -n streamflow get kafka,flinkdeployment,cluster,pods"
}

main "$@"
