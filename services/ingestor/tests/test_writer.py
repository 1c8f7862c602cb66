"""Integration: the writer's duplicate merge, row-by-row fallback and retry behaviour."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest

from streamflow.events import Topic, encode, examples
from streamflow.ingestor.records import ParsedBatch, PlainRecord, parse_records
from streamflow.ingestor.tables import SPECS
from streamflow.ingestor.writer import (
    BronzeWriter,
    StartupError,
    WriteResult,
    check_database,
    write_batch,
)
from streamflow.platform.settings import PostgresSettings

pytestmark = pytest.mark.integration


def _writer(dsn: str) -> BronzeWriter:
    return BronzeWriter(
        dsn, pool_size=1, connect_timeout_s=2, retry_initial_s=0.01, retry_max_s=0.02
    )


async def test_duplicates_merge_and_refused_rows_become_dead_letters(
    pg_settings: PostgresSettings,
) -> None:
    spec = SPECS[Topic.METRICS_REALTIME]
    ok = encode(examples.window_metrics())
    huge = encode(examples.window_metrics().model_copy(update={"amount_sum": Decimal("1e20")}))
    recs = [PlainRecord("m", 0, i, None, None, ok) for i in range(3)]
    recs.append(PlainRecord("m", 0, 3, None, b"store-1", huge))
    writer = _writer(pg_settings.dsn())
    await writer.start()
    try:
        first = await writer.write(spec, parse_records(spec, recs[:2], 10_000), lambda: False)
        assert first == WriteResult(2, 0, 0)
        # Overlapping re-read (after a crash): the COPY hits the key, the merge skips the two.
        again = await writer.write(spec, parse_records(spec, recs[:3], 10_000), lambda: False)
        assert again == WriteResult(1, 2, 0)
        # A value the column cannot hold: only that row becomes a dead letter.
        mixed = await writer.write(spec, parse_records(spec, recs, 10_000), lambda: False)
        assert mixed == WriteResult(0, 3, 1)
        rows = await writer.fetch(
            "select error_type, record_key, raw_value from bronze.dead_letters"
        )
        # ... with the record's own key and value, byte for byte
        assert [tuple(r) for r in rows] == [("database_refused", b"store-1", huge)]
        # Fresh rows plus a refused one: row-by-row from the direct COPY path too; an empty key
        # stays an empty key (not NULL).
        fresh = [PlainRecord("m", 1, i, None, None, ok) for i in range(2)] + [
            PlainRecord("m", 1, 2, None, b"", huge)
        ]
        result = await writer.write(spec, parse_records(spec, fresh, 10_000), lambda: False)
        assert result == WriteResult(2, 0, 1)
        [key] = await writer.fetch(
            "select record_key from bronze.dead_letters where kafka_partition = 1"
        )
        assert key["record_key"] == b""
    finally:
        await writer.close()


async def test_retries_until_the_database_answers_or_told_to_stop() -> None:
    writer = _writer("postgresql://x@127.0.0.1:1/x")
    calls: list[int] = []

    async def flaky() -> WriteResult:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("connection refused")
        return WriteResult(1, 0, 0)

    assert await writer.retrying("t", flaky, lambda: False) == WriteResult(1, 0, 0)
    assert writer.healthy

    async def down() -> WriteResult:
        raise ConnectionRefusedError

    assert await writer.retrying("t", down, lambda: True) is None

    async def bug() -> WriteResult:
        raise ValueError("not transient")

    with pytest.raises(ValueError):
        await writer.retrying("t", bug, lambda: False)


async def test_startup_checks(pg_admin_settings: PostgresSettings) -> None:
    with pytest.raises(StartupError, match="STREAMFLOW_PG_HOST"):
        await check_database("postgresql://u:p@127.0.0.1:1/x", 0.5, startup_timeout_s=0.1)
    # The admin database has no bronze tables of a fresh clone... use a db without migrations.
    conn = await asyncpg.connect(pg_admin_settings.dsn())
    try:
        await conn.execute("drop database if exists ingestor_unmigrated")
        await conn.execute("create database ingestor_unmigrated")
    finally:
        await conn.close()
    try:
        with pytest.raises(StartupError, match="missing tables"):
            await check_database(pg_admin_settings.dsn("ingestor_unmigrated"), 2)
    finally:
        conn = await asyncpg.connect(pg_admin_settings.dsn())
        await conn.execute("drop database if exists ingestor_unmigrated with (force)")
        await conn.close()


async def test_write_batch_with_only_dead_letters(pg_settings: PostgresSettings) -> None:
    conn = await asyncpg.connect(pg_settings.dsn())
    try:
        from streamflow.ingestor.writer import _prepare_connection

        await _prepare_connection(conn)
        spec = SPECS[Topic.TRANSACTIONS_RAW]
        batch = parse_records(spec, [PlainRecord("t", 0, 0, None, b"k", b"{x")], 1000)
        assert await write_batch(conn, spec, batch) == WriteResult(0, 0, 1)
        assert await write_batch(conn, spec, batch) == WriteResult(0, 1, 0)
        assert await write_batch(conn, spec, ParsedBatch()) == WriteResult(0, 0, 0)
    finally:
        await conn.close()


async def test_text_copy_lands_awkward_values_exactly(pg_settings: PostgresSettings) -> None:
    """Tabs, newlines, backslashes, a literal "None" and NULLs survive the COPY text format."""
    spec = SPECS[Topic.DLQ]
    nasty = examples.dead_letter().model_copy(
        update={
            "error_type": 'None\ttab\nline\rcr\\back"quote',
            "source_topic": "t\\x",
            "source_partition": None,
            "source_offset": None,
            "error_message": "multi\nline",
        }
    )
    pretty = json.dumps(json.loads(encode(examples.dead_letter())), indent=2).encode()
    recs = [
        PlainRecord("d", 0, 0, None, None, encode(nasty)),
        PlainRecord("d", 0, 1, 5, None, pretty),
    ]
    conn = await asyncpg.connect(pg_settings.dsn())
    try:
        from streamflow.ingestor.writer import _prepare_connection

        await _prepare_connection(conn)
        batch = parse_records(spec, recs, 10_000)
        assert await write_batch(conn, spec, batch) == WriteResult(2, 0, 0)
        rows = await conn.fetch(
            "select kafka_timestamp, error_type, source_topic, source_partition, source_offset,"
            " payload from bronze.dlq_events order by kafka_offset"
        )
        assert rows[0]["error_type"] == nasty.error_type
        assert rows[0]["source_topic"] == "t\\x"
        assert rows[0]["source_partition"] is None
        assert rows[0]["source_offset"] is None
        assert rows[0]["kafka_timestamp"] is None
        assert json.loads(rows[0]["payload"]) == json.loads(encode(nasty))
        assert json.loads(rows[1]["payload"]) == json.loads(pretty)
        assert rows[1]["kafka_timestamp"] == datetime(1970, 1, 1, 0, 0, 0, 5000, tzinfo=UTC)
        # Re-read after a crash: the text COPY hits the key, the staging merge adds nothing.
        assert await write_batch(conn, spec, batch) == WriteResult(0, 2, 0)
    finally:
        await conn.close()
