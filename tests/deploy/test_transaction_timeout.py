"""The scorer's Kafka transaction timeout fits under every broker's maximum (docs/adr/0092).

A producer whose ``transaction.timeout.ms`` exceeds the broker's ``transaction.max.timeout.ms``
is refused at InitProducerId, so the exactly-once sinks could not start. Checked against the
config the local broker is started with (scripts/infra/kafka.sh) and the rendered Strimzi Kafka
CR of every overlay (including any scorer pod env override).
"""

from __future__ import annotations

import re
from pathlib import Path

from scripts.k8s.render import Manifest
from streamflow.fraud_scorer.config import Settings

REPO = Path(__file__).resolve().parents[2]
BROKER_DEFAULT_MAX_MS = 900_000
"""Kafka's default ``transaction.max.timeout.ms`` when a config does not set it."""
ENV = "STREAMFLOW_SCORER_KAFKA_TRANSACTION_TIMEOUT_MS"
SCORER_TIMEOUT_MS = Settings.model_fields["kafka_transaction_timeout_ms"].default


def local_broker_max_ms() -> int:
    script = (REPO / "scripts" / "infra" / "kafka.sh").read_text(encoding="utf-8")
    found = re.findall(r"^transaction\.max\.timeout\.ms=(\d+)\s*$", script, re.MULTILINE)
    assert len(found) <= 1, "transaction.max.timeout.ms set twice in kafka.sh"
    return int(found[0]) if found else BROKER_DEFAULT_MAX_MS


def test_scorer_timeout_covers_an_hour_of_outage() -> None:
    assert SCORER_TIMEOUT_MS >= 3_600_000


def test_local_broker_accepts_the_scorers_timeout() -> None:
    assert local_broker_max_ms() >= SCORER_TIMEOUT_MS


def test_every_overlays_kafka_accepts_the_scorers_timeout(
    overlays: dict[str, list[Manifest]],
) -> None:
    for name, objs in overlays.items():
        kafkas = [o for o in objs if o["kind"] == "Kafka"]
        assert kafkas, name
        allowed = min(
            int(
                k["spec"]["kafka"]
                .get("config", {})
                .get("transaction.max.timeout.ms", BROKER_DEFAULT_MAX_MS)
            )
            for k in kafkas
        )
        timeout = SCORER_TIMEOUT_MS
        for obj in objs:
            if obj["kind"] == "ConfigMap" and ENV in (obj.get("data") or {}):
                timeout = max(timeout, int(obj["data"][ENV]))
            if obj["kind"] == "FlinkDeployment":
                for container in obj["spec"]["podTemplate"]["spec"]["containers"]:
                    for env in container.get("env", []):
                        if env["name"] == ENV and "value" in env:
                            timeout = max(timeout, int(env["value"]))
        assert timeout <= allowed, f"{name}: scorer {timeout} ms > broker maximum {allowed} ms"


def test_the_check_fails_for_a_timeout_above_the_maximum() -> None:
    """The comparison really bites: the old default broker maximum is below the timeout."""
    assert SCORER_TIMEOUT_MS > BROKER_DEFAULT_MAX_MS
