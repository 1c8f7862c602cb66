"""Benchmark of the ingestor: sustained rows/s into bronze and lag recovery after a burst.

Against the real local Kafka and PostgreSQL (``make up``): throwaway topics and a throwaway
database; one ingestor process (in this interpreter) on ``transactions.raw``.

1. Backlog: N transactions are produced first, then the ingestor starts; rows/s = N / time from
   the first landed row to the last.
2. Burst: with the ingestor caught up, a burst of B transactions is produced; recovery = time from
   the end of the burst to the moment every record is in bronze (its lag is zero).

"Landed" means durable and acknowledged: the offsets the ingestor committed, which it does only
after the batch's database commit, read in the event loop every 10 ms (:func:`wait_landed`).
One ``count(*)`` at the end checks that bronze holds exactly N + B rows.

CPU: the ingestor runs in this interpreter, so its cost is the process CPU time (user + system,
``resource.getrusage``) over each phase minus what the bench's own helper threads used (producing
the burst; measured with ``time.thread_time``). ``cpu_ms_per_1k_rows``
is comparable across runs on a loaded machine where the wall rates are not.

Usage: ``scripts/uv.sh run python bench/ingestor.py [--events 200000] [--burst 100000]
[--profile FILE]``; writes ``bench/results/ingestor.json``. ``--profile`` writes a cProfile of
the event-loop thread (the ingestor) to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import resource
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
from confluent_kafka import Producer
from psycopg import sql

from streamflow.events import Topic, encode, encode_key, examples
from streamflow.events.topics import TOPICS
from streamflow.ingestor.app import Ingestor
from streamflow.ingestor.config import Settings
from streamflow.platform.kafka import delete_topics, ensure_topics, producer_config
from streamflow.platform.migrations import migrate
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

RESULTS = Path(__file__).resolve().parent / "results" / "ingestor.json"
_TX = encode(examples.transaction("TXID", "CUST")).decode()


class HelperCpu:
    """CPU seconds the bench's own helper threads used (not the ingestor's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds


HELPERS = HelperCpu()


def process_cpu_s() -> float:
    """User + system CPU seconds of this whole process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def produce(kafka: KafkaSettings, topic: str, start: int, count: int) -> None:
    started = time.thread_time()
    try:
        _produce(kafka, topic, start, count)
    finally:
        HELPERS.add(time.thread_time() - started)


def _produce(kafka: KafkaSettings, topic: str, start: int, count: int) -> None:
    producer = Producer(producer_config(kafka, "bench-ingestor"))
    for i in range(start, start + count):
        customer = f"C{i % 997:04d}"
        value = _TX.replace("TXID", f"tx-{i:09d}").replace("CUST", customer).encode()
        key = encode_key(examples.transaction(customer_id=customer).key()) if i < 997 else None
        while True:
            try:
                producer.produce(topic, key=key or customer.encode(), value=value)
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(120)


def count(pg: PostgresSettings) -> int:
    """Rows in bronze's transactions table (checked once, after the run)."""
    with psycopg.connect(pg.dsn()) as conn:
        row = conn.execute("select count(*) from bronze.transactions").fetchone()
        return int(row[0]) if row else 0


async def wait_landed(ingestor: Ingestor, want: int, poll_s: float = 0.01) -> float:
    """The moment at least ``want`` records are durable: the sum over partitions of the offsets
    the ingestor committed (it commits a batch's offsets only after its database commit; the
    bench topic starts empty, holds no invalid records and has one agent). Read in this event
    loop: polling ``count(*)`` instead cost the machine a parallel table scan every 50 ms and a
    new database connection each time, which depressed the rate being measured."""
    while sum(o for a in ingestor.agents for o in a.committed.values()) < want:  # noqa: ASYNC110
        await asyncio.sleep(poll_s)
    return time.perf_counter()


def ingestor_cpu_s(since_process: float, since_helpers: float) -> float:
    """Process CPU since a mark, minus the helper threads' share (so: the ingestor's)."""
    return (process_cpu_s() - since_process) - (HELPERS.seconds - since_helpers)


async def run(events: int, burst: int, profile: Path | None = None) -> dict[str, object]:
    kafka, admin_pg = KafkaSettings(), PostgresSettings()
    suffix = uuid.uuid4().hex[:8]
    topics = TopicSettings(transactions_raw=f"bench-{suffix}.transactions.raw")
    db = f"bench_{suffix}"
    ensure_topics(kafka, topics, [TOPICS[Topic.TRANSACTIONS_RAW]])
    with psycopg.connect(admin_pg.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
    pg = admin_pg.model_copy(update={"database": db})
    migrate(pg.dsn())
    try:
        t0 = time.perf_counter()
        produce(kafka, topics.transactions_raw, 0, events)
        produce_s = time.perf_counter() - t0
        settings = Settings(topics=topics, pg=pg, group_id=f"bench-{suffix}", metrics_port=0)
        ingestor = Ingestor(settings, topics=[Topic.TRANSACTIONS_RAW])
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        cpu0, helpers0 = process_cpu_s(), HELPERS.seconds
        task = asyncio.create_task(ingestor.serve())
        first = await wait_landed(ingestor, 1)
        last = await wait_landed(ingestor, events)
        backlog_cpu = ingestor_cpu_s(cpu0, helpers0)
        backlog_rate = events / (last - first)
        # Burst: produce B more while the ingestor runs; recovery from the end of the burst.
        cpu1, helpers1 = process_cpu_s(), HELPERS.seconds
        await asyncio.to_thread(produce, kafka, topics.transactions_raw, events, burst)
        burst_end = time.perf_counter()
        done = await wait_landed(ingestor, events + burst)
        burst_cpu = ingestor_cpu_s(cpu1, helpers1)
        ingestor.shutdown()
        await task
        landed = count(pg)
        if landed != events + burst:
            raise RuntimeError(f"bronze holds {landed} rows, expected {events + burst}")
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(profile))
        cpu_s = backlog_cpu + burst_cpu
        return {
            "component": "ingestor",
            "library": "aiokafka, COPY text (ADR 0021)",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
            "events": events,
            "produce_s": round(produce_s, 2),
            "backlog_rows_per_s": round(backlog_rate),
            "burst_events": burst,
            "burst_lag_zero_after_s": round(done - burst_end, 2),
            "batch_max_records": settings.batch_max_records,
            # Ingestor CPU (process minus the bench's helper threads), start-up included.
            "cpu_s": round(cpu_s, 2),
            "cpu_ms_per_1k_rows": round(1e6 * cpu_s / (events + burst), 1),
            "backlog_cpu_ms_per_1k_rows": round(1e6 * backlog_cpu / events, 1),
            "burst_cpu_ms_per_1k_rows": round(1e6 * burst_cpu / burst, 1),
            "bar": {"rows_per_s": 50_000, "lag_zero_within_s": 5},
        }
    finally:
        delete_topics(kafka, [topics.transactions_raw])
        drop_database(admin_pg, db)


def drop_database(admin_pg: PostgresSettings, db: str, attempts: int = 5) -> None:
    """Drop the throwaway database; a busy server (autovacuum, a stray session) gets retries."""
    for attempt in range(attempts):
        try:
            with psycopg.connect(admin_pg.dsn(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db))
                )
            return
        except psycopg.Error as exc:
            if attempt == attempts - 1:
                print(f"warning: could not drop database {db}: {exc}", file=sys.stderr)
                return
            time.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--burst", type=int, default=100_000)
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output file")
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.burst, args.profile))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
