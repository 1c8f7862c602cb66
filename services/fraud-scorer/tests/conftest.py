"""Helpers of the scoring-job tests: run the job as a subprocess, produce and read topics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from streamflow.events import Channel, PaymentMethod, Transaction, encode, encode_key
from streamflow.fraud_scorer.environment import FlinkEnvironmentSettings, build_environment
from streamflow.platform.kafka import (
    consumer_config,
    delete_topics,
    ensure_topics,
    producer_config,
)
from streamflow.platform.settings import KafkaSettings, TopicSettings, local_dir

REPO = Path(__file__).resolve().parents[3]


@dataclass
class JobProcess:
    """The scoring job running in its own process (its own MiniCluster)."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    runs: list[int] = field(default_factory=list)

    def command(self) -> tuple[list[str], dict[str, str]]:
        """The command that runs the job, and its environment."""
        return [sys.executable, "-m", "streamflow.fraud_scorer.fraud_job"], self.env

    def start(self) -> None:
        log = self.log_path.open("ab")
        argv, env = self.command()
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
        self.runs.append(self.proc.pid)

    def kill(self) -> None:
        """kill -9 the job's whole process group (the Python driver and its JVM)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def local_flink(work: Path) -> FlinkEnvironmentSettings:
    """The local MiniCluster's settings (the set-up's connector and helper jars), with checkpoints
    and logs under ``work``; skips the test when ``make setup`` has not built the jars."""
    local = FlinkEnvironmentSettings.local(local_dir())
    if not all(jar.is_file() for jar in local.jars()):
        pytest.skip("Flink jars not built (make setup)")
    return FlinkEnvironmentSettings(
        connector_jar=local.connector_jar,
        java_jar=local.java_jar,
        checkpoint_dir=work / "checkpoints",
        log_dir=work / "logs",
    )


@pytest.fixture(scope="module")
def flink_classes(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The job's Java helpers (``io.streamflow.flink``) in the gateway JVM of a local
    environment built with the set-up's jars, for calling them directly."""
    build_environment(local_flink(tmp_path_factory.mktemp("java-helpers")))
    from pyflink.java_gateway import get_gateway

    return get_gateway().jvm.io.streamflow.flink


@pytest.fixture
def job_env(topics: TopicSettings, kafka_settings: KafkaSettings, tmp_path: Path) -> dict[str, str]:
    """Environment of a job process pointed at this test's topics and checkpoint dir."""
    suffix = uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        {f"STREAMFLOW_TOPIC_{name.upper()}": value for name, value in topics.model_dump().items()}
    )
    env.update(
        {
            "STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
            "STREAMFLOW_SCORER_GROUP_ID": f"test-scorer-{suffix}",
            "STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX": f"test-scorer-{suffix}",
            "STREAMFLOW_SCORER_CHECKPOINT_DIR": (tmp_path / "checkpoints").as_uri(),
            "STREAMFLOW_SCORER_CHECKPOINT_INTERVAL_MS": "1000",
            "STREAMFLOW_SCORER_WATERMARK_OUT_OF_ORDERNESS_MS": "0",
            "STREAMFLOW_FLINK_LOG_DIR": str(tmp_path / "flink-logs"),
        }
    )
    env.pop("COVERAGE_PROCESS_START", None)
    return env


@pytest.fixture
def job(job_env: dict[str, str], tmp_path: Path) -> Iterator[JobProcess]:
    """A job process (not started); killed at the end of the test."""
    process = JobProcess(env=job_env, log_path=tmp_path / "job.log")
    yield process
    process.kill()


def make_txn(
    tid: str,
    customer: str,
    when: datetime,
    amount: str = "50.00",
    store: str = "S0001-01",
    merchant: str = "M0001",
    lat: float = -23.55,
    lon: float = -46.63,
) -> Transaction:
    return Transaction(
        transaction_id=tid,
        event_time=when,
        customer_id=customer,
        card_id=f"K-{customer}",
        merchant_id=merchant,
        store_id=store,
        amount=Decimal(amount),
        currency="BRL",
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel.POS,
        latitude=lat,
        longitude=lon,
    )


def produce(kafka: KafkaSettings, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> int:
    producer = Producer(producer_config(kafka, "flink-job-test"))
    count = 0
    for key, value in records:
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
        count += 1
    assert producer.flush(30) == 0
    return count


def produce_txns(kafka: KafkaSettings, topic: str, txns: Iterable[Transaction]) -> int:
    return produce(kafka, topic, ((encode_key(t.key()), encode(t)) for t in txns))


class TopicReader:
    """A read_committed consumer of one topic from the beginning."""

    def __init__(self, kafka: KafkaSettings, topic: str, partitions: int = 3) -> None:
        self.consumer = Consumer(consumer_config(kafka, f"test-reader-{uuid.uuid4().hex[:8]}"))
        self.consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        self.records: list[tuple[bytes | None, dict[str, Any]]] = []

    def poll_until(
        self,
        done: Callable[[list[dict[str, Any]]], bool],
        job: JobProcess,
        limit_s: float = 600,
        first_record_s: float = 600,
    ) -> list[dict[str, Any]]:
        """Read until ``done(values)``; fails if the job dies or stops making progress.

        The limit is on progress, not on the whole wait: each record read grants ``limit_s``
        more (exactly-once sinks make records visible per checkpoint, and an aligned checkpoint
        waits behind every buffered record: minutes under a backlog on a loaded machine), and
        the first record of each call may take ``first_record_s`` (a job that was just
        (re)started), so a slow but working job is never cut off.
        """
        deadline = time.monotonic() + max(limit_s, first_record_s)
        while not done(self.values()):
            assert job.alive(), f"job exited:\n{job.log_tail()}"
            assert time.monotonic() < deadline, f"no progress in time:\n{job.log_tail()}"
            for msg in self.consumer.consume(500, timeout=0.5):
                if msg.error() is None:
                    self.records.append((msg.key(), json.loads(msg.value() or b"null")))
                    deadline = time.monotonic() + limit_s
        return self.values()

    def values(self) -> list[dict[str, Any]]:
        return [value for _, value in self.records]

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def reader(kafka_settings: KafkaSettings) -> Iterator[Callable[[str, int], TopicReader]]:
    made: list[TopicReader] = []

    def make(topic: str, partitions: int = 3) -> TopicReader:
        made.append(TopicReader(kafka_settings, topic, partitions))
        return made[-1]

    yield make
    for r in made:
        r.close()


def recent(minutes: int = 0) -> datetime:
    """A recent event time (the scorer dead-letters events far in the future)."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``slow`` tests belong to ``make test-faults``: skipped unless selected with ``-m slow``."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="long fault run: select with -m slow (make test-faults)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def staging_topics(kafka_settings: KafkaSettings) -> Iterator[TopicSettings]:
    """A second set of throwaway topics (e.g. where a generator run is captured before replay)."""
    suffix = uuid.uuid4().hex[:10]
    names = TopicSettings().model_copy(
        update={
            name: f"test-staging-{suffix}.{default}"
            for name, default in TopicSettings().model_dump().items()
        }
    )
    ensure_topics(kafka_settings, names)
    yield names
    delete_topics(kafka_settings, names.as_map().values())
