"""docker-compose.test.yml: parses, builds from existing Dockerfiles, and sets only variables
that the services' settings classes read (k8s/policies/compose, run by conftest)."""

from __future__ import annotations

from typing import Any

import yaml

from scripts.k8s.paths import COMPOSE_FILE, REPO_ROOT
from tests.deploy.checks import conftest

SERVICES = {
    "kafka",
    "postgres",
    "generator",
    "fraud-scorer",
    "ingestor",
    "alert-api",
    "test-runner",
}


def test_compose_structure_and_settings(facts: dict[str, Any]) -> None:
    problems = conftest("compose", facts, [str(COMPOSE_FILE.relative_to(REPO_ROOT))])
    assert not problems, "\n".join(problems)


def test_compose_runs_the_whole_stack() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    assert set(services) >= SERVICES
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "alert-api" in services["test-runner"]["depends_on"]
