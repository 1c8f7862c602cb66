"""Integration: every topic lands in bronze exactly once; bad records land in dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from ingestor_helpers import produce, scalar, transaction_bytes  # type: ignore[import-not-found]

from streamflow.events import DeadLetter, Topic, encode, encode_key, examples
from streamflow.ingestor.app import Ingestor
from streamflow.ingestor.config import Settings
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

pytestmark = pytest.mark.integration


def _settings() -> Settings:
    return Settings(
        group_id=f"ingestor-test-{uuid.uuid4().hex[:8]}",
        metrics_port=0,
        batch_max_wait_ms=50,
        batch_max_records=500,
        lag_interval_s=0.2,
    )


async def _until(predicate: object, timeout_s: float = 90.0) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await asyncio.to_thread(predicate):
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


async def _http_get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@contextlib.asynccontextmanager
async def running_ingestor() -> AsyncIterator[Ingestor]:
    ingestor = Ingestor(_settings())
    task = asyncio.create_task(ingestor.serve())
    await _until(lambda: len(ingestor.agents) == 6 and all(a.assigned for a in ingestor.agents))
    yield ingestor
    ingestor.shutdown()
    assert await asyncio.wait_for(task, 60) == 0


_EXAMPLES = {
    Topic.TRANSACTIONS_RAW: examples.transaction(),
    Topic.TRANSACTIONS_SCORED: examples.scored(),
    Topic.FRAUD_ALERTS: examples.alert(),
    Topic.FRAUD_FEEDBACK: examples.feedback(),
    Topic.METRICS_REALTIME: examples.window_metrics(),
    Topic.DLQ: examples.dead_letter(),
}
_TABLES = {
    Topic.TRANSACTIONS_RAW: "transactions",
    Topic.TRANSACTIONS_SCORED: "scored_transactions",
    Topic.FRAUD_ALERTS: "fraud_alerts",
    Topic.FRAUD_FEEDBACK: "feedback",
    Topic.METRICS_REALTIME: "realtime_metrics",
    Topic.DLQ: "dlq_events",
}


async def test_every_topic_lands_once_and_bad_records_are_dead_letters(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
) -> None:
    async with running_ingestor() as running:
        for topic, event in _EXAMPLES.items():
            key = event.dlq_key() if isinstance(event, DeadLetter) else event.key()  # type: ignore[attr-defined]
            produce(kafka_settings, topics.name(topic), [(encode_key(key), encode(event))] * 2)
        good = [transaction_bytes(i) for i in range(1000)]
        # Spaced and ordered as no encoder here writes it: bronze keeps the text as received.
        spaced = json.dumps(dict(reversed(json.loads(good[500][1]).items())), indent=1).encode()
        good[500] = (good[500][0], spaced)
        bad: list[tuple[bytes | None, bytes | None]] = [
            (b"k", b"{not json"),
            (b"k", json.dumps({**json.loads(good[0][1]), "schema_version": 99}).encode()),
            (b"k", json.dumps({**json.loads(good[0][1]), "amount": "-1.00"}).encode()),
            (b"k", b"x" * 300_000),
            (b"k", None),
            (b"k", b"\xff\xfe"),
        ]
        raw = topics.name(Topic.TRANSACTIONS_RAW)
        produce(kafka_settings, raw, good + bad + good[:10])

        def landed() -> bool:
            total = scalar(pg_settings, "select count(*) from bronze.transactions")
            dead = scalar(pg_settings, "select count(*) from bronze.dead_letters")
            return bool(total >= 1012 and dead >= 6)

        await _until(landed)
        await _until(
            lambda: all(
                scalar(pg_settings, f"select count(*) from bronze.{t}") == 2
                for topic, t in _TABLES.items()
                if topic is not Topic.TRANSACTIONS_RAW
            )
        )
        # Every Kafka record once (the ten re-sent are new records, so new rows).
        assert scalar(pg_settings, "select count(*) from bronze.transactions") == 1012
        assert (
            scalar(pg_settings, "select count(distinct transaction_id) from bronze.transactions")
            == 1001
        )
        # A transaction's value lands byte for byte (payload json, V053, docs/adr/0125).
        kept = _rows(
            pg_settings,
            "select payload::text, payload ->> 'channel' from bronze.transactions"
            " where transaction_id = 'tx-00000500'",
        )
        assert kept == [(spaced.decode(), json.loads(spaced)["channel"])]
        reasons = {
            r
            for (r,) in _rows(pg_settings, "select error_type from bronze.dead_letters order by 1")
        }
        assert reasons == {
            "invalid_json",
            "unsupported_schema_version",
            "contract",
            "oversized",
            "empty_value",
            "invalid_utf8",
        }
        msg = _rows(
            pg_settings,
            "select error_message from bronze.dead_letters where error_type = 'contract'",
        )[0][0]
        assert "amount" in str(msg)

        # Offsets are committed after the rows: lag drops to zero and the probes say so.
        await _until(lambda: all(_lag_zero(running) for _ in [0]))
        status, body = await _http_get(running.health.port, "/readyz")
        assert status == 200, body
        status, body = await _http_get(running.health.port, "/metrics")
        assert b'streamflow_ingestor_rows_total{outcome="dead_letter"' in body
        status, _ = await _http_get(running.health.port, "/healthz")
        assert status == 200
        status, _ = await _http_get(running.health.port, "/nope")
        assert status == 404


def _lag_zero(ingestor: Ingestor) -> bool:
    samples = [s.value for metric in ingestor.metrics.lag.collect() for s in metric.samples]
    return bool(samples) and all(v == 0 for v in samples)


def _rows(pg: PostgresSettings, sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(pg.dsn()) as conn:
        return conn.execute(sql.encode()).fetchall()
