"""The broken fixtures are caught by every kind of check they target."""

from __future__ import annotations

from pathlib import Path

from scripts.k8s import compose, crd_schema, dockerfiles, kube_schema, policy, promrules
from scripts.k8s.problems import Manifest, Problem
from scripts.k8s.secret_sources import check_tree

FIXTURES = Path(__file__).parent / "fixtures"


def messages(problems: list[Problem]) -> str:
    return "\n".join(map(str, problems))


def test_kubernetes_schema_catches_typos_and_unknown_kinds(
    broken: list[Manifest], crds: dict[crd_schema.GroupVersionKind, crd_schema.Schema]
) -> None:
    found = messages(kube_schema.validate_all(broken, crd_schema.custom_kinds(crds)))
    assert "imagePullPolice" in found
    assert "unknown kind Frobnicator" in found
    # A Kafka of an API version Strimzi no longer serves has no schema anywhere either.
    assert "unknown kind Kafka in kafka.strimzi.io/v1beta2" in found


def test_crd_schema_catches_bad_custom_resources(
    broken: list[Manifest], crds: dict[crd_schema.GroupVersionKind, crd_schema.Schema]
) -> None:
    found = messages(crd_schema.validate_all(broken, crds))
    assert "kafka.strimzi.io/v1beta2 is not served" in found
    assert "partitions: 'three' is not of type 'integer'" in found
    assert "'retention' was unexpected" in found
    assert "'v0_1' is not one of" in found


def test_policy_catches_every_violation(broken: list[Manifest]) -> None:
    found = messages(policy.check_all(broken))
    for expected in [
        "image 'example/api:latest' has a floating tag",
        "image 'example/job' has a floating tag",
        "chart version '*' is not pinned",
        "needs requests and limits for cpu and memory",
        "needs runAsNonRoot: true",
        "needs capabilities.drop: [ALL]",
        "needs readOnlyRootFilesystem: true",
        "needs a livenessProbe",
        "needs a readinessProbe",
        "needs job.upgradeMode: savepoint",
        "no PodDisruptionBudget selects its pods",
        "namespace broken: no default-deny NetworkPolicy",
    ]:
        assert expected in found


def test_promtool_catches_bad_promql(broken: list[Manifest]) -> None:
    found = promrules.check_all(broken)
    assert {p.subject for p in found} == {
        "PrometheusRule broken/broken-rules",
        "ConfigMap broken/broken-dashboard",
    }


def test_secret_check_catches_literals() -> None:
    assert "literal-secret: literals; use envs" in messages(check_tree(FIXTURES / "broken"))


def test_hadolint_catches_a_bad_dockerfile() -> None:
    found = messages(dockerfiles.lint(FIXTURES / "broken.Dockerfile"))
    for rule in ["DL3007", "DL3014", "DL3003", "DL3025"]:
        assert rule in found


def test_compose_check_catches_a_bad_compose_file() -> None:
    found = messages(compose.check(FIXTURES / "broken-compose.yml"))
    for expected in [
        "no/such/Dockerfile does not exist",
        "image 'postgres:latest' has a floating tag",
        "depends on unknown service cache",
        "sets STREAMFLOW_PG_PASWORD_TYPO, which no settings class of the service reads",
        "worker: built from this repo but declares no x-streamflow-settings",
    ]:
        assert expected in found
