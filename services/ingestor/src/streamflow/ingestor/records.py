"""Turn a batch of Kafka records into bronze rows and dead-letter rows (pure, no I/O).

A record lands in bronze only if it satisfies its contract (``streamflow.events.decode``, strict);
anything else -- empty, oversized, not UTF-8, invalid JSON, a wrong schema version, a field that
breaks the contract, text PostgreSQL's jsonb cannot hold -- becomes a dead letter with the reason.
Either way its offset counts as handled, so the partition keeps moving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from streamflow.events import ContractError, SchemaVersionError, decode
from streamflow.events.dead_letters import MAX_PAYLOAD_BYTES
from streamflow.ingestor.tables import TableSpec

Row = tuple[Any, ...]
_JSONB_NUL = b"\\u0000"


class KafkaRecord(Protocol):
    """What the ingestor needs from a consumed record (aiokafka's ``ConsumerRecord`` fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int | None: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(slots=True)
class ParsedBatch:
    """Rows ready for one database transaction and the offsets to commit after it."""

    rows: list[Row] = field(default_factory=list)
    dead: list[Row] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows) + len(self.dead)

    def extend(self, other: ParsedBatch) -> None:
        """Append a later batch (offsets only move forward)."""
        self.rows.extend(other.rows)
        self.dead.extend(other.dead)
        for tp, offset in other.next_offsets.items():
            self.next_offsets[tp] = max(offset, self.next_offsets.get(tp, 0))


class RecordRejectedError(ValueError):
    """A record cannot land in bronze; ``error_type`` is the short reason stored with it."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def kafka_time(timestamp_ms: int | None) -> datetime | None:
    """A Kafka record timestamp (ms since the epoch) as an aware datetime."""
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


def validate(spec: TableSpec, value: bytes | None, max_bytes: int) -> tuple[Any, ...]:
    """The typed columns plus schema_version and payload text, or :class:`RecordRejectedError`."""
    if not value:
        raise RecordRejectedError("empty_value", "record has no value")
    if len(value) > max_bytes:
        raise RecordRejectedError(
            "oversized", f"value of {len(value)} bytes exceeds the limit of {max_bytes} bytes"
        )
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordRejectedError("invalid_utf8", f"value is not UTF-8: {exc}") from None
    try:
        event = decode(spec.model, value)
    except SchemaVersionError as exc:
        raise RecordRejectedError("schema_version", str(exc)) from None
    except ContractError as exc:
        kind = "invalid_json" if exc.error_type == "json_invalid" else "contract"
        raise RecordRejectedError(kind, str(exc)) from None
    if _JSONB_NUL in value:
        raise RecordRejectedError("jsonb_nul", "payload contains \\u0000, which jsonb rejects")
    return (*spec.extract(event), event.schema_version, text)


def dead_letter_row(record: KafkaRecord, error_type: str, message: str) -> Row:
    """A ``bronze.dead_letters`` row: the raw bytes (bounded to 64 KiB) and why."""
    value = record.value
    if value is not None and len(value) > MAX_PAYLOAD_BYTES:
        value = value[:MAX_PAYLOAD_BYTES]
    return (
        record.topic,
        record.partition,
        record.offset,
        kafka_time(record.timestamp),
        record.key,
        value,
        error_type,
        message[:4000],
    )


def parse_records(spec: TableSpec, records: Iterable[KafkaRecord], max_bytes: int) -> ParsedBatch:
    """Validate every record; bronze rows, dead letters and the next offset per partition."""
    batch = ParsedBatch()
    rows, dead, offsets = batch.rows, batch.dead, batch.next_offsets
    for record in records:
        try:
            typed = validate(spec, record.value, max_bytes)
        except RecordRejectedError as exc:
            dead.append(dead_letter_row(record, exc.error_type, str(exc)))
        else:
            rows.append(
                (
                    record.topic,
                    record.partition,
                    record.offset,
                    kafka_time(record.timestamp),
                    *typed,
                )
            )
        tp = (record.topic, record.partition)
        offsets[tp] = max(record.offset + 1, offsets.get(tp, 0))
    return batch
