"""Pipeline accounting: topic scans, the Kafka-to-bronze equations, silver against gold."""

from __future__ import annotations

import psycopg
import pytest
from confluent_kafka import Producer

from streamflow.events import Topic, encode, encode_key
from streamflow.events.examples import dead_letter, scored, transaction
from streamflow.platform.kafka import producer_config, topic_record_count
from streamflow.platform.settings import (
    KafkaSettings,
    PostgresSettings,
    ServiceSettings,
    TopicSettings,
)
from streamflow.testkit.accounting import Check, audit, scan_topic, warehouse_checks


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
    assert topic_record_count(kafka_settings, topics.transactions_raw) == 25
    assert topic_record_count(kafka_settings, topics.metrics_realtime) == 0


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


def _warehouse(conn: psycopg.Connection[tuple[int]], silver: list[str], gold: list[str]) -> None:
    conn.execute("drop table if exists silver.stg_transactions, gold.fct_transactions")
    conn.execute("create table silver.stg_transactions (transaction_id text, amount numeric(14,2))")
    conn.execute("create table gold.fct_transactions (transaction_id text, amount numeric(14,2))")
    for table, rows in (("silver.stg_transactions", silver), ("gold.fct_transactions", gold)):
        for row in rows:
            txid, amount = row.split("=")
            conn.execute(
                f"insert into {table} values (%s, %s)",
                (txid, amount),
            )


@pytest.mark.integration
def test_warehouse_checks_compare_silver_and_gold(pg_settings: PostgresSettings) -> None:
    with psycopg.connect(pg_settings.dsn(), autocommit=True) as conn:
        # not built yet (fault runs never build it): no warehouse checks at all
        assert warehouse_checks(conn) == []

        _warehouse(conn, ["a=10.50", "b=2.25"], ["b=2.25", "a=10.50"])
        checks = warehouse_checks(conn)
        assert [c.name for c in checks] == [
            "warehouse: gold tables with no rows",
            "warehouse: gold.fct_transactions rows = silver.stg_transactions rows",
            "warehouse: transaction_ids in only one of silver and gold",
            "warehouse: sum(amount) in cents, silver = gold",
        ]
        assert all(c.ok for c in checks), checks

        # an id swapped for another with the same amount: counts and money agree, ids do not
        _warehouse(conn, ["a=10.50", "b=2.25"], ["a=10.50", "c=2.25"])
        failed = {c.name: c for c in warehouse_checks(conn) if not c.ok}
        assert set(failed) == {"warehouse: transaction_ids in only one of silver and gold"}
        assert failed["warehouse: transaction_ids in only one of silver and gold"].actual == 2

        # a cent lost in gold, and an empty gold table
        _warehouse(conn, ["a=10.50", "b=2.25"], ["a=10.49", "b=2.25"])
        conn.execute("create table gold.agg_empty (n int)")
        failed = {c.name: c for c in warehouse_checks(conn) if not c.ok}
        assert set(failed) == {
            "warehouse: gold tables with no rows",
            "warehouse: sum(amount) in cents, silver = gold",
        }
        money = failed["warehouse: sum(amount) in cents, silver = gold"]
        assert (money.expected, money.actual) == (1275, 1274)
