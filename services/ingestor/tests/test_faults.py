"""Fault injection with exact accounting: kill -9 mid-stream, PostgreSQL away mid-stream.

The ingestor runs as a subprocess. After each fault it must end with bronze holding exactly what a
read_committed consumer counts on the topic (valid records in ``bronze.transactions``, malformed
ones in ``bronze.dead_letters``), every transaction_id once. Short versions run in ``make test``;
the full ones (200k events, three kills, a 30 s outage) are ``slow`` (``make test-faults``).
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from ingestor_helpers import (  # type: ignore[import-not-found]
    PrivatePostgres,
    count_topic,
    produce,
    scalar,
    start_ingestor,
    transaction_bytes,
    wait_ready,
    wait_rows,
)

from streamflow.events import Topic
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

pytestmark = pytest.mark.integration
MALFORMED = 25


def _stream(kafka: KafkaSettings, topic: str, events: int) -> threading.Thread:
    """Produce ``events`` valid transactions plus malformed ones, in the background."""
    step = max(1, events // MALFORMED)

    def items() -> object:
        for i in range(events):
            yield transaction_bytes(i)
            if i % step == 0 and i // step < MALFORMED:
                yield (b"bad", b'{"transaction_id": "broken"')

    thread = threading.Thread(target=produce, args=(kafka, topic, items()), daemon=True)
    thread.start()
    return thread


def _env(topics: TopicSettings, pg: PostgresSettings) -> dict[str, str]:
    env = {f"STREAMFLOW_TOPIC_{k.upper()}": v for k, v in topics.model_dump().items()}
    env.update(
        STREAMFLOW_PG_PORT=str(pg.port),
        STREAMFLOW_PG_DATABASE=pg.database,
        STREAMFLOW_INGESTOR_GROUP_ID=f"faults-{uuid.uuid4().hex[:8]}",
        STREAMFLOW_INGESTOR_METRICS_PORT=str(free_loopback_port()),
        STREAMFLOW_INGESTOR_BATCH_MAX_RECORDS="2000",
        STREAMFLOW_INGESTOR_RETRY_MAX_S="1.0",
        STREAMFLOW_INGESTOR_SESSION_TIMEOUT_MS="6000",
    )
    return env


def _assert_exact(kafka: KafkaSettings, topics: TopicSettings, pg: PostgresSettings) -> None:
    raw = topics.name(Topic.TRANSACTIONS_RAW)
    expected = count_topic(kafka, raw)
    sql = (
        "select (select count(*) from bronze.transactions)"
        " + (select count(*) from bronze.dead_letters)"
    )
    got = wait_rows(pg, sql, expected)
    assert got == expected
    dead = scalar(pg, "select count(*) from bronze.dead_letters")
    assert dead == MALFORMED
    assert (
        scalar(pg, "select count(*) from bronze.dead_letters where error_type = 'invalid_json'")
        == MALFORMED
    )
    total = scalar(pg, "select count(*) from bronze.transactions")
    assert total == expected - MALFORMED
    assert scalar(pg, "select count(distinct transaction_id) from bronze.transactions") == total


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=90)


def _kill_run(
    kafka: KafkaSettings,
    topics: TopicSettings,
    pg: PostgresSettings,
    log: Path,
    events: int,
    kills: int,
) -> None:
    env = _env(topics, pg)
    rng = random.Random(events + kills)
    producer = _stream(kafka, topics.name(Topic.TRANSACTIONS_RAW), events)
    proc = start_ingestor(env, log)
    for k in range(kills):
        # A random point of the stream: some rows landed, more coming.
        target = int(events * (k + rng.uniform(0.3, 0.9)) / (kills + 1))
        wait_rows(pg, "select count(*) from bronze.transactions", target)
        time.sleep(rng.uniform(0, 0.5))
        proc.kill()
        proc.wait(timeout=30)
        proc = start_ingestor(env, log)
    producer.join(timeout=600)
    try:
        wait_ready(int(env["STREAMFLOW_INGESTOR_METRICS_PORT"]), proc)
        _assert_exact(kafka, topics, pg)
        assert proc.poll() is None, "the ingestor died"
    finally:
        code = _stop(proc)
    assert code == 0


def _outage_run(
    kafka: KafkaSettings,
    topics: TopicSettings,
    pg: PrivatePostgres,
    log: Path,
    events: int,
    outage_s: float,
) -> None:
    env = _env(topics, pg.settings)
    raw = topics.name(Topic.TRANSACTIONS_RAW)
    half = events // 2
    proc = start_ingestor(env, log)
    try:
        wait_ready(int(env["STREAMFLOW_INGESTOR_METRICS_PORT"]), proc)
        _stream(kafka, raw, half).join(timeout=600)
        wait_rows(pg.settings, "select count(*) from bronze.transactions", half // 4)
        pg.stop()
        # The second half arrives while the database is away: it must wait, not vanish.
        produce(kafka, raw, (transaction_bytes(i) for i in range(half, events)))
        time.sleep(outage_s)
        assert proc.poll() is None, "the ingestor died while PostgreSQL was down"
        pg.start()
        _assert_exact(kafka, topics, pg.settings)
        assert proc.poll() is None
        wait_ready(int(env["STREAMFLOW_INGESTOR_METRICS_PORT"]), proc)
        assert "database unavailable, retrying" in log.read_text()
    finally:
        code = _stop(proc)
    assert code == 0


def test_kill9_mid_stream_short(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
    tmp_path: Path,
) -> None:
    _kill_run(kafka_settings, topics, pg_settings, tmp_path / "ingestor.log", 12_000, 2)


def test_postgres_outage_short(
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    private_pg: PrivatePostgres,
    tmp_path: Path,
) -> None:
    _outage_run(kafka_settings, topics, private_pg, tmp_path / "ingestor.log", 12_000, 5.0)


@pytest.mark.slow
def test_kill9_three_times_200k(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
    tmp_path: Path,
) -> None:
    _kill_run(kafka_settings, topics, pg_settings, tmp_path / "ingestor.log", 200_000, 3)


@pytest.mark.slow
def test_postgres_outage_30s_200k(
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    private_pg: PrivatePostgres,
    tmp_path: Path,
) -> None:
    _outage_run(kafka_settings, topics, private_pg, tmp_path / "ingestor.log", 200_000, 30.0)
