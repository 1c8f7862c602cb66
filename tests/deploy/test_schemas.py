"""kubeconform validates every rendered object, strictly: built-in kinds against the Kubernetes
schemas of kubernetes-validate, custom resources against their CRD's served version (k8s/crds),
unknown kinds and fields fail. Nothing is fetched: the schemas are written from the clone."""

from __future__ import annotations

import pytest
import yaml

from scripts.k8s import schemas
from scripts.k8s.paths import KUBERNETES_VERSION, OVERLAYS
from tests.deploy.checks import kubeconform


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubeconform(overlay: str, rendered_text: dict[str, str]) -> None:
    problems = kubeconform(rendered_text[overlay])
    assert not problems, "\n".join(problems)


def test_every_operator_crd_is_converted() -> None:
    directory = schemas.schemas_dir()
    groups = {p.name for p in (directory / "crds").iterdir()}
    assert {
        "kafka.strimzi.io",
        "flink.apache.org",
        "postgresql.cnpg.io",
        "helm.cattle.io",
        "monitoring.coreos.com",
    } <= groups
    assert (directory / "crds" / "kafka.strimzi.io" / "kafka_v1.json").is_file()
    assert not (directory / "crds" / "kafka.strimzi.io" / "kafka_v1beta2.json").exists()
    assert (directory / f"v{KUBERNETES_VERSION}-local-strict" / "deployment-apps-v1.json").is_file()


def test_closed_crd_schemas_reject_unknown_fields() -> None:
    topic = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "t"},
        "spec": {"partitions": 1, "replica": 1},
    }
    [problem] = kubeconform(yaml.safe_dump(topic))
    assert "additional properties 'replica' not allowed" in problem


def test_fields_a_crd_preserves_stay_open() -> None:
    flink = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "f"},
        "spec": {"flinkConfiguration": {"any.key.at.all": "1"}, "flinkVersion": "v2_2"},
    }
    assert kubeconform(yaml.safe_dump(flink)) == []
