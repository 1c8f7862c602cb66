"""Shared helpers for the ingestor tests: producing events, counting topics and bronze rows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition

from streamflow.events import encode, encode_key, examples
from streamflow.platform.kafka import consumer_config, producer_config
from streamflow.platform.settings import KafkaSettings, PostgresSettings

REPO = Path(__file__).resolve().parents[3]
_TX = encode(examples.transaction("TXID", "CUST")).decode()


def transaction_bytes(i: int) -> tuple[bytes, bytes]:
    """(key, value) of a valid transaction with a unique id."""
    customer = f"C{i % 997:04d}"
    value = _TX.replace("TXID", f"tx-{i:08d}").replace("CUST", customer).encode()
    return encode_key(examples.transaction(customer_id=customer).key()), value


def produce(
    kafka: KafkaSettings, topic: str, items: Iterable[tuple[bytes | None, bytes | None]]
) -> int:
    """Produce (key, value) pairs and flush; returns how many."""
    producer = Producer(producer_config(kafka, "ingestor-tests"))
    n = 0
    for key, value in items:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        n += 1
        if n % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0
    return n


def count_topic(kafka: KafkaSettings, topic: str, timeout_s: float = 120.0) -> int:
    """How many records a read_committed consumer sees on ``topic`` (to the end offsets)."""
    consumer = Consumer(consumer_config(kafka, f"count-{time.time_ns()}"))
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        tps = [TopicPartition(topic, p, 0) for p in meta.partitions]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        consumer.assign(tps)
        todo = {p for p, end in ends.items() if end > 0}
        seen = 0
        deadline = time.monotonic() + timeout_s
        while todo and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, timeout=1.0):
                if msg.error():
                    continue
                seen += 1
            for tp in consumer.position([TopicPartition(topic, p) for p in list(todo)]):
                if tp.offset >= ends[tp.partition]:
                    todo.discard(tp.partition)
        return seen
    finally:
        consumer.close()


def scalar(pg: PostgresSettings, sql: str, *params: object) -> int:
    """One integer from the database."""
    with psycopg.connect(pg.dsn()) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])


def wait_rows(pg: PostgresSettings, sql: str, want: int, timeout_s: float = 180.0) -> int:
    """Poll ``sql`` (a count) until it reaches ``want`` or the deadline passes; return the last."""
    deadline = time.monotonic() + timeout_s
    got = -1
    while time.monotonic() < deadline:
        try:
            got = scalar(pg, sql)
        except psycopg.OperationalError:
            got = -1
        if got >= want:
            return got
        time.sleep(0.5)
    return got


def start_ingestor(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """The ingestor as a subprocess (so it can be killed)."""
    full = {**os.environ, **env}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streamflow.ingestor", "run"],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


class PrivatePostgres:
    """A throwaway PostgreSQL cluster run by ``scripts/infra/postgres.sh`` in its own dir/port."""

    def __init__(self, local_dir: Path, port: int) -> None:
        self.port = port
        self.settings = PostgresSettings(port=port, database="streamflow")
        self._env = {
            **os.environ,
            "STREAMFLOW_LOCAL_DIR": str(local_dir),
            "STREAMFLOW_PG_PORT": str(port),
            "STREAMFLOW_PG_FSYNC": "off",
        }

    def _ctl(self, action: str) -> None:
        script = str(REPO / "scripts" / "infra" / "postgres.sh")
        subprocess.run(
            [script, action], env=self._env, check=True, timeout=120, capture_output=True
        )

    def start(self) -> None:
        """Start (or restart) the cluster."""
        self._ctl("start")

    def stop(self) -> None:
        """Stop it (fast shutdown: connections are cut)."""
        self._ctl("stop")


def http_status(port: int, path: str) -> int:
    """The HTTP status of GET ``path`` on the loopback port (0 if nothing answers)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = s.recv(64)
    except OSError:
        return 0
    parts = head.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    """Wait until the ingestor answers /readyz with 200 (or fail if it exits)."""
    deadline = time.monotonic() + timeout_s
    while http_status(port, "/readyz") != 200:
        assert proc.poll() is None, f"ingestor exited with {proc.returncode}"
        assert time.monotonic() < deadline, "ingestor not ready in time"
        time.sleep(0.3)
