"""Exact per-stage accounting of the pipeline: what Kafka holds versus what bronze holds.

Used after fault runs and by the demo. Kafka topics are counted with a read_committed consumer
(aborted transactional writes are invisible, as to every real consumer). Because bronze rows are
keyed by their Kafka coordinates, equal counts mean equal sets: no record lost, none doubled.
Once the warehouse has been built (``silver.stg_transactions`` and ``gold.fct_transactions``
exist, as after ``make demo``'s DAG runs), silver and gold are checked too: every gold table
populated, the same set of transaction_ids and the same sum(amount) in both.

``python -m streamflow.testkit.accounting`` prints the checks and exits 1 if any fails.
"""

from __future__ import annotations

import hashlib
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from confluent_kafka import Consumer, TopicPartition
from psycopg import sql

from streamflow.events import ScoredTransaction, Topic, alert_id_for, decode
from streamflow.events.dead_letters import DeadLetter, Stage
from streamflow.platform.kafka import consumer_config
from streamflow.platform.settings import KafkaSettings, ServiceSettings, load_settings


@dataclass(frozen=True, slots=True)
class Check:
    """One accounting equation and whether it holds."""

    name: str
    expected: int
    actual: int

    @property
    def ok(self) -> bool:
        """Whether both sides are equal."""
        return self.expected == self.actual


@dataclass(slots=True)
class TopicScan:
    """What a read_committed scan of one topic saw."""

    records: int = 0
    matched: int = 0
    keys: set[str] = field(default_factory=set)


def scan_topic(
    kafka: KafkaSettings,
    topic: str,
    extract: Callable[[bytes], str | None] | None = None,
    timeout_s: float = 120.0,
) -> TopicScan:
    """Read a whole topic (read_committed) and optionally collect one key per record."""
    consumer = Consumer(consumer_config(kafka, f"streamflow-accounting-{uuid.uuid4().hex[:8]}"))
    scan = TopicScan()
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = list(metadata.topics[topic].partitions)
        ends: dict[int, int] = {}
        for partition in partitions:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10
            )
            ends[partition] = high
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        pending = {p for p, high in ends.items() if high > 0}
        deadline = _deadline(timeout_s)
        while pending and not deadline():
            for message in consumer.consume(num_messages=5000, timeout=0.5):
                if message.error():
                    continue
                scan.records += 1
                if extract is not None:
                    key = extract(message.value() or b"")
                    if key is not None:
                        scan.matched += 1
                        scan.keys.add(key)
            for partition in list(pending):
                position = consumer.position([TopicPartition(topic, partition)])[0].offset
                if position >= ends[partition]:
                    pending.discard(partition)
        if pending:
            raise TimeoutError(f"{topic}: could not read to the end of partitions {pending}")
    finally:
        consumer.close()
    return scan


def _deadline(seconds: float) -> Callable[[], bool]:
    end = time.monotonic() + seconds
    return lambda: time.monotonic() > end


def _count(conn: psycopg.Connection[tuple[int]], query: str, *params: object) -> int:
    row = conn.execute(query.encode(), params).fetchone()
    return int(row[0]) if row else 0


WAREHOUSE_TABLES = ("silver.stg_transactions", "gold.fct_transactions")
GOLD_TABLES_MAYBE_EMPTY = frozenset({"agg_shadow_comparison"})
"""Gold tables empty by design until something happens (no shadow model has scored yet)."""


def warehouse_checks(conn: psycopg.Connection[tuple[int]]) -> list[Check]:
    """Silver against gold, or nothing when the warehouse was not built (e.g. fault runs)."""
    built = conn.execute(
        "select count(*) from unnest(%s::text[]) as t(name) where to_regclass(t.name) is not null",
        (list(WAREHOUSE_TABLES),),
    ).fetchone()
    if built is None or built[0] != len(WAREHOUSE_TABLES):
        return []
    gold_tables = [
        str(row[0])
        for row in conn.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'gold' and table_type = 'BASE TABLE' order by table_name"
        )
    ]
    empty = 0
    for table in (t for t in gold_tables if t not in GOLD_TABLES_MAYBE_EMPTY):
        probe = sql.SQL("select count(*) from (select 1 from {} limit 1) as t").format(
            sql.Identifier("gold", table)
        )
        row = conn.execute(probe).fetchone()
        empty += 0 if row and row[0] else 1
    silver = _count(conn, "select count(*) from silver.stg_transactions")
    gold = _count(conn, "select count(*) from gold.fct_transactions")
    only_one_side = _count(
        conn,
        "select count(*) from silver.stg_transactions as s"
        " full join gold.fct_transactions as f on f.transaction_id = s.transaction_id"
        " where s.transaction_id is null or f.transaction_id is null",
    )
    # money compared exactly, in cents (amount is numeric(14, 2) on both sides)
    silver_cents = _count(
        conn, "select coalesce(sum(amount) * 100, 0)::bigint from silver.stg_transactions"
    )
    gold_cents = _count(
        conn, "select coalesce(sum(amount) * 100, 0)::bigint from gold.fct_transactions"
    )
    return [
        Check("warehouse: gold tables with no rows", 0, empty),
        Check("warehouse: gold.fct_transactions rows = silver.stg_transactions rows", silver, gold),
        Check("warehouse: transaction_ids in only one of silver and gold", 0, only_one_side),
        Check("warehouse: sum(amount) in cents, silver = gold", silver_cents, gold_cents),
    ]


def audit(settings: ServiceSettings) -> list[Check]:
    """Every accounting equation of the pipeline, evaluated now."""
    topics = settings.topics
    raw_topic, scored_topic = (
        topics.name(Topic.TRANSACTIONS_RAW),
        topics.name(Topic.TRANSACTIONS_SCORED),
    )
    raw = scan_topic(settings.kafka, raw_topic)
    expected_alerts: set[str] = set()

    def scored_key(value: bytes) -> str:
        event = decode(ScoredTransaction, value)
        if event.is_alert:
            expected_alerts.add(alert_id_for(event.transaction.transaction_id, event.rules_version))
        return event.transaction.transaction_id

    scored = scan_topic(settings.kafka, scored_topic, scored_key)

    def scorer_rejection(value: bytes) -> str | None:
        letter = decode(DeadLetter, value)
        if letter.stage is not Stage.SCORER or letter.source_topic != raw_topic:
            return None
        if letter.source_offset is not None:
            return f"{letter.source_partition}:{letter.source_offset}"
        # PyFlink's Kafka source hands the job no record metadata: identify by the raw payload.
        return "payload:" + hashlib.sha256(letter.raw_bytes()).hexdigest()

    dlq = scan_topic(settings.kafka, topics.name(Topic.DLQ), scorer_rejection)

    with psycopg.connect(settings.pg.dsn()) as conn:
        bronze_raw = _count(
            conn, "select count(*) from bronze.transactions where kafka_topic = %s", raw_topic
        )
        dead_raw = _count(
            conn, "select count(*) from bronze.dead_letters where kafka_topic = %s", raw_topic
        )
        distinct_txn = _count(
            conn,
            "select count(distinct transaction_id) from bronze.transactions where kafka_topic = %s",
            raw_topic,
        )
        bronze_scored = _count(
            conn,
            "select count(*) from bronze.scored_transactions where kafka_topic = %s",
            scored_topic,
        )
        dead_scored = _count(
            conn, "select count(*) from bronze.dead_letters where kafka_topic = %s", scored_topic
        )
        distinct_scored = _count(
            conn,
            "select count(distinct transaction_id) from bronze.scored_transactions "
            "where kafka_topic = %s",
            scored_topic,
        )
        alert_ids = {
            str(row[0])
            for row in conn.execute(
                "select distinct alert_id from bronze.fraud_alerts where kafka_topic = %s",
                (topics.name(Topic.FRAUD_ALERTS),),
            )
        }
        warehouse = warehouse_checks(conn)
    return [
        Check(
            "raw records = bronze.transactions + ingestor dead letters",
            raw.records,
            bronze_raw + dead_raw,
        ),
        Check("bronze.transactions: each transaction_id once", bronze_raw, distinct_txn),
        Check(
            "raw records = scored + scorer rejections (DLQ)",
            raw.records,
            scored.records + dlq.matched,
        ),
        Check(
            "scored topic: each transaction_id once (read_committed)",
            scored.records,
            len(scored.keys),
        ),
        Check(
            "scorer rejections: each rejected record once in the DLQ",
            dlq.matched,
            len(dlq.keys),
        ),
        Check(
            "scored records = bronze.scored_transactions + dead letters",
            scored.records,
            bronze_scored + dead_scored,
        ),
        Check(
            "bronze.scored_transactions: each transaction_id once", bronze_scored, distinct_scored
        ),
        Check(
            "alert ids in bronze = alerts the scored stream implies",
            len(expected_alerts),
            len(alert_ids & expected_alerts),
        ),
        Check("no alert id in bronze without a scored alert", 0, len(alert_ids - expected_alerts)),
        *warehouse,
    ]


def main() -> int:
    """Print every check; exit 1 if any fails."""
    checks = audit(load_settings(ServiceSettings))
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.name}: expected {check.expected}, found {check.actual}")
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
