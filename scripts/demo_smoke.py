"""Interim ``make demo`` (until the full pipeline demo lands): every contract through the broker.

Produces one example of every contract (fresh ids on every run) to its topic, reads them all back
with a read_committed consumer, validates them against their contracts, lands the transaction in
``bronze.transactions`` idempotently, and prints a summary.
"""

from __future__ import annotations

import sys
import time
import uuid

import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition

from streamflow.events import TOPICS, Topic, decode, encode, encode_key
from streamflow.events.examples import EXAMPLES, transaction
from streamflow.platform.kafka import consumer_config, ensure_topics, producer_config
from streamflow.platform.migrations import migrate
from streamflow.platform.readiness import wait_for_kafka, wait_for_postgres
from streamflow.platform.settings import ServiceSettings, load_settings


def main() -> int:
    settings = load_settings(ServiceSettings)
    wait_for_kafka(settings.kafka)
    wait_for_postgres(settings.pg)
    ensure_topics(settings.kafka, settings.topics)
    migrate(settings.pg.dsn())
    run = uuid.uuid4().hex[:8]
    events = dict(EXAMPLES)
    events[Topic.TRANSACTIONS_RAW] = transaction(transaction_id=f"demo-{run}")

    producer = Producer(producer_config(settings.kafka, "streamflow-demo"))
    positions: dict[Topic, tuple[int, int]] = {}

    def remember(topic: Topic):  # type: ignore[no-untyped-def]
        def done(err, msg):  # type: ignore[no-untyped-def]
            if err is None:
                positions[topic] = (msg.partition(), msg.offset())

        return done

    for topic, event in events.items():
        key = event.dlq_key() if topic is Topic.DLQ else event.key()  # type: ignore[attr-defined]
        producer.produce(
            settings.topics.name(topic),
            key=encode_key(key),
            value=encode(event),
            on_delivery=remember(topic),
        )
    producer.flush(30)

    consumer = Consumer(consumer_config(settings.kafka, f"streamflow-demo-{run}"))
    checked = 0
    for topic, (partition, offset) in positions.items():
        consumer.assign([TopicPartition(settings.topics.name(topic), partition, offset)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                assert decode(TOPICS[topic].value_model, message.value()) == events[topic]
                checked += 1
                if topic is Topic.TRANSACTIONS_RAW:
                    raw_message = message
                break
    consumer.close()

    with psycopg.connect(settings.pg.dsn()) as conn:
        txn = events[Topic.TRANSACTIONS_RAW]
        conn.execute(
            """insert into bronze.transactions (kafka_topic, kafka_partition, kafka_offset,
                 transaction_id, customer_id, card_id, merchant_id, store_id, amount, currency,
                 event_time, schema_version, payload)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)
               on conflict do nothing""",
            (
                raw_message.topic(),
                raw_message.partition(),
                raw_message.offset(),
                txn.transaction_id,
                txn.customer_id,
                txn.card_id,
                txn.merchant_id,  # type: ignore[attr-defined]
                txn.store_id,
                txn.amount,
                txn.currency,
                txn.event_time,  # type: ignore[attr-defined]
                txn.schema_version,
                raw_message.value().decode(),
            ),
        )
        total = conn.execute("select count(*) from bronze.transactions").fetchone()

    print(f"StreamFlow demo (platform smoke), run {run}")
    print(f"  contracts produced and read back (read_committed): {checked}/{len(events)}")
    print(f"  bronze.transactions rows now: {total[0] if total else 0}")
    return 0 if checked == len(events) else 1


if __name__ == "__main__":
    sys.exit(main())
