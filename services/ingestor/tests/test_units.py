"""Unit tests of the pure parts: record validation, table specs, CLI parsing, logs, probes."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from datetime import UTC, datetime

import pytest

from streamflow.events import Topic, encode, examples
from streamflow.ingestor.cli import build_parser, main, parse_when
from streamflow.ingestor.health import HealthServer
from streamflow.ingestor.logs import JsonFormatter, configure_logging
from streamflow.ingestor.metrics import Metrics
from streamflow.ingestor.records import (
    ParsedBatch,
    PlainRecord,
    RecordRejectedError,
    kafka_time,
    parse_records,
    validate,
)
from streamflow.ingestor.tables import SPECS
from streamflow.ingestor.writer import _inserted, _transient

EXAMPLES = {
    Topic.TRANSACTIONS_RAW: examples.transaction(),
    Topic.TRANSACTIONS_SCORED: examples.scored(),
    Topic.FRAUD_ALERTS: examples.alert(),
    Topic.FRAUD_FEEDBACK: examples.feedback(),
    Topic.METRICS_REALTIME: examples.window_metrics(),
    Topic.DLQ: examples.dead_letter(),
}


@pytest.mark.parametrize("topic", list(SPECS))
def test_every_spec_turns_its_example_into_a_full_row(topic: Topic) -> None:
    spec = SPECS[topic]
    value = encode(EXAMPLES[topic])
    typed = validate(spec, value, 10_000)
    assert len(typed) == len(spec.typed_columns) + 2
    assert typed[-1] == value.decode()
    assert spec.qualified == f"bronze.{spec.table}"
    assert spec.columns[:3] == ("kafka_topic", "kafka_partition", "kafka_offset")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "empty_value"),
        (b"", "empty_value"),
        (b"x" * 2000, "oversized"),
        (b"\xff\xfe", "invalid_utf8"),
        (b"{nope", "invalid_json"),
        (b'{"schema_version": 42}', "unsupported_schema_version"),
        (b'{"transaction_id": "t"}', "contract"),
    ],
)
def test_bad_records_are_rejected_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(RecordRejectedError) as info:
        validate(SPECS[Topic.TRANSACTIONS_RAW], value, 1000)
    assert info.value.error_type == reason


def test_nul_characters_jsonb_cannot_hold_are_rejected_by_the_contract() -> None:
    event = examples.feedback().model_copy(update={"note": "a\x00b"})
    with pytest.raises(RecordRejectedError) as info:
        validate(SPECS[Topic.FRAUD_FEEDBACK], encode(event), 10_000)
    assert info.value.error_type == "contract"
    assert "note: text must not contain U+0000" in str(info.value)


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul() -> None:
    # A dead letter quoting a payload that held the JSON escape \u0000: jsonb stores it.
    letter = examples.dead_letter().model_copy(update={"payload": '{"a\\u0000b": 1}'})
    value = encode(letter)
    assert b"\\\\u0000" in value
    typed = validate(SPECS[Topic.DLQ], value, 10_000)
    assert typed[-1] == value.decode()


def test_a_timestamp_beyond_year_9999_is_missing_not_a_crash() -> None:
    assert kafka_time(253_402_300_800_000) is None  # 10000-01-01
    assert kafka_time(2**62) is None
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    value = encode(EXAMPLES[Topic.TRANSACTIONS_RAW])
    batch = parse_records(
        spec,
        [PlainRecord("t", 0, 1, 2**62, None, value), PlainRecord("t", 0, 2, 2**62, None, b"x")],
        10_000,
    )
    assert [r[3] for r in batch.rows] == [None]
    assert [d[3] for d in batch.dead] == [None]


def test_a_dead_letter_reason_quoting_a_nul_is_stored_escaped() -> None:
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    value = encode(EXAMPLES[Topic.TRANSACTIONS_RAW])[:-1] + b',"a\\u0000b":1}'
    [dead] = parse_records(spec, [PlainRecord("t", 0, 1, None, b"\x00", value)], 10_000).dead
    assert dead[4:7] == (b"\x00", value, "contract")
    assert "a\\u0000b: Extra inputs are not permitted" in dead[7]
    assert "\x00" not in dead[7]


def test_parse_records_splits_rows_and_dead_letters_and_tracks_offsets() -> None:
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    good = encode(examples.transaction())
    records = [
        PlainRecord("t", 0, 10, 1_700_000_000_000, b"k", good),
        PlainRecord("t", 0, 11, None, None, b"{bad"),
        PlainRecord("t", 1, 3, -1, b"k", b"y" * 100_000),
    ]
    batch = parse_records(spec, records, 50_000)
    assert len(batch) == 3
    assert [r[2] for r in batch.rows] == [10]
    assert [(d[2], d[6]) for d in batch.dead] == [(11, "invalid_json"), (3, "oversized")]
    assert len(batch.dead[1][5]) == 65_536  # raw value bounded
    assert batch.next_offsets == {("t", 0): 12, ("t", 1): 4}
    later = ParsedBatch(next_offsets={("t", 0): 20, ("t", 2): 1})
    batch.extend(later)
    assert batch.next_offsets == {("t", 0): 20, ("t", 1): 4, ("t", 2): 1}


def test_kafka_time() -> None:
    assert kafka_time(None) is None
    assert kafka_time(-1) is None
    assert kafka_time(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_parse_when_accepts_iso_and_relative_times() -> None:
    now = datetime(2026, 1, 2, 12, tzinfo=UTC)
    assert parse_when("2h", now) == datetime(2026, 1, 2, 10, tzinfo=UTC)
    assert parse_when("1d", now) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_when("2026-01-01T00:00:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_when("2026-01-01T00:00:00+01:00").utcoffset() is not None
    with pytest.raises(argparse.ArgumentTypeError):
        parse_when("yesterday")


def test_cli_arguments() -> None:
    parser = build_parser()
    args = parser.parse_args(["replay", "topic", "transactions.raw", "--from-offset", "5"])
    assert (args.kind, args.topic, args.from_offset) == ("topic", "transactions.raw", 5)
    with pytest.raises(SystemExit):
        parser.parse_args(["replay", "topic", "t", "--from-offset", "1", "--from-time", "1h"])


def test_invalid_settings_exit_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFLOW_INGESTOR_BATCH_MAX_RECORDS", "0")
    assert main(["run"]) == 2
    assert "STREAMFLOW_INGESTOR_BATCH_MAX_RECORDS" in capsys.readouterr().err


def test_json_logs_carry_extra_fields() -> None:
    record = logging.makeLogRecord({"msg": "hello %s", "args": ("x",), "levelname": "INFO"})
    record.topic = "t"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "hello x"
    assert line["topic"] == "t"
    assert "boom" in line["exc"]
    configure_logging("INFO")
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)


def test_status_helpers() -> None:
    assert _inserted("INSERT 0 42") == 42
    assert _transient(OSError())
    assert not _transient(ValueError())


async def test_health_server_routes() -> None:
    metrics = Metrics()
    server = HealthServer(
        "127.0.0.1", 0, metrics.registry, live=lambda: (True, {}), ready=lambda: (False, {"x": 1})
    )
    await server.start()

    async def get(request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request)
        await writer.drain()
        data = await reader.read()
        writer.close()
        return data

    try:
        assert (await get(b"GET /healthz HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 200")
        ready = await get(b"GET /readyz HTTP/1.1\r\n\r\n")
        assert ready.startswith(b"HTTP/1.1 503")
        assert b'"x": 1' in ready
        assert (await get(b"POST /metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 405")
        assert b"streamflow_ingestor" in await get(b"GET /metrics HTTP/1.1\r\n\r\n")
    finally:
        await server.stop()


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"x" * 2000,
        b"\xff\xfe",
        b"{nope",
        b'{"schema_version": 42}',
        b'{"transaction_id": "t"}',
        encode(examples.transaction()).replace(b'"C', b'"\\u0000C', 1),
        encode(examples.transaction()).replace(b'"K', b'"\xff', 1),
    ],
)
def test_parse_records_dead_letters_exactly_what_validate_rejects(value: bytes | None) -> None:
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    with pytest.raises(RecordRejectedError) as info:
        validate(spec, value, 1000)
    batch = parse_records(spec, [PlainRecord("t", 0, 5, None, None, value)], 1000)
    assert batch.rows == []
    assert [(d[6], d[7]) for d in batch.dead] == [(info.value.error_type, str(info.value))]
    assert batch.next_offsets == {("t", 0): 6}
