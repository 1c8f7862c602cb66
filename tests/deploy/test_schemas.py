"""Every rendered object validates: built-in kinds against the Kubernetes schemas (strict,
unknown kinds fail), custom resources against their CRD's served version."""

from __future__ import annotations

import pytest

from scripts.k8s import crd_schema, kube_schema
from scripts.k8s.paths import OVERLAYS
from scripts.k8s.problems import Manifest


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_schemas(
    overlay: str,
    overlays: dict[str, list[Manifest]],
    crds: dict[crd_schema.GroupVersionKind, crd_schema.Schema],
) -> None:
    problems = kube_schema.validate_all(overlays[overlay], crd_schema.custom_kinds(crds))
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_crd_schemas(
    overlay: str,
    overlays: dict[str, list[Manifest]],
    crds: dict[crd_schema.GroupVersionKind, crd_schema.Schema],
) -> None:
    problems = crd_schema.validate_all(overlays[overlay], crds)
    assert not problems, "\n".join(map(str, problems))


def test_every_operator_crd_is_present(
    crds: dict[crd_schema.GroupVersionKind, crd_schema.Schema],
) -> None:
    assert ("kafka.strimzi.io/v1", "Kafka") in crds
    assert ("kafka.strimzi.io/v1beta2", "Kafka") not in crds
    assert {
        "kafka.strimzi.io",
        "flink.apache.org",
        "postgresql.cnpg.io",
        "helm.cattle.io",
        "monitoring.coreos.com",
    } <= crd_schema.crd_groups(crds)


def test_closed_schemas_reject_unknown_fields(
    crds: dict[crd_schema.GroupVersionKind, crd_schema.Schema],
) -> None:
    topic = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "t"},
        "spec": {"partitions": 1, "replica": 1},
    }
    problems = crd_schema.validate_one(topic, crds)
    assert any("replica" in p.message for p in problems)
