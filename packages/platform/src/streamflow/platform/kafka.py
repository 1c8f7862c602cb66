"""Kafka client configuration (confluent-kafka) and idempotent topic creation."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streamflow.events.topics import TOPICS, TopicSpec
from streamflow.platform.settings import KafkaSettings, TopicSettings


def producer_config(
    kafka: KafkaSettings, client_id: str, **overrides: str | int
) -> dict[str, object]:
    """An idempotent, acks=all, compressed producer: no duplicates from retries, no loss."""
    config: dict[str, object] = {
        **kafka.client_config(),
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        "linger.ms": 20,
        "batch.size": 262_144,
    }
    config.update(overrides)
    return config


def consumer_config(
    kafka: KafkaSettings, group_id: str, **overrides: str | int | bool
) -> dict[str, object]:
    """A read_committed consumer that commits offsets only when told to."""
    config: dict[str, object] = {
        **kafka.client_config(),
        "group.id": group_id,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    config.update(overrides)
    return config


def ensure_topics(
    kafka: KafkaSettings,
    topics: TopicSettings,
    specs: Iterable[TopicSpec] = TOPICS.values(),
    timeout_s: float = 30.0,
) -> list[str]:
    """Create any missing topic with its spec's partitions and configs; return those created."""
    admin = AdminClient(kafka.client_config())
    wanted = [
        NewTopic(
            topics.name(spec.topic),
            num_partitions=spec.partitions,
            replication_factor=1,
            config=spec.configs(),
        )
        for spec in specs
    ]
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [topic for topic in wanted if topic.topic not in existing]
    if not missing:
        return []
    created = []
    for name, future in admin.create_topics(missing, request_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def delete_topics(kafka: KafkaSettings, names: Iterable[str], timeout_s: float = 30.0) -> None:
    """Delete topics (used by tests that made throwaway topics); missing ones are ignored."""
    admin = AdminClient(kafka.client_config())
    for future in admin.delete_topics(list(names), operation_timeout=timeout_s).values():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
