"""A broker outage longer than the message timeout: every record arrives once, in key order.

Runs its own broker (private ports and directory under ``.local/tmp``, like
tests/integration/test_infra_scripts.py), because it stops and starts it; the shared broker
others' tests use is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer

from streamflow.events.topics import Topic
from streamflow.generator.config import Settings
from streamflow.generator.kafka_sink import KafkaSink
from streamflow.platform.kafka import consumer_config
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
INFRA = REPO / "scripts" / "infra"
KAFKA_JARS = Path(os.environ.get("STREAMFLOW_LOCAL_DIR", str(REPO / ".local"))) / "lib" / "kafka"
HAVE_KAFKA = shutil.which("java") is not None and any(KAFKA_JARS.glob("kafka_2.13-*.jar"))
KEYS = 25
BEFORE, DURING = 500, 3000
"""Records sent while the broker is up, and while it is down."""


def kafka_script(env: dict[str, str], action: str) -> None:
    res = subprocess.run(
        [str(INFRA / "kafka.sh"), action],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.fixture
def own_broker() -> Iterator[dict[str, str]]:
    """The environment of a broker private to this test (started; stopped and removed after)."""
    if not HAVE_KAFKA:
        pytest.skip("java or the Kafka jars missing (make setup)")
    local = REPO / ".local" / "tmp" / f"generator-resend-{uuid.uuid4().hex[:8]}"
    local.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        {
            "STREAMFLOW_LOCAL_DIR": str(local),
            "STREAMFLOW_KAFKA_LIB": str(KAFKA_JARS),
            "STREAMFLOW_KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m",
            "STREAMFLOW_KAFKA_PORT": str(free_loopback_port()),
            "STREAMFLOW_KAFKA_CONTROLLER_PORT": str(free_loopback_port()),
        }
    )
    env.pop("STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS", None)
    try:
        kafka_script(env, "start")
        yield env
    finally:
        kafka_script(env, "stop")
        shutil.rmtree(local, ignore_errors=True)


def records(start: int, count: int) -> tuple[list[bytes], list[bytes]]:
    """Values with a unique transaction id and a per-key sequence number, and their keys."""
    values, keys = [], []
    for i in range(start, start + count):
        key = f"C{i % KEYS}"
        values.append(
            json.dumps({"transaction_id": f"T{i}", "customer_id": key, "seq": i}).encode()
        )
        keys.append(json.dumps({"customer_id": key}).encode())
    return values, keys


def read_topic(kafka: KafkaSettings, topic: str, expected: int) -> list[dict[str, object]]:
    consumer = Consumer(consumer_config(kafka, f"resend-{uuid.uuid4().hex[:8]}"))
    consumer.subscribe([topic])
    out: list[dict[str, object]] = []
    idle, deadline = 0, time.monotonic() + 120
    try:
        # read until `expected` and then a few idle polls more (a duplicate would show up)
        while idle < 5 and time.monotonic() < deadline:
            msgs = consumer.consume(1000, timeout=1.0)
            if not msgs:
                idle += 1 if len(out) >= expected else 0
                continue
            for msg in msgs:
                value = msg.value()
                assert msg.error() is None, msg.error()
                assert value is not None
                out.append(json.loads(value))
    finally:
        consumer.close()
    return out


def test_records_timed_out_in_an_outage_are_resent_once_in_key_order(
    own_broker: dict[str, str],
) -> None:
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{own_broker['STREAMFLOW_KAFKA_PORT']}")
    settings = Settings(kafka=kafka, delivery_timeout_s=2.0, linger_ms=5)
    topic = settings.topics.name(Topic.TRANSACTIONS_RAW)
    sink = KafkaSink(settings, log=lambda _msg: None)
    sink.connect([Topic.TRANSACTIONS_RAW])
    sink.send(topic, *records(0, BEFORE))
    assert sink.flush(60) == 0

    kafka_script(own_broker, "stop")
    half = DURING // 2
    sink.send(topic, *records(BEFORE, half))
    # the second half is still queued when the first times out: it must go back behind it
    time.sleep(settings.delivery_timeout_s / 2)
    sink.send(topic, *records(BEFORE + half, DURING - half))
    # down for several message timeouts: the records time out, are re-sent, time out again...
    # (at least DURING: librdkafka also counts error events it has not served yet)
    assert sink.flush(7.0) >= DURING
    assert sink.resent >= DURING
    assert sink.errors == 0

    kafka_script(own_broker, "start")
    assert sink.flush(120) == 0
    assert sink.errors == 0
    assert sink.delivered == BEFORE + DURING

    got = read_topic(kafka, topic, BEFORE + DURING)
    counts = Counter(r["transaction_id"] for r in got)
    assert len(counts) == BEFORE + DURING
    assert set(counts.values()) == {1}, [t for t, n in counts.items() if n > 1][:10]
    per_key: dict[object, list[int]] = defaultdict(list)
    for r in got:
        seq = r["seq"]
        assert isinstance(seq, int)
        per_key[r["customer_id"]].append(seq)
    for key, seqs in per_key.items():
        assert seqs == sorted(seqs), key


@pytest.mark.slow
def test_records_queued_behind_a_timed_out_one_are_resent_after_it(
    own_broker: dict[str, str],
) -> None:
    """Half the records time out while the other half, sent later, are still queued; the broker
    is back before the second half's own timeout. Re-sending only the timed-out half would
    deliver it after the second half: per-key order broken."""
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{own_broker['STREAMFLOW_KAFKA_PORT']}")
    timeout_s = 20.0
    settings = Settings(kafka=kafka, delivery_timeout_s=timeout_s, linger_ms=5)
    topic = settings.topics.name(Topic.TRANSACTIONS_RAW)
    sink = KafkaSink(settings, log=lambda _msg: None)
    sink.connect([Topic.TRANSACTIONS_RAW])
    kafka_script(own_broker, "stop")
    half = DURING // 2
    sink.send(topic, *records(0, half))
    time.sleep(timeout_s / 2)
    sink.send(topic, *records(half, DURING - half))
    while sink.resent < half:  # the first half has timed out (and the second was taken back)
        sink.flush(0.5)
    kafka_script(own_broker, "start")
    assert sink.flush(120) == 0
    assert sink.errors == 0

    got = read_topic(kafka, topic, DURING)
    assert sorted(int(str(r["seq"])) for r in got) == list(range(DURING))
    per_key: dict[object, list[int]] = defaultdict(list)
    for r in got:
        per_key[r["customer_id"]].append(int(str(r["seq"])))
    for key, seqs in per_key.items():
        assert seqs == sorted(seqs), key
