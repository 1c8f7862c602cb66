#!/usr/bin/env bash
# Two-phase apply of a StreamFlow overlay to a K3s cluster:
#   phase 1  Namespaces + the operators' HelmCharts (objects labelled
#            streamflow.io/apply-phase=operators: Strimzi, Flink operator, CloudNativePG,
#            kube-prometheus-stack); then wait until their CRDs are Established and the operator
#            Deployments are Available (CNPG's webhook must answer before a Cluster is applied);
#   phase 2  everything (re-applying phase 1 is a no-op): Kafka, topics, users, the
#            FlinkDeployment, the PostgreSQL Cluster, services, the model registry, policies,
#            Airflow, monitoring;
#   then     where Kafka authenticates (KafkaUsers: prod), the Kafka cluster CA is copied into
#            `airflow` (Secret streamflow-kafka-ca): the model_training DAG publishes over TLS and
#            a pod cannot mount another namespace's Secret (docs/adr/0115). Re-run after a CA renewal.
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
    done < <(find "$ROOT/k8s/kustomize/base" "$1" -name '*.env.example')  # base + this overlay
    return "$missing"
}

# Copy ca.crt of streamflow/streamflow-cluster-ca-cert (Strimzi writes it once the Kafka cluster
# is reconciled) to airflow/streamflow-kafka-ca, which Airflow's pods mount (optional volume).
copy_kafka_ca() {
    local deadline=$((SECONDS + 600)) ca
    until ca="$(kubectl -n streamflow get secret streamflow-cluster-ca-cert \
        -o jsonpath='{.data.ca\.crt}' 2>/dev/null)" && [ -n "$ca" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "apply: no streamflow/streamflow-cluster-ca-cert yet; re-run once Kafka is ready" >&2
            return 1
        fi
        sleep 5
    done
    printf '%s' "$ca" | base64 -d >"$1"
    kubectl -n airflow create secret generic streamflow-kafka-ca --from-file=ca.crt="$1" \
        --dry-run=client -o yaml \
        | kubectl apply --server-side --field-manager=streamflow -f -
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
    check_env_files "$dir"

    local rendered
    rendered="$(mktemp)"
    trap 'rm -f "$rendered" "$rendered.ca"' EXIT
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
    if [ "${#dry[@]}" -eq 0 ] && grep -q '^kind: KafkaUser$' "$rendered"; then
        echo "== the Kafka cluster CA for Airflow (model_training publishes over TLS)"
        copy_kafka_ca "$rendered.ca"
    fi
    echo "applied $overlay; follow progress with: kubectl -n streamflow get kafka,flinkdeployment,cluster,pods"
}

main "$@"
