"""Every contract survives a real produce/consume round trip, and bronze accepts a real write."""

from __future__ import annotations

import psycopg
import pytest
from confluent_kafka import Consumer, Producer

from streamflow.events import TOPICS, Topic, decode, decode_key, encode, encode_key
from streamflow.events.examples import EXAMPLES, transaction
from streamflow.platform.kafka import consumer_config, producer_config
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

pytestmark = pytest.mark.integration


def _key_of(topic: Topic) -> bytes:
    event = EXAMPLES[topic]
    key = event.dlq_key() if topic is Topic.DLQ else event.key()  # type: ignore[attr-defined]
    return encode_key(key)


def test_every_contract_round_trips_through_the_broker(
    kafka_settings: KafkaSettings, topics: TopicSettings
) -> None:
    producer = Producer(producer_config(kafka_settings, "round-trip-test"))
    for topic, event in EXAMPLES.items():
        producer.produce(topics.name(topic), key=_key_of(topic), value=encode(event))
    assert producer.flush(30) == 0

    consumer = Consumer(consumer_config(kafka_settings, f"round-trip-{topics.dlq}"))
    consumer.subscribe([topics.name(t) for t in Topic])
    received: dict[str, tuple[bytes, bytes]] = {}
    try:
        for _ in range(120):
            message = consumer.poll(0.5)
            if message is None or message.error():
                if len(received) == len(Topic):
                    break
                continue
            received[message.topic() or ""] = (message.key() or b"", message.value() or b"")
            if len(received) == len(Topic):
                break
    finally:
        consumer.close()

    assert set(received) == {topics.name(t) for t in Topic}
    for topic in Topic:
        key, value = received[topics.name(topic)]
        spec = TOPICS[topic]
        assert decode(spec.value_model, value) == EXAMPLES[topic]
        assert decode_key(spec.key_model, key) == decode_key(spec.key_model, _key_of(topic))


def test_bronze_write_and_read(pg_settings: PostgresSettings) -> None:
    event = transaction()
    payload = encode(event).decode()
    with psycopg.connect(pg_settings.dsn()) as conn:
        conn.execute(
            """
            insert into bronze.transactions (kafka_topic, kafka_partition, kafka_offset,
                transaction_id, schema_version, payload)
            select 'transactions.raw', 0, 7, p->>'transaction_id',
                (p->>'schema_version')::smallint, p
            from (select %s::json as p) as s
            """,
            (payload,),
        )
        rows = conn.execute(
            "select (payload->>'amount')::numeric, payload::text from bronze.transactions"
        ).fetchall()
    assert len(rows) == 1
    assert rows[0][0] == event.amount
    assert rows[0][1] == payload  # json keeps the text as written (V053)
    assert decode(type(event), rows[0][1]) == event
