"""The rego policies (k8s/policies, run by conftest) pass their own unit tests, pass on both
overlays and on the kustomize sources, and catch the ACL gap issue 17 found."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from scripts.k8s.paths import KUSTOMIZE_DIR, OVERLAYS, REPO_ROOT
from scripts.k8s.render import Manifest
from tests.deploy.checks import check, conftest, sources


def test_policies_are_formatted_and_pass_their_unit_tests() -> None:
    """`conftest fmt --check` and `conftest verify --strict` (the *_test.rego files)."""
    result = check("verify")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifest_policies(
    overlay: str, rendered_text: dict[str, str], facts: dict[str, Any]
) -> None:
    problems = conftest("manifests", facts, ["-"], rendered_text[overlay])
    assert not problems, "\n".join(problems)


def test_kustomize_sources_hold_no_secret(facts: dict[str, Any]) -> None:
    problems = conftest("sources", facts, sources(KUSTOMIZE_DIR))
    assert not problems, "\n".join(problems)


def test_secret_env_files_are_git_ignored() -> None:
    gitignore = (REPO_ROOT / ".gitignore").read_text().splitlines()
    assert "k8s/kustomize/**/secrets/*.env" in gitignore


def test_an_acl_gap_in_prod_is_caught(
    overlays: dict[str, list[Manifest]], facts: dict[str, Any]
) -> None:
    """The prod ingestor reads transactions.raw (issue 17): without that ACL the policy fails."""
    objs = copy.deepcopy(overlays["prod"])
    [user] = [o for o in objs if o["kind"] == "KafkaUser" and o["metadata"]["name"] == "ingestor"]
    acls = user["spec"]["authorization"]["acls"]
    user["spec"]["authorization"]["acls"] = [
        a for a in acls if a["resource"]["name"] != "transactions.raw"
    ]
    problems = conftest("manifests", facts, ["-"], yaml.safe_dump_all(objs))
    assert problems == [
        "[k8s.kafka] KafkaUser ingestor: no Read on topic transactions.raw, which Deployment"
        " streamflow/ingestor uses (STREAMFLOW_TOPIC_TRANSACTIONS_RAW)"
    ]


def test_facts_follow_the_code(facts: dict[str, Any]) -> None:
    workloads = facts["streamflow"]["workloads"]
    uses = {
        key: {(u["operation"], u["default"]) for u in w["kafka"] if u["resource"] == "topic"}
        for key, w in workloads.items()
    }
    assert ("Read", "transactions.raw") in uses["Deployment/ingestor"]
    assert len(uses["Deployment/ingestor"]) == 6
    assert uses["Deployment/generator"] == {
        ("Write", "transactions.raw"),
        ("Write", "fraud.feedback"),
    }
    assert uses["Deployment/alert-api"] == {
        ("Write", "fraud.feedback"),
        ("Read", "fraud.rules"),
        ("Write", "fraud.rules"),
    }
    scorer = uses["FlinkDeployment/fraud-scorer"]
    assert {t for op, t in scorer if op == "Read"} == {
        "transactions.raw",
        "fraud.rules",
        "fraud.feedback",
        "fraud.models",
    }
    assert len(scorer) == 8
    assert "STREAMFLOW_SCORER_PARALLELISM" in workloads["FlinkDeployment/fraud-scorer"]["env"]
