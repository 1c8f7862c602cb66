"""docker-compose.test.yml: parses, builds from existing Dockerfiles, and sets only variables
that the services' settings classes read."""

from __future__ import annotations

from scripts.k8s import compose
from scripts.k8s.paths import COMPOSE_FILE

SERVICES = {
    "kafka",
    "postgres",
    "generator",
    "fraud-scorer",
    "ingestor",
    "alert-api",
    "test-runner",
}


def test_compose_structure_and_settings() -> None:
    problems = compose.check(COMPOSE_FILE)
    assert not problems, "\n".join(map(str, problems))


def test_compose_runs_the_whole_stack() -> None:
    services = compose.load(COMPOSE_FILE)["services"]
    assert set(services) >= SERVICES
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "alert-api" in services["test-runner"]["depends_on"]
