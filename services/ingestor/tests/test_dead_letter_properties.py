"""Integration, property-based (Hypothesis): no record can make the bronze write fail.

Against the real PostgreSQL: arbitrary Kafka records (any bytes, invalid UTF-8, U+0000 in keys
and values, lone surrogates, huge strings, deep nesting, any timestamp) always land, each exactly
once, as a bronze row or a dead letter keeping the exact key and value; dead-letter rows whose
text PostgreSQL refuses are stored in a minimal form; a dead letter refused even then goes to the
spool file, and the batch waits while the spool cannot be written.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_units import EXAMPLES  # type: ignore[import-not-found]

from streamflow.events import Topic, encode
from streamflow.events.dead_letters import MAX_PAYLOAD_BYTES
from streamflow.ingestor.records import ParsedBatch, PlainRecord, parse_records
from streamflow.ingestor.tables import SPECS, TableSpec
from streamflow.ingestor.writer import BronzeWriter, WriteResult, _prepare_connection, write_batch
from streamflow.platform.settings import PostgresSettings

pytestmark = pytest.mark.integration

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one database per test, shared by its examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
ANY_CHAR = st.characters(exclude_categories=())  # surrogates and NUL included
ANY_TEXT = st.text(ANY_CHAR, max_size=200)
TOPICS = [Topic.TRANSACTIONS_RAW, Topic.FRAUD_FEEDBACK, Topic.DLQ]
MAX_BYTES = 262_144
_offsets = itertools.count()  # every example writes fresh Kafka coordinates


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
        max_leaves=15,
    )


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


def _values(topic: Topic) -> st.SearchStrategy[bytes | None]:
    valid = json.loads(encode(EXAMPLES[topic]))
    return st.one_of(
        st.none(),
        st.binary(max_size=1000),
        st.just(encode(EXAMPLES[topic])),
        st.dictionaries(ANY_TEXT, _json_values(), max_size=3).map(lambda x: _dump({**valid, **x})),
        st.tuples(st.sampled_from(sorted(valid)), _json_values()).map(
            lambda kv: _dump({**valid, kv[0]: kv[1]})
        ),
        st.integers(min_value=1, max_value=20_000).map(
            lambda depth: b'{"x":' + b"[" * depth + b"]" * depth + b"}"
        ),
        st.sampled_from([MAX_PAYLOAD_BYTES + 1, MAX_BYTES - 8, MAX_BYTES + 1]).map(
            lambda n: b'{"a\\u0000":"' + b"\xff" * n + b'"}'
        ),
    )


def _records(topic: Topic) -> st.SearchStrategy[list[PlainRecord]]:
    record = st.tuples(
        st.none() | st.binary(max_size=300),
        _values(topic),
        st.none() | st.integers(min_value=-5, max_value=2**62),
    ).map(lambda kvt: PlainRecord(f"t-{topic.value}", 0, next(_offsets), kvt[2], kvt[0], kvt[1]))
    return st.lists(record, min_size=1, max_size=6)


BATCHES = st.sampled_from(TOPICS).flatmap(lambda t: st.tuples(st.just(SPECS[t]), _records(t)))


@contextlib.asynccontextmanager
async def _connect(pg: PostgresSettings) -> AsyncIterator[asyncpg.Connection]:
    """A writer's connection (staging tables ready); one per example, on that example's loop."""
    connection = await asyncpg.connect(pg.dsn())
    await _prepare_connection(connection)
    try:
        yield connection
    finally:
        await connection.close()


async def _landed(conn: asyncpg.Connection, spec: TableSpec, rec: PlainRecord) -> list[str]:
    """Where the record's coordinates are: the names of the tables holding them."""
    where = "kafka_topic = $1 and kafka_partition = $2 and kafka_offset = $3"
    found = []
    for table in (spec.table, "dead_letters"):
        n = await conn.fetchval(
            f"select count(*) from bronze.{table} where {where}",
            rec.topic,
            rec.partition,
            rec.offset,
        )
        found += [table] * n
    return found


@PROPERTY
@given(BATCHES)
async def test_any_records_land_once_as_rows_or_dead_letters_with_exact_bytes(
    pg_settings: PostgresSettings, batch: tuple[TableSpec, list[PlainRecord]]
) -> None:
    async with _connect(pg_settings) as conn:
        await _check_records(conn, *batch)


async def _check_records(
    conn: asyncpg.Connection, spec: TableSpec, recs: list[PlainRecord]
) -> None:
    result = await write_batch(conn, spec, parse_records(spec, recs, MAX_BYTES))
    assert result.unstored == ()
    assert result.inserted + result.dead_letters == len(recs)
    for rec in recs:
        assert len(await _landed(conn, spec, rec)) == 1, rec
        dead = await conn.fetchrow(
            "select record_key, raw_value, error_type, error_message from bronze.dead_letters "
            "where kafka_topic = $1 and kafka_partition = $2 and kafka_offset = $3",
            rec.topic,
            rec.partition,
            rec.offset,
        )
        if dead is not None:
            assert dead["record_key"] == rec.key
            expected = None if rec.value is None else rec.value[:MAX_PAYLOAD_BYTES]
            assert dead["raw_value"] == expected
            assert dead["error_type"]
            assert "\x00" not in dead["error_message"]
    # A re-read (after a crash) adds nothing.
    again = await write_batch(conn, spec, parse_records(spec, recs, MAX_BYTES))
    assert again == WriteResult(0, len(recs), 0)


def _clean(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


DEAD_ROWS = st.lists(
    st.tuples(
        st.none() | st.binary(max_size=200),
        st.none() | st.binary(max_size=2000),
        ANY_TEXT.filter(bool),
        ANY_TEXT | st.text(ANY_CHAR, min_size=3000, max_size=6000),
    ),
    min_size=1,
    max_size=5,
)


@PROPERTY
@given(DEAD_ROWS)
async def test_dead_letters_with_text_postgres_refuses_still_land(
    pg_settings: PostgresSettings, rows: list[tuple[bytes | None, bytes | None, str, str]]
) -> None:
    """Rows built without sanitising (as a future caller might): the writer's own fallback."""
    async with _connect(pg_settings) as conn:
        await _check_dead_rows(conn, [("raw", 0, next(_offsets), None, *row) for row in rows])


async def _check_dead_rows(conn: asyncpg.Connection, dead: list[tuple[Any, ...]]) -> None:
    result = await write_batch(conn, SPECS[Topic.TRANSACTIONS_RAW], ParsedBatch(dead=dead))
    assert result == WriteResult(0, 0, len(dead))
    for row in dead:
        stored = await conn.fetchrow(
            "select record_key, raw_value, error_type, error_message from bronze.dead_letters "
            "where kafka_topic = $1 and kafka_partition = $2 and kafka_offset = $3",
            *row[:3],
        )
        assert stored is not None
        assert (stored["record_key"], stored["raw_value"]) == (row[4], row[5])
        if _clean(row[6]) and _clean(row[7]):
            assert (stored["error_type"], stored["error_message"]) == (row[6], row[7])
        else:
            assert stored["error_message"].startswith("[dead letter stored in minimal form")
            assert stored["error_message"].isascii()


def _writer(dsn: str, spool: Path) -> BronzeWriter:
    return BronzeWriter(
        dsn,
        pool_size=1,
        connect_timeout_s=2,
        retry_initial_s=0.01,
        retry_max_s=0.02,
        spool_path=spool,
    )


async def test_a_dead_letter_refused_even_in_minimal_form_is_spooled(
    pg_settings: PostgresSettings, tmp_path: Path
) -> None:
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    admin = await asyncpg.connect(pg_settings.dsn())
    try:  # a rule PostgreSQL enforces on every form of the row
        await admin.execute(
            "alter table bronze.dead_letters add constraint no_13 check (kafka_offset <> 13)"
        )
    finally:
        await admin.close()
    valid = encode(EXAMPLES[Topic.TRANSACTIONS_RAW])
    recs = [
        PlainRecord("raw", 0, 12, None, b"k", b"{x"),
        PlainRecord("raw", 0, 13, 1_700_000_000_000, b"\x00\xff", b'{"a\\u0000": "\xff"}'),
        PlainRecord("raw", 0, 14, None, None, b"[[["),
        PlainRecord("raw", 0, 15, None, None, valid),
    ]
    spool = tmp_path / "spool" / "dead-letters.jsonl"
    writer = _writer(pg_settings.dsn(), spool)
    await writer.start()
    try:
        result = await writer.write(spec, parse_records(spec, recs, MAX_BYTES), lambda: False)
        assert result is not None
        assert (result.inserted, result.duplicates, result.dead_letters) == (1, 0, 2)
        assert [u.coordinates for u in result.unstored] == [("raw", 0, 13)]
        (line,) = writer.spool.read()
        assert (line["kafka_topic"], line["kafka_partition"], line["kafka_offset"]) == (
            "raw",
            0,
            13,
        )
        assert base64.b64decode(line["record_key_b64"]) == b"\x00\xff"
        assert base64.b64decode(line["raw_value_b64"]) == recs[1].value
        assert line["error_type"] == "invalid_utf8"
        assert "no_13" in line["refused_because"]
        assert line["kafka_timestamp"].startswith("2023-11-14T22:13:20")
        assert spool.read_bytes().isascii()
    finally:
        await writer.close()


async def test_an_unwritable_spool_holds_the_batch_back(
    pg_settings: PostgresSettings, tmp_path: Path
) -> None:
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    admin = await asyncpg.connect(pg_settings.dsn())
    try:
        await admin.execute("alter table bronze.dead_letters add constraint none check (false)")
    finally:
        await admin.close()
    (tmp_path / "file").write_text("")
    writer = _writer(pg_settings.dsn(), tmp_path / "file" / "dead-letters.jsonl")
    retries: list[BaseException] = []
    writer._on_retry = lambda _table, exc: retries.append(exc)
    await writer.start()
    try:
        batch = parse_records(spec, [PlainRecord("raw", 0, 1, None, None, b"{x")], MAX_BYTES)
        result = await writer.write(spec, batch, lambda: len(retries) >= 2)
        assert result is None  # not written: the agent commits nothing
        assert all(isinstance(exc, OSError) for exc in retries)
        assert not writer.healthy
    finally:
        await writer.close()
