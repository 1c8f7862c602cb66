"""Topic names, their Kafka settings (partitions, retention, compaction) and their contracts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from streamflow.events.alerts import FraudAlert, FraudAlertKey
from streamflow.events.base import Contract, Key
from streamflow.events.dead_letters import DeadLetter, DeadLetterKey
from streamflow.events.feedback import Feedback, FeedbackKey
from streamflow.events.metrics import WindowMetrics, WindowMetricsKey
from streamflow.events.model_releases import ModelRelease, ModelReleaseKey
from streamflow.events.rules import RuleSet, RuleSetKey
from streamflow.events.scored import ScoredTransaction, ScoredTransactionKey
from streamflow.events.transactions import Transaction, TransactionKey

_DAY_MS = 86_400_000
MODEL_TOPIC_MAX_BYTES = 4 * 1024 * 1024
"""``fraud.models`` records carry a model file (at most 2 MiB, base64 in JSON)."""


class Topic(StrEnum):
    """The default topic names (deployments may rename them through settings)."""

    TRANSACTIONS_RAW = "transactions.raw"
    TRANSACTIONS_SCORED = "transactions.scored"
    FRAUD_ALERTS = "fraud.alerts"
    FRAUD_FEEDBACK = "fraud.feedback"
    FRAUD_RULES = "fraud.rules"
    FRAUD_MODELS = "fraud.models"
    METRICS_REALTIME = "metrics.realtime"
    DLQ = "streamflow.dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How a topic is created and which contracts its keys and values follow."""

    topic: Topic
    partitions: int
    retention_ms: int
    key_model: type[Key]
    value_model: type[Contract]
    compacted: bool = False
    max_message_bytes: int | None = None
    """The topic's ``max.message.bytes`` when larger than the broker's default (~1 MiB)."""

    def configs(self) -> dict[str, str]:
        """Topic-level Kafka configs.

        Record timestamps are the broker's append time on every topic: producers such as Flink's
        Kafka sink stamp records with their (possibly weeks-old) event time, which would make
        retention drop back-dated history at once and hide the real end-to-end latency.
        """
        base = {"message.timestamp.type": "LogAppendTime"}
        if self.max_message_bytes is not None:
            base["max.message.bytes"] = str(self.max_message_bytes)
        if self.compacted:
            return {**base, "cleanup.policy": "compact", "min.compaction.lag.ms": "0"}
        return {**base, "cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


TOPICS: dict[Topic, TopicSpec] = {
    spec.topic: spec
    for spec in (
        TopicSpec(Topic.TRANSACTIONS_RAW, 3, 7 * _DAY_MS, TransactionKey, Transaction),
        TopicSpec(
            Topic.TRANSACTIONS_SCORED, 3, 7 * _DAY_MS, ScoredTransactionKey, ScoredTransaction
        ),
        TopicSpec(Topic.FRAUD_ALERTS, 1, 30 * _DAY_MS, FraudAlertKey, FraudAlert),
        TopicSpec(Topic.FRAUD_FEEDBACK, 3, 30 * _DAY_MS, FeedbackKey, Feedback),
        TopicSpec(Topic.FRAUD_RULES, 1, -1, RuleSetKey, RuleSet, compacted=True),
        TopicSpec(
            Topic.FRAUD_MODELS,
            1,
            -1,
            ModelReleaseKey,
            ModelRelease,
            compacted=True,
            max_message_bytes=MODEL_TOPIC_MAX_BYTES,
        ),
        TopicSpec(Topic.METRICS_REALTIME, 1, 1 * _DAY_MS, WindowMetricsKey, WindowMetrics),
        TopicSpec(Topic.DLQ, 1, 14 * _DAY_MS, DeadLetterKey, DeadLetter),
    )
}
"""Every topic of the platform, with the seeds' partitions and retention."""
