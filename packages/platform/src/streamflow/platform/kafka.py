"""Kafka client configuration (confluent-kafka) and idempotent topic creation."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

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


def produce_one(  # noqa: PLR0917 - a record and where it goes
    kafka: KafkaSettings,
    client_id: str,
    topic: str,
    key: bytes,
    value: bytes,
    timeout_s: float = 30.0,
    **overrides: str | int,
) -> None:
    """Produce one record and wait for the broker's acknowledgement; raises RuntimeError."""
    producer = Producer(producer_config(kafka, client_id, **overrides))
    errors: list[str] = []

    def on_delivery(err: object, _msg: object) -> None:
        if err is not None:
            errors.append(str(err))

    producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    if producer.flush(timeout_s) != 0 or errors:
        raise RuntimeError(f"producing to {topic} failed: {errors or 'timeout'}")


def read_to_end(
    kafka: KafkaSettings, topic: str, client: str, timeout_s: float = 10.0
) -> Iterator[bytes]:
    """Every value of ``topic`` from its first offset to its end (a control topic's history,
    e.g. compacted rule sets or model releases), in order per partition; stops at the end of
    every partition or after ``timeout_s``. Null values (tombstones) are skipped."""
    consumer = Consumer(
        consumer_config(kafka, f"{client}-{time.time_ns()}", **{"enable.partition.eof": True})
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        partitions = [TopicPartition(topic, p, 0) for p in metadata.partitions]
        consumer.assign(partitions)
        remaining = {tp.partition for tp in partitions}
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(msg.partition())
                continue
            value = msg.value()
            if value is not None:
                yield value
    finally:
        consumer.close()


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
    """Create missing topics with their spec; align existing ones' configs; return those created."""
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
    _align_configs(admin, [t for t in wanted if t.topic in existing], timeout_s)
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


def _align_configs(admin: AdminClient, topics: list[NewTopic], timeout_s: float) -> None:
    """Set the spec's configs on topics that already exist (e.g. created by an older version)."""
    if not topics:
        return
    resources = [
        ConfigResource(
            ConfigResource.Type.TOPIC,
            topic.topic,
            incremental_configs=[
                ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
                for name, value in (topic.config or {}).items()
            ],
        )
        for topic in topics
    ]
    for future in admin.incremental_alter_configs(resources).values():
        future.result(timeout=timeout_s)


def delete_topics(kafka: KafkaSettings, names: Iterable[str], timeout_s: float = 30.0) -> None:
    """Delete topics (used by tests that made throwaway topics); missing ones are ignored."""
    admin = AdminClient(kafka.client_config())
    for future in admin.delete_topics(list(names), operation_timeout=timeout_s).values():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise


def topic_record_count(kafka: KafkaSettings, topic: str, timeout_s: float = 10.0) -> int:
    """Offsets in ``topic``: the sum over its partitions of high minus low watermark.

    That is the record count of a topic written by idempotent (non-transactional) producers
    with nothing deleted yet; a transactional topic also counts its commit markers.
    """
    consumer = Consumer(consumer_config(kafka, "streamflow-record-count"))
    try:
        partitions = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        total = 0
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s
            )
            total += high - low
        return total
    finally:
        consumer.close()
