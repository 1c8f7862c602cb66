"""Turn a batch of Kafka records into bronze rows and dead-letter rows (pure, no I/O).

A record lands in bronze only if it satisfies its contract (``streamflow.events.decode``, strict);
anything else -- empty, oversized, not UTF-8, invalid JSON, a schema version outside the
validation policy's N and N-1 (``unsupported_schema_version``), a field that breaks the contract
(amount bounds included), text PostgreSQL's jsonb cannot hold -- becomes a dead letter with the
reason. The policy's event-time rules are not applied here: bronze keeps every contract-valid
record and silver rejects those with the same reason code (docs/adr/0059).
Either way its offset counts as handled, so the partition keeps moving. A dead letter's reason
may quote the record (a field name holding U+0000, say), so it is made storable with
:func:`streamflow.events.text.storable_text`; its key and value stay the exact bytes (``bytea``).

The hot path calls the topic's fast validator (:mod:`streamflow.ingestor.fast`: a subset of the
contract) or else the contract's compiled validator directly, and hands anything unusual (a
rejected record, an N-1 payload to upgrade) to ``decode`` itself, so what is accepted and the
reason given for a rejection are exactly ``decode``'s. Kafka timestamps are turned into datetimes
once per distinct millisecond of a batch (thousands of records share one). For a table spec with
``copy_lines`` (``transactions.raw``) the loop also writes each row's COPY text line from the
record's own text, so the writer joins lines instead of formatting rows again (ADR 0136).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from streamflow.events import ContractError, SchemaVersionError, decode, policy
from streamflow.events.base import Contract
from streamflow.events.dead_letters import (
    MAX_ERROR_MESSAGE_CHARS,
    MAX_ERROR_TYPE_CHARS,
    MAX_PAYLOAD_BYTES,
)
from streamflow.events.text import has_json_nul, storable_text
from streamflow.ingestor.copy_text import ESCAPED, NULL, encode_rows
from streamflow.ingestor.gcpause import paused_gc
from streamflow.ingestor.tables import TableSpec

Row = tuple[Any, ...]
_JSONB_NUL = b"\\u0000"  # a cheap filter; has_json_nul() decides (an escaped "\\" is no NUL)
if ESCAPED != "\\\t\n\r":  # pragma: no cover - _line tests these four, unrolled for speed
    raise RuntimeError("copy_text.ESCAPED changed: update _line")
_BACKSLASH = ord("\\")
"""An ``int``: ``int in bytes`` is one memchr, while a ``bytes`` operand first fails as an index
(a ``TypeError`` formatted and cleared, ~1,000 instructions a test)."""


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


@dataclass(frozen=True, slots=True)
class PlainRecord:
    """A :class:`KafkaRecord` as plain values (a dead letter read back, a fixture, a bench)."""

    topic: str
    partition: int
    offset: int
    timestamp: int | None
    key: bytes | None
    value: bytes | None


@dataclass(slots=True)
class ParsedBatch:
    """Rows ready for one database transaction and the offsets to commit after it."""

    rows: list[Row] = field(default_factory=list)
    dead: list[Row] = field(default_factory=list)
    keys: list[bytes | None] = field(default_factory=list)
    """The Kafka key of each of ``rows``: a row the database refuses keeps it as a dead letter."""
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    first_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    """Each partition's lowest offset in the batch (its range starts there; ADR 0134)."""
    copy_text: bytes | None = None  # ``rows`` as COPY text, built once (retries reuse it)
    lines: list[str | None] = field(default_factory=list)
    """Each row's COPY text line, written by the parser from the record's own text where its
    table spec allows it (:attr:`TableSpec.copy_lines`, ADR 0136); None for a row whose payload
    needs COPY's escapes. Empty, or shorter than ``rows``: :func:`encode_rows` encodes them.
    ``rows`` change only through :meth:`extend` and :meth:`keeping`, which keep this in step."""

    def __len__(self) -> int:
        return len(self.rows) + len(self.dead)

    def extend(self, other: ParsedBatch) -> None:
        """Append a later batch (offsets only move forward).

        Records of ``other`` this batch already holds are left out: a partition read again from
        an earlier offset (after a rebalance while this batch waited) would otherwise put one
        record in one transaction twice, which no merge or ledger claim would see.
        """
        again = {
            tp
            for tp, first in other.first_offsets.items()
            if first < self.next_offsets.get(tp, first)
        }
        if again:
            held = self.coordinates(again)
            other = other.keeping(lambda row: row[:3] not in held)
        if self.lined and other.lined:
            self.lines.extend(other.lines)
        else:
            self.lines = []
        self.rows.extend(other.rows)
        self.keys.extend(other.keys)
        self.dead.extend(other.dead)
        self.copy_text = None
        for tp, offset in other.next_offsets.items():
            self.next_offsets[tp] = max(offset, self.next_offsets.get(tp, 0))
        for tp, offset in other.first_offsets.items():
            self.first_offsets[tp] = min(offset, self.first_offsets.get(tp, offset))

    @property
    def lined(self) -> bool:
        """Whether the parser wrote a line (or None) for every row."""
        return len(self.lines) == len(self.rows)

    def text(self) -> bytes:
        """``rows`` as COPY text: the parser's lines joined, or :func:`encode_rows`' encoding
        where a row has none (the same text either way: ``tests/test_copy_text.py``)."""
        if not self.lined:
            return encode_rows(self.rows)
        try:
            text = "".join(self.lines)  # type: ignore[arg-type]  # a None raises TypeError
        except TypeError:  # a payload that needs escapes: that row encoded alone
            text = "".join(
                [
                    line if line is not None else encode_rows([row]).decode("utf-8")
                    for row, line in zip(self.rows, self.lines, strict=True)
                ]
            )
        return text.encode("utf-8")

    def coordinates(self, partitions: set[tuple[str, int]]) -> set[tuple[str, int, int]]:
        """The ``(topic, partition, offset)`` of every row and dead letter in ``partitions``."""
        return {
            (row[0], row[1], row[2])
            for part in (self.rows, self.dead)
            for row in part
            if (row[0], row[1]) in partitions
        }

    def keeping(self, keep: Callable[[Row], bool]) -> ParsedBatch:
        """This batch with only the rows (and their keys) and dead letters ``keep`` accepts; its
        offsets kept."""
        keys = self.keys + [None] * (len(self.rows) - len(self.keys))
        lines = self.lines if self.lined else [None] * len(self.rows)
        kept = [(r, k, line) for r, k, line in zip(self.rows, keys, lines, strict=True) if keep(r)]
        return ParsedBatch(
            rows=[r for r, _, _ in kept],
            dead=[d for d in self.dead if keep(d)],
            keys=[k for _, k, _ in kept],
            lines=[line for _, _, line in kept] if self.lined else [],
            next_offsets=self.next_offsets,
            first_offsets=self.first_offsets,
        )

    def spans(self) -> list[tuple[str, int, int, int]]:
        """``(topic, partition, first offset, last offset + 1)`` of each partition it read."""
        firsts = self.first_offsets
        return [(t, p, firsts[t, p], end) for (t, p), end in self.next_offsets.items()]


class RecordRejectedError(ValueError):
    """A record cannot land in bronze; ``error_type`` is the short reason stored with it.

    Both are made storable here (the message may quote the record), so ``str(exc)`` is exactly
    what the dead letter holds.
    """

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(storable_text(message, MAX_ERROR_MESSAGE_CHARS))
        self.error_type = storable_text(error_type, MAX_ERROR_TYPE_CHARS)


class KafkaTime(datetime):
    """A Kafka timestamp: a datetime that remembers its own text (COPY spells it once per ms).

    One instance serves every record of a batch stamped in the same millisecond, so ``str()``
    -- which the COPY text encoder calls for every row -- costs a lookup instead of a format.
    """

    __slots__ = ("_text",)

    def __str__(self) -> str:
        try:
            return self._text
        except AttributeError:
            self._text: str = super().__str__()
            return self._text


def kafka_time(timestamp_ms: int | None) -> datetime | None:
    """A Kafka record timestamp (ms since the epoch) as an aware datetime (None if unusable).

    A producer chooses the timestamp: one beyond year 9999 (which Python cannot represent) is
    treated as missing rather than stopping the batch.
    """
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    try:
        return KafkaTime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _event(model: type[Contract], value: bytes) -> tuple[Contract, int]:
    """``decode(model, value)`` and the schema version the producer wrote.

    The event is in the current shape (an N-1 payload is upgraded by ``decode``); the version is
    the payload's own, so bronze's ``schema_version`` says which shape the stored ``payload`` has.
    Which versions are accepted, and the reason for one that is not, are the validation policy's
    (:mod:`streamflow.events.policy`, through the contract).
    """
    written = model.SCHEMA_VERSION - 1  # what decode() can still accept when the fast path fails
    try:
        event: Contract = model.__pydantic_validator__.validate_json(value)
    except ValidationError:
        pass  # decode() below validates again and explains (or upgrades an N-1 payload)
    else:
        if event.schema_version == model.SCHEMA_VERSION:
            return event, event.schema_version
        written = event.schema_version  # an accepted earlier version: decode() upgrades it
    try:
        return decode(model, value), written
    except SchemaVersionError as exc:
        raise RecordRejectedError(policy.UNSUPPORTED_SCHEMA_VERSION, str(exc)) from None
    except ContractError as exc:
        kind = "invalid_json" if exc.error_type == "json_invalid" else "contract"
        raise RecordRejectedError(kind, str(exc)) from None


def validate(spec: TableSpec, value: bytes | None, max_bytes: int) -> tuple[Any, ...]:
    """The typed columns plus schema_version and payload text, or :class:`RecordRejectedError`.

    ``schema_version`` is the version the producer wrote (the shape of the stored payload); the
    typed columns come from the event in the current shape.
    """
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
    event, written = _event(spec.model, value)
    if has_json_nul(value):
        raise RecordRejectedError("jsonb_nul", "payload contains \\u0000, which jsonb rejects")
    return (*spec.extract(event), written, text)


def dead_letter_row(record: KafkaRecord, error_type: str, message: str) -> Row:
    """A ``bronze.dead_letters`` row: the raw bytes (bounded to 64 KiB) and why (storable)."""
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
        storable_text(error_type, MAX_ERROR_TYPE_CHARS),
        storable_text(message, MAX_ERROR_MESSAGE_CHARS),
    )


def _attr(event: Any) -> Any:
    return event.schema_version


def parse_records(spec: TableSpec, records: Iterable[KafkaRecord], max_bytes: int) -> ParsedBatch:
    """Validate every record; bronze rows, dead letters and the next offset per partition.

    The cyclic garbage collector is paused for the batch (:mod:`streamflow.ingestor.gcpause`).
    """
    with paused_gc():
        return _parse_records(spec, records, max_bytes)


def _parse_records(spec: TableSpec, records: Iterable[KafkaRecord], max_bytes: int) -> ParsedBatch:
    """The batch's rows, dead letters and next offsets (the collector as the caller left it).

    The loop accepts a record on its own only when every check of :func:`validate` passes (not
    empty, within ``max_bytes``, no ``\\u0000``, valid for the contract at the current version,
    UTF-8); anything else goes through :func:`validate` itself, so the rows and the dead letters
    (and their reasons) are exactly what :func:`validate` decides.
    """
    batch = ParsedBatch()
    rows, dead, keys, offsets = batch.rows, batch.dead, batch.keys, batch.next_offsets
    firsts, lines = batch.first_offsets, batch.lines
    times: dict[int | None, tuple[datetime | None, str]] = {}  # and its COPY text (copy_lines)
    heads: dict[Any, str] = {}  # "<topic>\t<partition>\t" (copy_lines)
    copy_lines = spec.copy_lines
    current = spec.model.SCHEMA_VERSION
    check, extract, version_of, errors = _checker(spec)
    for record in records:
        value = record.value
        tp = (record.topic, record.partition)
        offset = record.offset
        typed: tuple[Any, ...] | None = None
        if (
            value
            and len(value) <= max_bytes
            and (_BACKSLASH not in value or _JSONB_NUL not in value)  # memchr first: 0.25 µs less
        ):
            try:
                event = check(value)
                if version_of(event) == current:
                    typed = (*extract(event), current, value.decode("utf-8"))
            except errors:
                pass
        if typed is None:
            try:
                typed = validate(spec, value, max_bytes)
            except RecordRejectedError as exc:
                dead.append(dead_letter_row(record, exc.error_type, str(exc)))
        if typed is not None:
            ms = record.timestamp
            try:
                when, stamp = times[ms]
            except KeyError:
                when, stamp = times[ms] = _time(ms, copy_lines)
            rows.append((*tp, offset, when, *typed))
            keys.append(record.key)
            if copy_lines:
                lines.append(_line(tp, offset, stamp, typed, heads))
        last = offsets.get(tp)
        if last is None:  # the partition's first record in the batch
            offsets[tp] = offset + 1
            firsts[tp] = offset
        elif offset >= last:  # in order: the common case
            offsets[tp] = offset + 1
        elif offset < firsts[tp]:
            firsts[tp] = offset
    return batch


def _checker(
    spec: TableSpec,
) -> tuple[
    Callable[[bytes], Any],
    Callable[[Any], tuple[Any, ...]],
    Callable[[Any], Any],
    tuple[type[Exception], ...],
]:
    """The spec's check, column getter, version getter and the errors that mean "ask decode"."""
    if spec.fast is None:
        validate_json = spec.model.__pydantic_validator__.validate_json
        return validate_json, spec.extract, _attr, (ValidationError, UnicodeDecodeError)
    fast = spec.fast
    return fast.check, fast.extract, fast.version, (*fast.errors, UnicodeDecodeError)


def _time(timestamp_ms: int | None, copy_lines: bool) -> tuple[datetime | None, str]:
    """A Kafka timestamp as a datetime and, for ``copy_lines``, as COPY text (else "")."""
    when = kafka_time(timestamp_ms)
    if not copy_lines:
        return when, ""
    return when, NULL if when is None else str(when)


def _line(
    tp: tuple[str, int], offset: int, stamp: str, typed: tuple[Any, ...], heads: dict[Any, str]
) -> str | None:
    """The row's COPY text line (what ``encode_rows`` writes for it), or None where its payload
    holds a character COPY escapes (``encode_rows`` then encodes the row).

    A :attr:`TableSpec.copy_lines` row is ``(topic, partition, offset, time, <identifier>,
    schema_version, payload)``: the identifier is a ``str`` the contract's pattern restricts to
    letters, digits and ``_.:-`` (never None: a required field), ``stamp`` is
    the time's own text, so only the topic (checked once per partition) and the payload can hold
    a character to escape.
    """
    text = typed[2]
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:  # ESCAPED, unrolled
        return None
    head = heads.get(tp)
    if head is None:
        topic, partition = tp
        if any(c in topic for c in ESCAPED):
            return None  # not a name Kafka allows
        head = heads[tp] = f"{topic}\t{partition}\t"
    return f"{head}{offset}\t{stamp}\t{typed[0]}\t{typed[1]}\t{text}\n"
