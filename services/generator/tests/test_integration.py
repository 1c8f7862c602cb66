"""Against the real local Kafka and PostgreSQL: counts, labels, chargebacks, SIGTERM, faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    TopicPartition,
)

from streamflow.events import ContractError, Feedback, Transaction, decode
from streamflow.generator import cli
from streamflow.generator.refdb import seed_reference
from streamflow.generator.reference import build_reference
from streamflow.platform.kafka import consumer_config
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

pytestmark = pytest.mark.integration
ARGS = ["--seed", "3", "--count", "6000", "--days", "10", "--customers", "300", "--metrics-port",
        "0", "--progress-interval", "0.5"]  # fmt: skip


def consume_all(
    kafka: KafkaSettings, topic: str, expected: int, timeout_s: float = 60
) -> list[Any]:
    consumer = Consumer(consumer_config(kafka, f"test-{time.time_ns()}"))
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    consumer.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < expected and time.monotonic() < deadline:
        records += [m for m in consumer.consume(5000, timeout=1.0) if m.error() is None]
    # anything beyond the expected count would show up here
    records += [m for m in consumer.consume(5000, timeout=1.0) if m.error() is None]
    consumer.close()
    return records


def test_stream_counts_labels_and_chargebacks(
    service_env: dict[str, str], kafka_settings: KafkaSettings, topics: TopicSettings,
    pg_settings: PostgresSettings, tmp_path: Path, capsys: Any,
) -> None:  # fmt: skip
    labels_path = tmp_path / "labels.parquet"
    started_ms = time.time() * 1000
    code = cli.main([*ARGS, "--malformed-rate", "0.01", "--chargeback-delay-days", "1",
                     "--labels-out", str(labels_path)])  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["transactions"] == 6000
    assert summary["errors"] == 0
    assert summary["unflushed"] == 0
    assert summary["delivered"] == 6000 + summary["malformed"] + summary["feedback"]
    assert summary["malformed"] > 0

    records = consume_all(kafka_settings, topics.transactions_raw, 6000 + summary["malformed"])
    assert len(records) == 6000 + summary["malformed"]  # N produced = N consumed
    valid: list[Transaction] = []
    broken = 0
    for record in records:
        try:
            tx = decode(Transaction, record.value())
        except ContractError:
            broken += 1
            continue
        valid.append(tx)
        assert json.loads(record.key()) == {"customer_id": tx.customer_id}
        kind, ts = record.timestamp()
        # produce (or append) time, never the back-dated event time
        assert kind in (TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME)
        assert ts >= started_ms - 1000
        assert tx.event_time.timestamp() * 1000 < started_ms  # back-dated event time
    assert broken == summary["malformed"]
    assert len(valid) == 6000

    labels = pq.read_table(labels_path).to_pylist()
    by_id = {row["transaction_id"]: row for row in labels}
    assert {tx.transaction_id for tx in valid} == set(by_id)
    fraud = {t for t, row in by_id.items() if row["label"] == 1}
    assert summary["fraud"] == len(fraud)
    assert 0.005 < len(fraud) / 6000 < 0.04
    per_scenario = Counter(row["scenario"] for row in labels if row["label"] == 1)
    assert dict(per_scenario) == {k: v for k, v in summary["scenarios"].items() if v}
    assert len(per_scenario) >= 5

    chargebacks = consume_all(kafka_settings, topics.fraud_feedback, len(fraud))
    assert len(chargebacks) == len(fraud)
    event_time = {tx.transaction_id: tx.event_time for tx in valid}
    for record in chargebacks:
        fb = decode(Feedback, record.value())
        assert fb.transaction_id in fraud
        assert fb.source == "chargeback"
        assert fb.label == "fraud"
        delay_h = (fb.reported_at - event_time[fb.transaction_id]).total_seconds() / 3600
        assert 24 <= delay_h <= 24 + 48

    with psycopg.connect(pg_settings.dsn()) as conn:
        customers = conn.execute("select count(*) from ref.customers").fetchone()
        merchants = conn.execute(
            "select count(*) from ref.merchants where risk_tier = 'blacklisted'"
        ).fetchone()
        known = conn.execute(
            "select count(*) from ref.cards where card_id = any(%s)",
            (list({tx.card_id for tx in valid}),),
        ).fetchone()
    assert customers == (300,)
    assert merchants == (3,)
    assert known == (len({tx.card_id for tx in valid}),)


def test_reference_upsert_is_idempotent(pg_settings: PostgresSettings) -> None:
    ref = build_reference(5, 200)
    first = seed_reference(pg_settings.dsn(), ref)
    second = seed_reference(pg_settings.dsn(), ref)
    assert first == second
    with psycopg.connect(pg_settings.dsn()) as conn:
        for table, rows in first.items():
            assert conn.execute(f"select count(*) from ref.{table}").fetchone() == (rows,)


def test_sigterm_flushes_and_exits_cleanly(
    service_env: dict[str, str], kafka_settings: KafkaSettings, topics: TopicSettings
) -> None:
    port = free_loopback_port()
    env = {**os.environ, **service_env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamflow.generator", "--seed", "4", "--count", "1000000",
         "--customers", "300", "--rate", "4000", "--metrics-port", str(port),
         "--progress-interval", "0.5", "--no-seed-reference"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "sent=" in line:
                break
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        assert b'streamflow_generator_records_sent_total{kind="transaction"}' in metrics
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["stopped_by_signal"] is True
    assert 0 < summary["transactions"] < 1_000_000
    assert summary["errors"] == 0
    assert summary["unflushed"] == 0
    records = consume_all(kafka_settings, topics.transactions_raw, summary["delivered"])
    assert len(records) == summary["delivered"] - summary["feedback"]


def test_broker_down_is_retried_and_reported(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_loopback_port()}")
    monkeypatch.setenv("STREAMFLOW_GENERATOR_CONNECT_TIMEOUT_S", "3")
    started = time.monotonic()
    assert cli.main([*ARGS, "--no-seed-reference"]) == 3
    err = capsys.readouterr().err
    assert "retrying in" in err
    assert "unreachable after" in err
    assert time.monotonic() - started < 60  # never a silent hang


def test_postgres_down_is_reported(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("STREAMFLOW_PG_PORT", str(free_loopback_port()))
    assert cli.main([*ARGS, "--reference-only"]) == 4
    assert "PostgreSQL unreachable" in capsys.readouterr().err
