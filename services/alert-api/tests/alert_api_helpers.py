"""Test helpers: land rows in the bronze tables the API reads (as the ingestor would)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from streamflow.alert_api.config import Settings
from streamflow.events import (
    FraudAlert,
    Severity,
    Transaction,
    TriggeredRule,
    WindowMetrics,
    alert_id_for,
    encode,
    examples,
)

_offsets = itertools.count(1)
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_alert(
    n: int,
    *,
    customer_id: str = "C0001",
    merchant_id: str = "M0042",
    score: float = 0.8,
    rules: tuple[str, ...] = ("FR-001",),
    detected_at: datetime | None = None,
) -> FraudAlert:
    """A valid alert for transaction ``tx-<n>``."""
    tx = f"tx-{n:06d}"
    when = detected_at or T0 + timedelta(minutes=n)
    return FraudAlert(
        alert_id=alert_id_for(tx, 1),
        transaction_id=tx,
        customer_id=customer_id,
        merchant_id=merchant_id,
        amount=Decimal("4800.00"),
        score=score,
        severity=Severity.from_score(score),
        triggered_rules=[
            TriggeredRule(
                rule_id=rule,
                score=1.0,
                contribution=round(0.5 / (i + 1), 3),
                explanation=f"{rule} fired because of test case {n}",
            )
            for i, rule in enumerate(rules)
        ],
        rules_version=1,
        model_version="iforest-test",
        event_time=when - timedelta(milliseconds=150),
        detected_at=when,
    )


def land_alert(dsn: str, alert: FraudAlert, topic: str = "fraud.alerts") -> None:
    """Insert the alert's bronze row (a fresh Kafka offset each time: duplicates allowed)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "insert into bronze.fraud_alerts (kafka_topic, kafka_partition, kafka_offset, "
            "alert_id, transaction_id, customer_id, merchant_id, score, severity, rules_version, "
            "event_time, detected_at, schema_version, payload) "
            "values (%s, 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                topic,
                next(_offsets),
                alert.alert_id,
                alert.transaction_id,
                alert.customer_id,
                alert.merchant_id,
                alert.score,
                alert.severity.value,
                alert.rules_version,
                alert.event_time,
                alert.detected_at,
                alert.schema_version,
                Jsonb(_json(alert)),
            ),
        )


def land_transaction(dsn: str, txn: Transaction) -> None:
    """Insert the transaction's bronze row."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "insert into bronze.transactions (kafka_topic, kafka_partition, kafka_offset, "
            "transaction_id, customer_id, card_id, merchant_id, store_id, amount, currency, "
            "event_time, schema_version, payload) "
            "values ('transactions.raw', 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                next(_offsets),
                txn.transaction_id,
                txn.customer_id,
                txn.card_id,
                txn.merchant_id,
                txn.store_id,
                txn.amount,
                txn.currency,
                txn.event_time,
                txn.schema_version,
                Jsonb(_json(txn)),
            ),
        )


def land_window(dsn: str, window: WindowMetrics) -> None:
    """Insert a real-time metrics window's bronze row."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "insert into bronze.realtime_metrics (kafka_topic, kafka_partition, kafka_offset, "
            "store_id, window_start, window_end, window_seconds, txn_count, amount_sum, "
            "fraud_count, schema_version, payload) "
            "values ('metrics.realtime', 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                next(_offsets),
                window.store_id,
                window.window_start,
                window.window_end,
                window.window_seconds,
                window.count,
                window.amount_sum,
                window.fraud_count,
                window.schema_version,
                Jsonb(_json(window)),
            ),
        )


def transaction_for(alert: FraudAlert) -> Transaction:
    """The example transaction, renamed to the alert's transaction."""
    return examples.transaction(alert.transaction_id, alert.customer_id)


def _json(event: object) -> object:
    import json

    return json.loads(encode(event))  # type: ignore[arg-type]


def produce_alert(settings: Settings, alert: FraudAlert) -> None:
    """Produce a real FraudAlert to the (test) ``fraud.alerts`` topic, as the scorer does."""
    from confluent_kafka import Producer

    from streamflow.events import encode_key
    from streamflow.platform.kafka import producer_config

    topic = settings.topics.fraud_alerts
    producer = Producer(producer_config(settings.kafka, "test-scorer"))
    producer.produce(topic, key=encode_key(alert.key()), value=encode(alert))
    assert producer.flush(10) == 0


def land_alerts_from_kafka(settings: Settings, expected: int) -> int:
    """Stand-in for the ingestor: consume ``fraud.alerts`` and write bronze rows with the record's
    real Kafka coordinates (to be replaced by the ingestor service once it is ready)."""
    from confluent_kafka import Consumer

    from streamflow.events import decode
    from streamflow.platform.kafka import consumer_config

    topic = settings.topics.fraud_alerts
    consumer = Consumer(consumer_config(settings.kafka, f"test-ingest-{topic}"))
    consumer.subscribe([topic])
    landed = 0
    try:
        for _ in range(60):
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                if landed >= expected:
                    break
                continue
            alert = decode(FraudAlert, msg.value() or b"")
            with psycopg.connect(settings.pg.dsn()) as conn:
                conn.execute(
                    "insert into bronze.fraud_alerts (kafka_topic, kafka_partition, kafka_offset, "
                    "kafka_timestamp, alert_id, transaction_id, customer_id, merchant_id, score, "
                    "severity, rules_version, event_time, detected_at, schema_version, payload) "
                    "values (%s, %s, %s, to_timestamp(%s / 1000.0), %s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s, %s, %s) on conflict do nothing",
                    (
                        msg.topic(),
                        msg.partition(),
                        msg.offset(),
                        msg.timestamp()[1],
                        alert.alert_id,
                        alert.transaction_id,
                        alert.customer_id,
                        alert.merchant_id,
                        alert.score,
                        alert.severity.value,
                        alert.rules_version,
                        alert.event_time,
                        alert.detected_at,
                        alert.schema_version,
                        Jsonb(_json(alert)),
                    ),
                )
            landed += 1
    finally:
        consumer.close()
    return landed
