"""Consume-only throughput of the two candidate Kafka libraries for the ingestor (ADR 0020).

Same topic (3 partitions, lz4, N transaction-sized JSON records), same machine, nothing but
receiving the records: aiokafka ``getmany`` batches versus a faust-streaming agent taking batches
(``stream.take(5000, within=0.2)``). faust-streaming is not a workspace dependency; run this in a
throwaway environment::

    scripts/uv.sh venv /tmp/faustbench/.venv
    VIRTUAL_ENV=/tmp/faustbench/.venv scripts/uv.sh pip install faust-streaming 'aiokafka[lz4]' \
        confluent-kafka
    /tmp/faustbench/.venv/bin/python bench/ingestor_libraries.py aiokafka 100000
    /tmp/faustbench/.venv/bin/python bench/ingestor_libraries.py faust 30000

Prints (and, for faust, which exits from inside its worker, writes to ``--out``) one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

BOOT = os.environ.get("STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
OUT = Path(os.environ.get("LIBBENCH_OUT", "/tmp/ingestor_libraries.json"))  # noqa: S108
VALUE = (
    b'{"schema_version":1,"transaction_id":"tx-00000001","event_time":"2026-11-01T14:30:00Z",'
    b'"customer_id":"C0001","card_id":"K0001-1","merchant_id":"M0042","store_id":"S0042-01",'
    b'"product_id":"P0100","amount":"4800.00","currency":"BRL","payment_method":"credit_card",'
    b'"channel":"pos","latitude":-23.5505,"longitude":-46.6333,"device_id":null}'
)


def make_topic(n: int) -> str:
    """A fresh 3-partition topic holding ``n`` records."""
    name = f"libbench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": BOOT})
    admin.create_topics([NewTopic(name, 3, 1)])[name].result()
    producer = Producer(
        {
            "bootstrap.servers": BOOT,
            "linger.ms": 20,
            "compression.type": "lz4",
            "enable.idempotence": True,
            "acks": "all",
        }
    )
    for i in range(n):
        while True:
            try:
                producer.produce(name, key=f"C{i % 997}".encode(), value=VALUE)
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(60)
    return name


def drop(name: str) -> None:
    """Delete the topic."""
    admin = AdminClient({"bootstrap.servers": BOOT})
    admin.delete_topics([name])[name].result()


def report(library: str, n: int, rate: float) -> None:
    """Print and save the result line."""
    line = json.dumps({"library": library, "records": n, "consume_records_per_s": round(rate)})
    OUT.write_text(line + "\n")
    print(line, flush=True)


async def aiokafka_rate(topic: str, n: int) -> float:
    """Records/s through ``getmany`` batches with a commit per batch."""
    from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=BOOT,
        group_id=f"g-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=2 * 1024 * 1024,
    )
    await consumer.start()
    seen, t0 = 0, 0.0
    while seen < n:
        got = await consumer.getmany(timeout_ms=200, max_records=5000)
        for records in got.values():
            t0 = t0 or time.perf_counter()
            seen += len(records)
        if got:
            await consumer.commit()
    rate = n / (time.perf_counter() - t0)
    await consumer.stop()
    return rate


def faust_rate(topic: str, n: int) -> None:
    """Run a faust worker whose agent counts batches; it reports and exits at ``n``."""
    import faust

    app = faust.App(
        f"fb-{uuid.uuid4().hex[:6]}",
        broker=f"kafka://{BOOT}",
        value_serializer="raw",
        store="memory://",
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=5000,
        stream_buffer_maxsize=20000,
    )
    source = app.topic(topic, value_serializer="raw")
    state: dict[str, float] = {"seen": 0, "t0": 0.0}

    @app.agent(source)  # type: ignore[untyped-decorator]
    async def count(stream: Any) -> None:
        async for batch in stream.take(5000, within=0.2):
            state["t0"] = state["t0"] or time.perf_counter()
            state["seen"] += len(batch)
            if state["seen"] >= n:
                report("faust-streaming", n, n / (time.perf_counter() - state["t0"]))
                drop(topic)
                os._exit(0)  # the worker's own shutdown is slow and noisy; the number is out

    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


def main() -> None:
    """``ingestor_libraries.py aiokafka|faust [N]``."""
    library = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    topic = make_topic(n)
    if library == "faust":
        faust_rate(topic, n)
        return
    try:
        report("aiokafka", n, asyncio.run(aiokafka_rate(topic, n)))
    finally:
        drop(topic)


if __name__ == "__main__":
    main()
