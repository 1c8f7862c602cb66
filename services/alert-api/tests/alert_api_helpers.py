"""Test helpers: land rows in bronze as the ingestor would (scored records through the ingestor's
own writer, as its role, so the projection triggers run as in production)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg.types.json import Json, Jsonb

from streamflow.alert_api.config import Settings
from streamflow.events import (
    FraudAlert,
    RuleContribution,
    ScoredTransaction,
    Severity,
    Topic,
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
            "transaction_id, schema_version, payload) "
            "values ('transactions.raw', 0, %s, %s, %s, %s)",
            (next(_offsets), txn.transaction_id, txn.schema_version, Json(_json(txn))),
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


def make_scored(
    txn: Transaction,
    *,
    score: float = 0.3,
    is_alert: bool = False,
    rules: tuple[str, ...] = (),
    rules_version: int = 1,
    scored_at: datetime | None = None,
    model_version: str | None = "iforest-test",
) -> ScoredTransaction:
    """The scorer's record of ``txn``: ``rules`` fired (one non-firing FR-002 is listed too)."""
    contributions = [
        RuleContribution(
            rule_id=rule,
            triggered=True,
            score=1.0,
            weight=0.3,
            contribution=0.3,
            explanation=f"{rule} fired for {txn.transaction_id}",
        )
        for rule in rules
    ]
    if "FR-002" not in rules:
        contributions.append(
            RuleContribution(
                rule_id="FR-002",
                triggered=False,
                score=0.0,
                weight=0.2,
                contribution=0.0,
                explanation="not fired",
            )
        )
    return ScoredTransaction(
        transaction=txn,
        fraud_score=score,
        is_alert=is_alert,
        rule_contributions=contributions,
        reasons=[c.explanation for c in contributions if c.triggered],
        rules_version=rules_version,
        model_version=model_version,
        scored_at=scored_at or txn.event_time + timedelta(milliseconds=120),
    )


def land_batch(
    dsn_settings: Settings,
    topic: Topic,
    records: list[tuple[bytes, bytes]],
    offsets: list[int],
    topic_name: str | None = None,
) -> int:
    """Land ``(key, value)`` records of ``topic`` in bronze as one batch, with the ingestor's own
    validation and batch writer (COPY, or the staging merge on re-delivered offsets), logged in
    as the ingestor's role; returns the rows bronze inserted. ``offsets``: the Kafka offsets
    (re-use one to re-deliver)."""
    import asyncio
    import tempfile
    from pathlib import Path

    from streamflow.ingestor.records import PlainRecord, parse_records
    from streamflow.ingestor.tables import SPECS
    from streamflow.ingestor.writer import BronzeWriter

    spec = SPECS[topic]
    name = topic_name or topic.value
    kafka = [
        PlainRecord(name, 0, offset, None, key, value)
        for offset, (key, value) in zip(offsets, records, strict=True)
    ]
    batch = parse_records(spec, kafka, 1_000_000)
    assert not batch.dead, batch.dead
    ingestor = dsn_settings.pg.as_role("streamflow_ingestor")

    async def write() -> int:
        with tempfile.TemporaryDirectory() as spool:
            writer = BronzeWriter(
                ingestor.dsn(),
                pool_size=1,
                connect_timeout_s=5,
                retry_initial_s=0.1,
                retry_max_s=1,
                spool_path=Path(spool) / "spool.jsonl",
            )
            await writer.start()
            try:
                result = await writer.write(spec, batch, lambda: False)
            finally:
                await writer.close()
        assert result is not None
        return result.inserted

    return asyncio.run(write())


def land_scored(
    dsn_settings: Settings,
    records: list[ScoredTransaction],
    *,
    offsets: list[int] | None = None,
    topic: str = "transactions.scored",
) -> int:
    """Land scored records in bronze through :func:`land_batch`; returns the rows bronze
    inserted. ``offsets``: the Kafka offsets (re-use one to re-deliver)."""
    where = offsets or [next(_offsets) for _ in records]
    pairs = [(r.transaction.customer_id.encode(), encode(r)) for r in records]
    return land_batch(dsn_settings, Topic.TRANSACTIONS_SCORED, pairs, where, topic)


def transaction_for(alert: FraudAlert) -> Transaction:
    """The example transaction, renamed to the alert's transaction, at the alert's event time."""
    txn = examples.transaction(alert.transaction_id, alert.customer_id)
    return txn.model_copy(update={"event_time": alert.event_time})


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
