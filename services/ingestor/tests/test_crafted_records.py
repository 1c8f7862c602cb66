"""Integration (issue #17): crafted records cannot stop the ingestor; each is a dead letter.

A ``transactions.raw`` value with a NUL inside an unknown key used to put a real U+0000 into the
contract error message, which PostgreSQL refused in the dead-letter COPY: the writer failed, the
ingestor stopped and a restart re-read the same batch forever. Here every kind of crafted record
goes through the real app (real Kafka, real PostgreSQL), followed by a valid transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from ingestor_helpers import produce, scalar, transaction_bytes  # type: ignore[import-not-found]

from streamflow.events import DeadLetter, Stage, Topic, encode, encode_key
from streamflow.events.dead_letters import MAX_PAYLOAD_BYTES
from streamflow.ingestor.app import Ingestor
from streamflow.ingestor.config import Settings
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

pytestmark = pytest.mark.integration

_KEY, _TX = transaction_bytes(1)
_TX_TEXT = _TX.decode()


def _with(extra: str) -> bytes:
    """The valid transaction with ``extra`` (raw JSON text) appended as further members."""
    text: str = _TX_TEXT[:-1] + "," + extra + "}"
    return text.encode()


CRAFTED: dict[str, tuple[bytes | None, bytes, str]] = {
    # name: (record key, value, the dead letter's expected error_type)
    "nul_in_unknown_key": (_KEY, _with('"a\\u0000b": 1'), "contract"),
    "nul_in_known_field": (
        _KEY,
        _TX.replace(b'"customer_id":"C', b'"customer_id":"\\u0000C'),
        "contract",
    ),
    "lone_surrogate_key": (_KEY, _with('"\\ud800": 1'), "invalid_json"),
    "invalid_utf8": (b"\x00\xff\xfe", _TX.replace(b'"pos"', b'"p\xffs"'), "invalid_utf8"),
    "deep_nesting": (_KEY, _with('"x": ' + "[" * 50_000 + "]" * 50_000), "invalid_json"),
    "near_broker_limit": (_KEY, _with('"x": "' + "y" * 900_000 + '"'), "oversized"),
}


def test_every_crafted_value_differs_from_the_valid_one() -> None:
    assert all(value != _TX for _, value, _ in CRAFTED.values())


def _settings() -> Settings:
    return Settings(
        group_id=f"ingestor-crafted-{uuid.uuid4().hex[:8]}",
        metrics_port=0,
        batch_max_wait_ms=50,
        batch_max_records=500,
        lag_interval_s=0.2,
        max_payload_bytes=262_144,
    )


@contextlib.asynccontextmanager
async def _running(ingestor: Ingestor) -> AsyncIterator[asyncio.Task[int]]:
    task = asyncio.create_task(ingestor.serve())
    try:
        await _wait(
            ingestor, lambda: len(ingestor.agents) == 6 and all(a.assigned for a in ingestor.agents)
        )
        yield task
    finally:
        ingestor.shutdown()
        await asyncio.wait_for(task, 60)


async def _wait(ingestor: Ingestor, predicate: object, timeout_s: float = 90.0) -> None:
    """Poll ``predicate``; fail at once (with the cause) if an agent stopped."""
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await asyncio.to_thread(predicate):
        failed = [a.failed for a in ingestor.agents if a.failed is not None]
        assert not failed, f"an agent stopped: {failed[0]!r}"
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


def _rows(pg: PostgresSettings, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg.dsn()) as conn:
        return conn.execute(sql.encode(), params).fetchall()


async def test_crafted_records_are_dead_letters_and_the_valid_one_lands(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
) -> None:
    raw_topic = topics.name(Topic.TRANSACTIONS_RAW)
    dlq_topic = topics.name(Topic.DLQ)
    # What a scorer writes to the DLQ for the NUL-key record: its reason quotes the key.
    nul_value = CRAFTED["nul_in_unknown_key"][1]
    scorer_letter = DeadLetter.from_raw(
        stage=Stage.SCORER,
        source_topic=raw_topic,
        raw=nul_value,
        error_type="extra_forbidden",
        error_message="Transaction: a\x00b: Extra inputs are not permitted",
        failed_at=datetime.now(UTC),
    )
    valid_key, valid = transaction_bytes(2)
    ingestor = Ingestor(_settings())
    async with _running(ingestor) as task:
        produce(kafka_settings, raw_topic, [(k, v) for k, v, _ in CRAFTED.values()])
        produce(kafka_settings, raw_topic, [(valid_key, valid)])
        produce(
            kafka_settings,
            dlq_topic,
            [(encode_key(scorer_letter.dlq_key()), encode(scorer_letter))],
        )

        def landed() -> bool:
            return bool(
                scalar(pg_settings, "select count(*) from bronze.transactions") >= 1
                and scalar(pg_settings, "select count(*) from bronze.dead_letters") >= len(CRAFTED)
                and scalar(pg_settings, "select count(*) from bronze.dlq_events") >= 1
            )

        await _wait(ingestor, landed)
        assert not task.done(), "the ingestor stopped"
        assert all(a.failed is None for a in ingestor.agents)

    # The valid transaction after the crafted ones is in bronze.
    assert _rows(pg_settings, "select transaction_id from bronze.transactions") == [
        (json.loads(valid)["transaction_id"],)
    ]
    # Each crafted record is one dead letter, with its reason and its exact (bounded) bytes.
    dead = _rows(
        pg_settings,
        "select raw_value, record_key, error_type, error_message "
        "from bronze.dead_letters where kafka_topic = %s",
        raw_topic,
    )
    assert len(dead) == len(CRAFTED)
    by_value = {bytes(row[0]): row[1:] for row in dead}
    for name, (key, value, reason) in CRAFTED.items():
        stored_key, error_type, message = by_value[value[:MAX_PAYLOAD_BYTES]]
        assert error_type == reason, (name, message)
        assert bytes(stored_key) == key, name
        assert isinstance(message, str)
        assert message, name
        assert "\x00" not in message
    nul_message = str(by_value[CRAFTED["nul_in_unknown_key"][1]][2])
    assert "a\\u0000b" in nul_message, nul_message  # escaped visibly, not dropped
    # The scorer's dead letter for it is a DLQ event, not a dead letter of its own.
    assert _rows(pg_settings, "select source_topic, error_type from bronze.dlq_events") == [
        (raw_topic, "extra_forbidden")
    ]
