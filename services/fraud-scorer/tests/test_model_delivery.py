"""Model delivery to the running job over ``fraud.models``, on the real broker in a MiniCluster.

A shadow release is scored on every later transaction but never alerts; a release to the current
slot (a promotion) changes later records' ``model_version`` and alerts, without a restart; corrupt
and feature-incompatible releases are dead-lettered while scoring goes on with the old versions;
after kill -9 both versions come back from the checkpointed broadcast state.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from streamflow.events import ModelRelease, ModelSlot, encode, encode_key
from streamflow.fraud_scorer.runner.checkpoints import latest_checkpoint
from streamflow.platform.settings import KafkaSettings, TopicSettings
from streamflow.scoring.gbdt import GbdtModel, TreeArrays, stump
from streamflow.scoring.model_release import release_of
from streamflow.scoring.supervised_features import FEATURE_SET, SUPERVISED_FEATURE_NAMES

from .conftest import JobProcess, TopicReader, make_txn, produce, produce_txns, recent

pytestmark = [pytest.mark.integration, pytest.mark.flink]

NAME = "streamflow-fraud-gbdt"
HIGH = math.log1p(1_000.0)
"""The stump models flag payments above 1,000."""


def _release(model: GbdtModel, slot: ModelSlot) -> ModelRelease:
    return release_of(model, model_name=NAME, slot=slot, published_at=datetime.now(UTC))


def _publish(kafka: KafkaSettings, topic: str, release: ModelRelease | bytes) -> None:
    if isinstance(release, ModelRelease):
        produce(kafka, topic, [(encode_key(release.key()), encode(release))])
    else:
        produce(kafka, topic, [(b'{"model_name":"x","slot":"shadow"}', release)])


class Probe:
    """Send a fresh customer's big payment until ``done`` holds for its scored record."""

    def __init__(self, job: JobProcess, kafka: KafkaSettings, topics: TopicSettings, reader: Any):
        self.job, self.kafka, self.topics = job, kafka, topics
        self.scored: TopicReader = reader(topics.transactions_scored)
        self.alerts: TopicReader = reader(topics.fraud_alerts, 1)
        self.count = 0

    def until(self, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def check(values: list[dict[str, Any]]) -> bool:
            probes = [v for v in values if v["transaction"]["customer_id"].startswith("PROBE")]
            hits = [v for v in probes if done(v)]
            if hits:
                found.append(hits[-1])
                return True
            if len(probes) >= self.count:  # every probe so far scored: send another
                self.count += 1
                txn = make_txn(f"probe-{self.count}", f"PROBE{self.count:04d}", recent(), "2500.00")
                produce_txns(self.kafka, self.topics.transactions_raw, [txn])
            return False

        self.scored.poll_until(check, self.job)
        return found[0]


def test_models_are_shadowed_promoted_refused_and_restored(
    job: JobProcess,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
    reader: Callable[..., TopicReader],
) -> None:
    job.start()
    probe = Probe(job, kafka_settings, topics, reader)
    before = probe.until(lambda v: True)
    assert before["shadow_model_version"] is None
    assert before["features"] is None
    anomaly_version = before["model_version"]

    # 1. shadow: scored and recorded, alerts unchanged
    a = stump("gbdt-test-a", "log_amount", HIGH)
    _publish(kafka_settings, topics.fraud_models, _release(a, ModelSlot.SHADOW))
    shadowed = probe.until(lambda v: v["shadow_model_version"] == "gbdt-test-a")
    assert shadowed["shadow_score"] > 0.9
    assert shadowed["feature_set"] == FEATURE_SET
    assert len(shadowed["features"]) == len(SUPERVISED_FEATURE_NAMES)
    assert shadowed["model_version"] == anomaly_version
    assert shadowed["is_alert"] is False  # a new customer's big payment: no rule fires

    # 2. promotion: the same version becomes current, later records alert with its reasons
    _publish(kafka_settings, topics.fraud_models, _release(a, ModelSlot.CURRENT))
    promoted = probe.until(lambda v: v["model_version"] == "gbdt-test-a")
    assert promoted["shadow_model_version"] is None  # the shadow was promoted
    assert promoted["is_alert"] is True
    assert promoted["model_score"] > 0.9
    tid = promoted["transaction"]["transaction_id"]
    alert = probe.alerts.poll_until(lambda vs: any(x["transaction_id"] == tid for x in vs), job)[-1]
    assert alert["model_version"] == "gbdt-test-a"
    model_rule = next(r for r in alert["triggered_rules"] if r["rule_id"] == "MODEL")
    assert "amount 2,500.00" in model_rule["explanation"]

    # 3. refused: a corrupt file, a lying checksum, other features; scoring goes on with a
    dlq = reader(topics.dlq, 1)
    b = stump("gbdt-test-b", "log_amount", HIGH)
    lying = _release(b, ModelSlot.CURRENT).model_copy(update={"sha256": "0" * 64})
    garbage = b"not a model file"
    corrupt = _release(b, ModelSlot.CURRENT).model_copy(
        update={
            "model_base64": base64.b64encode(garbage).decode(),
            "size_bytes": len(garbage),
            "sha256": hashlib.sha256(garbage).hexdigest(),
        }
    )
    other = GbdtModel(
        TreeArrays(
            np.array([-1], dtype=np.int32),
            np.zeros(1),
            np.array([-1], dtype=np.int32),
            np.array([-1], dtype=np.int32),
            np.zeros(1),
            np.array([0], dtype=np.int32),
        ),
        {"version": "gbdt-old", "platt_a": 1.0, "platt_b": 0.0, "feature_names": ["x"]},
    )
    for bad in (lying, corrupt, _release(other, ModelSlot.CURRENT)):
        _publish(kafka_settings, topics.fraud_models, bad)
    _publish(kafka_settings, topics.fraud_models, b"{not json")
    letters = dlq.poll_until(lambda vs: sum(x["stage"] == "models" for x in vs) >= 4, job)
    assert {x["error_type"] for x in letters if x["stage"] == "models"} == {
        "model_checksum_mismatch",
        "model_unreadable",
        "model_incompatible_features",
        "json_invalid",
    }
    assert probe.until(lambda v: True)["model_version"] == "gbdt-test-a"

    # 4. kill -9 and restart: current a and a new shadow c come back from the checkpoint
    c = stump("gbdt-test-c", "log_amount", math.log1p(100.0))
    _publish(kafka_settings, topics.fraud_models, _release(c, ModelSlot.SHADOW))
    probe.until(lambda v: v["shadow_model_version"] == "gbdt-test-c")
    checkpoints = job.env["STREAMFLOW_SCORER_CHECKPOINT_DIR"]
    first = latest_checkpoint(checkpoints)
    probe.until(lambda v: latest_checkpoint(checkpoints) not in (None, first))
    sent = probe.count
    job.kill()
    job.start()
    restored = probe.until(lambda v: int(v["transaction"]["customer_id"][5:]) > sent)
    assert restored["model_version"] == "gbdt-test-a"
    assert restored["shadow_model_version"] == "gbdt-test-c"
