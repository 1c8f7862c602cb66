"""The broken fixtures trip every check they target, each with a message that says what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.k8s import promrules
from scripts.k8s.paths import REPO_ROOT
from scripts.k8s.render import parse
from tests.deploy.checks import check, conftest, kubeconform, sources

FIXTURES = Path(__file__).parent / "fixtures"


def test_kubeconform_catches_typos_unknown_kinds_and_bad_custom_resources(
    broken_text: str,
) -> None:
    found = "\n".join(kubeconform(broken_text))
    for expected in [
        "Deployment broken-api (apps/v1): at '/spec/template/spec/containers/0': additional"
        " properties 'imagePullPolice' not allowed",
        "Frobnicator mystery (example.com/v1): could not find schema for Frobnicator",
        # Strimzi serves only kafka.strimzi.io/v1: there is no schema for v1beta2.
        "Kafka old-api (kafka.strimzi.io/v1beta2): could not find schema for Kafka",
        "at '/spec/partitions': got string, want integer",
        "at '/spec': additional properties 'retention' not allowed",
        "at '/spec/flinkVersion': value must be one of 'v1_13'",
    ]:
        assert expected in found


@pytest.fixture(scope="module")
def findings(broken_text: str, broken_facts: dict[str, Any]) -> list[str]:
    """The manifest policies on the broken fixture, run once for all the cases below."""
    return conftest("manifests", broken_facts, ["-"], broken_text)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            "k8s.images",
            "Deployment broken/broken-api: image 'example/api:latest' has a floating tag",
        ),
        ("k8s.images", "FlinkDeployment broken/bad-job: image 'example/job' has a floating tag"),
        ("k8s.images", "HelmChart broken/floating-chart: chart version '*' is not pinned"),
        ("k8s.containers", "container api: needs requests and limits for cpu and memory"),
        ("k8s.containers", "container api: needs runAsNonRoot: true"),
        ("k8s.containers", "container api: needs allowPrivilegeEscalation: false"),
        ("k8s.containers", "container api: needs capabilities.drop: [ALL]"),
        ("k8s.containers", "container api: needs readOnlyRootFilesystem: true"),
        ("k8s.containers", "container ingestor: needs a user other than root (runAsUser: 0)"),
        (
            "k8s.containers",
            "Deployment broken/ingestor: exception exceptions.streamflow.io/"
            "read-only-root-filesystem needs a reason",
        ),
        ("k8s.probes", "container api: needs a livenessProbe"),
        ("k8s.probes", "container api: needs a readinessProbe"),
        ("k8s.probes", "container ingestor: readinessProbe asks /metrics; point it at a health"),
        ("k8s.flink", "FlinkDeployment broken/bad-job: needs job.upgradeMode: savepoint"),
        ("k8s.flink", "FlinkDeployment broken/bad-job: needs podTemplate runAsNonRoot: true"),
        ("k8s.availability", "Deployment broken/broken-api: no PodDisruptionBudget selects"),
        ("k8s.network", "namespace broken: no default-deny NetworkPolicy"),
        ("k8s.secrets", "Secret broken/committed-secret: password has a value in the repository"),
        ("k8s.secrets", "token has a value in the repository"),
        (
            "k8s.kafka",
            "KafkaUser ingestor: no Read on topic transactions.raw, which Deployment"
            " broken/ingestor uses (STREAMFLOW_TOPIC_TRANSACTIONS_RAW)",
        ),
        ("k8s.kafka", "KafkaUser ingestor: no Read on group streamflow-ingestor"),
        (
            "k8s.kafka",
            "KafkaUser model-training: no Write on topic fraud.models, which HelmChart"
            " broken/airflow uses (STREAMFLOW_TOPIC_FRAUD_MODELS)",
        ),
        (
            "k8s.postgres",
            "Deployment broken/pg-client: STREAMFLOW_API_PG_PASSWORD comes from pg-owner, the"
            " database owner's secret",
        ),
        ("k8s.postgres", "Deployment broken/pg-client: STREAMFLOW_PG_SSLMODE is require in prod"),
        ("k8s.postgres", "Deployment broken/pg-client: STREAMFLOW_PG_SSLROOTCERT must name ca.crt"),
        (
            "k8s.postgres",
            "Deployment broken/not-a-pg-client: gets STREAMFLOW_PG_PASSWORD from pg-api but is no"
            " PostgreSQL client",
        ),
        (
            "k8s.settings",
            "Deployment broken/ingestor: sets STREAMFLOW_INGESTOR_METRICS_PROT, which it never"
            " reads",
        ),
    ],
)
def test_each_policy_catches_its_violation(policy: str, expected: str, findings: list[str]) -> None:
    assert any(f.startswith(f"[{policy}] ") and expected in f for f in findings), "\n".join(
        findings
    )


def test_source_policy_catches_secrets_in_the_tree(broken_facts: dict[str, Any]) -> None:
    found = conftest("sources", broken_facts, sources(FIXTURES / "broken"))
    assert found == [
        "[kustomize.sources] tests/deploy/fixtures/broken/kafka-client.yaml: a literal Secret;"
        " use a secretGenerator",
        "[kustomize.sources] tests/deploy/fixtures/broken/kustomization.yaml: literal-secret:"
        " literals; use envs",
    ]


def test_promtool_catches_bad_promql(broken_text: str) -> None:
    found = promrules.check(parse(broken_text))
    assert {p.split(":")[0] for p in found} == {
        "PrometheusRule broken/broken-rules",
        "ConfigMap broken/broken-dashboard",
    }


def test_hadolint_catches_a_bad_dockerfile() -> None:
    result = check("dockerfiles", str(FIXTURES / "broken.Dockerfile"))
    assert result.returncode == 1
    found = result.stdout + result.stderr
    for rule in ["DL3007", "DL3014", "DL3003", "DL3025"]:
        assert rule in found


def test_compose_policy_catches_a_bad_compose_file(broken_facts: dict[str, Any]) -> None:
    compose = str((FIXTURES / "broken-compose.yml").relative_to(REPO_ROOT))
    found = "\n".join(conftest("compose", broken_facts, [compose]))
    for expected in [
        "api: tests/deploy/fixtures/no/such/Dockerfile does not exist",
        "db: image 'postgres:latest' has a floating tag",
        "api: depends on unknown service cache",
        "api: sets STREAMFLOW_PG_PASWORD_TYPO, which no settings class of the service reads",
        "worker: built from this repo but declares no x-streamflow-settings",
    ]:
        assert f"[compose] {expected}" in found
