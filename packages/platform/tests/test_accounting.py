from __future__ import annotations

import pytest
from confluent_kafka import Producer

from streamflow.events import Topic, encode, encode_key
from streamflow.events.examples import dead_letter, scored, transaction
from streamflow.platform.accounting import Check, audit, scan_topic
from streamflow.platform.kafka import producer_config
from streamflow.platform.settings import (
    KafkaSettings,
    PostgresSettings,
    ServiceSettings,
    TopicSettings,
)


def test_check_compares_both_sides() -> None:
    assert Check("x", 3, 3).ok
    assert not Check("x", 3, 4).ok


@pytest.mark.integration
def test_scan_counts_committed_records_and_keys(
    kafka_settings: KafkaSettings, topics: TopicSettings
) -> None:
    producer = Producer(producer_config(kafka_settings, "accounting-test"))
    for i in range(25):
        txn = transaction(transaction_id=f"t{i % 20}", customer_id=f"C{i}")
        producer.produce(topics.transactions_raw, key=encode_key(txn.key()), value=encode(txn))
    producer.flush(30)
    scan = scan_topic(kafka_settings, topics.transactions_raw, lambda v: v[:0].decode() or "k")
    assert scan.records == 25
    assert scan.matched == 25
    assert scan.keys == {"k"}
    empty = scan_topic(kafka_settings, topics.metrics_realtime)
    assert (empty.records, empty.matched) == (0, 0)


@pytest.mark.integration
def test_audit_flags_a_transaction_missing_from_bronze(
    kafka_settings: KafkaSettings, topics: TopicSettings, pg_settings: PostgresSettings
) -> None:
    producer = Producer(producer_config(kafka_settings, "accounting-test"))
    txn, result, letter = transaction(), scored(), dead_letter()
    producer.produce(topics.transactions_raw, key=encode_key(txn.key()), value=encode(txn))
    producer.produce(topics.transactions_raw, value=b"{broken")
    producer.produce(topics.transactions_scored, value=encode(result))
    rejected = letter.model_copy(update={"source_topic": topics.transactions_raw})
    producer.produce(topics.name(Topic.DLQ), value=encode(rejected))
    producer.flush(30)
    settings = ServiceSettings(kafka=kafka_settings, pg=pg_settings, topics=topics)
    checks = {c.name: c for c in audit(settings)}
    assert checks["raw records = scored + scorer rejections (DLQ)"].ok
    assert checks["scored topic: each transaction_id once (read_committed)"].ok
    missing = checks["raw records = bronze.transactions + ingestor dead letters"]
    assert (missing.expected, missing.actual) == (2, 0)
    assert not checks["alert ids in bronze = alerts the scored stream implies"].ok


@pytest.mark.integration
def test_ensure_topics_aligns_configs_of_existing_topics(
    kafka_settings: KafkaSettings, topics: TopicSettings
) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

    from streamflow.platform.kafka import ensure_topics

    assert ensure_topics(kafka_settings, topics) == []
    admin = AdminClient(kafka_settings.client_config())
    resource = ConfigResource(ConfigResource.Type.TOPIC, topics.transactions_scored)
    config = admin.describe_configs([resource])[resource].result()
    assert config["message.timestamp.type"].value == "LogAppendTime"
