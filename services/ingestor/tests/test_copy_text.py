"""Unit tests of the COPY text encoder: the fast path never differs from the careful one."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from test_units import EXAMPLES  # type: ignore[import-not-found]

from streamflow.events import Topic, encode, examples
from streamflow.ingestor import copy_text
from streamflow.ingestor.copy_text import NULL, encode_rows, field_text, row_text
from streamflow.ingestor.records import PlainRecord, kafka_time, parse_records
from streamflow.ingestor.tables import SPECS

_T = datetime(2026, 11, 1, 14, 30, 0, 123456, tzinfo=UTC)


def _careful(rows: list[tuple[Any, ...]]) -> bytes:
    return "".join(row_text(r) + "\n" for r in rows).encode()


def _same_text(fast: bytes, careful: bytes) -> bool:
    """Equal COPY text, a datetime spelled ``T``-separated in one and with a space in the other."""
    if fast == careful:
        return True
    a, b = fast.decode().split("\n"), careful.decode().split("\n")
    if len(a) != len(b):
        return False
    for line_a, line_b in zip(a, b, strict=True):
        fields_a, fields_b = line_a.split("\t"), line_b.split("\t")
        if len(fields_a) != len(fields_b):
            return False
        for x, y in zip(fields_a, fields_b, strict=True):
            if x != y and not ("T" in x and datetime.fromisoformat(x) == datetime.fromisoformat(y)):
                return False
    return True


def test_field_text_spells_null_and_escapes() -> None:
    assert field_text(None) == NULL
    assert field_text("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert field_text(Decimal("4800.00")) == "4800.00"
    assert field_text(True) == "True"
    assert field_text(_T) == "2026-11-01 14:30:00.123456+00:00"
    assert field_text(b"\x00\xff") == "\\\\x00ff"


@pytest.mark.parametrize(
    "row",
    [
        ("t", 0, 1, _T, "tx-1", Decimal("1.50"), 1, '{"a": 1}'),
        ("t", 0, 2, None, "tx-2", Decimal("1E+2"), 1, '{"a": "x\\"y"}'),  # NULL + backslash
        ("t", 0, 3, _T, "None", 0.25, 1, '{\n\t"a": 1\r}'),  # a real "None"; whitespace
        ("t", 0, 4, _T, "a\tb", False, 1, "{}"),  # a tab inside a value
        ("t", 0, 5, _T, uuid.UUID(int=5), 1e-05, 1, "{}"),
        ("t", 0, 6, _T, b"\x01raw", b'"quoted"', 1, "{}"),  # bytes become bytea hex
    ],
)
def test_fast_path_matches_the_careful_path(row: tuple[Any, ...]) -> None:
    assert _same_text(encode_rows([row]), _careful([row]))


def test_every_spec_example_encodes_like_the_careful_path() -> None:
    rows = []
    for topic, event in EXAMPLES.items():
        record = PlainRecord("t", 0, 7, 1_700_000_000_000, None, encode(event))
        batch = parse_records(SPECS[topic], [record], 1 << 20)
        assert len(batch.rows) == 1, topic
        rows.append(batch.rows[0])
    for row in rows:
        assert _same_text(encode_rows([row]), _careful([row]))
    assert encode_rows([]) == b""


def test_kafka_time_remembers_its_text() -> None:
    when = kafka_time(1_700_000_000_123)
    assert when is not None
    assert str(when) == "2023-11-14 22:13:20.123000+00:00" == str(when)
    assert when == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)


def test_parse_records_shares_one_timestamp_per_millisecond() -> None:
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    value = encode(examples.transaction())
    recs = [PlainRecord("t", 0, i, 1_700_000_000_000, None, value) for i in range(3)]
    rows = parse_records(spec, recs, 10_000).rows
    assert rows[0][3] is rows[2][3]


_LONG = '{"why": "None of b\'these\' marks matter in a payload", "pad": "' + "x" * 1100 + '"}'


@pytest.mark.parametrize(
    "rows",
    [
        [("t", 0, 1, _T, "tx-1", 1, _LONG), ("t", 0, 2, _T, "tx-2", 1, _LONG)],  # proven apart
        [("t", 0, 1, None, "tx-1", 1, _LONG)],  # a NULL among the typed columns
        [("t", 0, 1, _T, "None", 1, _LONG)],  # a real "None" among them
        [("t", 0, 1, _T, "tx\t1", 1, _LONG)],  # a tab among them
        [("t", 0, 1, _T, "tx-1", 1, _LONG + "\t")],  # JSON whitespace in the payload
        [("t", 0, 1, _T, "tx-1", 1, "\n" + _LONG)],
        [("t", 0, 1, _T, "tx-1", 1, "\r" + _LONG)],
        [("t", 0, 1, _T, "tx-1", 1, _LONG.replace("x", "\\", 1))],  # a backslash in it
        [("t", 0, 1, _T, "tx-1", 1, _LONG), ("t", 0, 2, _T, "tx-2", 1, None)],  # not text
        [("t", 0, 1, _T, "tx-1", 1, _LONG), ("t", 0, 2, _T, "tx-2", 1, b"x" * 1100)],
    ],
)
def test_long_payloads_encode_like_the_careful_path(rows: list[tuple[Any, ...]]) -> None:
    assert _same_text(encode_rows(rows), _careful(rows))


def test_a_long_plain_payload_is_proven_apart_from_the_typed_columns() -> None:
    rows = [("t", 0, i, _T, f"tx-{i}", 1, _LONG) for i in range(3)]
    assert copy_text._with_payload(rows, 7) == _careful(rows)


_MINUTES = timezone(timedelta(hours=5, minutes=30))
_SECONDS = timezone(timedelta(hours=1, seconds=1))


def test_a_column_of_datetimes_is_spelled_in_one_call() -> None:
    rows = [
        ("t", 1, _T, 1),
        ("t", 2, _T.astimezone(_MINUTES), 2),
        ("t", 3, _T.replace(tzinfo=None), 3),
    ]
    text = encode_rows(rows).decode()
    assert text.split("\n")[:3] == [
        "t\t1\t2026-11-01T14:30:00.123456+00:00\t1",
        "t\t2\t2026-11-01T20:00:00.123456+05:30\t2",
        "t\t3\t2026-11-01T14:30:00.123456\t3",
    ]
    assert _same_text(text.encode(), _careful(rows))


@pytest.mark.parametrize(
    "column",
    [
        [_T, _T.astimezone(_SECONDS)],  # an offset with seconds: orjson would drop them
        [_T, None],  # a NULL
        [_T, "2026-11-01"],  # not a datetime
    ],
)
def test_a_column_orjson_cannot_spell_exactly_keeps_str(column: list[Any]) -> None:
    assert copy_text.iso_texts(column) is None
    assert copy_text.iso_texts([]) is None
    rows = [("t", i, value) for i, value in enumerate(column)]
    assert encode_rows(rows) == _careful(rows)


_RAW = SPECS[Topic.TRANSACTIONS_RAW]


def _raw_records(
    values: list[bytes], timestamp: int | None = 1_700_000_000_123
) -> list[PlainRecord]:
    return [
        PlainRecord(str(Topic.TRANSACTIONS_RAW), i % 3, 100 + i, timestamp, b"k", v)
        for i, v in enumerate(values)
    ]


def _tx(n: int, **change: str) -> bytes:
    value = encode(examples.transaction(f"tx-{n:06d}", "C0001"))
    for old, new in change.items():
        value = value.replace(old.encode(), new.encode())
    return value


@pytest.mark.parametrize("timestamp", [1_700_000_000_123, 1_700_000_000_000, None])
def test_the_parsers_lines_are_encode_rows_text(timestamp: int | None) -> None:
    """transactions.raw rows get their COPY lines from the record's bytes: the same text."""
    batch = parse_records(_RAW, _raw_records([_tx(i) for i in range(7)], timestamp), 1 << 20)
    assert len(batch.lines) == len(batch.rows) == 7
    assert None not in batch.lines
    assert batch.text() == encode_rows(batch.rows)


def test_a_payload_copy_must_escape_gets_no_line_and_is_encoded_alone() -> None:
    """A backslash (a JSON escape) or a tab between tokens: that row goes through encode_rows."""
    values = [
        _tx(1),
        _tx(2),
        _tx(3).replace(b'"store_id":"S0042-01"', b'"store_id":\t"S0042-01"'),
        _tx(4).replace(b'"device_id":null', b'"device_id":"D\\u002d1"'),
        _tx(5),
    ]
    batch = parse_records(_RAW, _raw_records(values), 1 << 20)
    assert not batch.dead
    assert [line is None for line in batch.lines] == [False, False, True, True, False]
    assert batch.text() == encode_rows(batch.rows)
    assert b'"store_id":\\t"S0042-01"' in batch.text()  # the tab, escaped for COPY
    assert b'"D\\\\u002d1"' in batch.text()  # the backslash, escaped
    assert batch.text().count(b"\n") == 5


def test_lines_follow_extend_and_keeping() -> None:
    """A filtered or joined batch keeps one line per row; joined with an unlined one, none."""
    first = parse_records(_RAW, _raw_records([_tx(i) for i in range(4)]), 1 << 20)
    later = parse_records(
        _RAW,
        [PlainRecord(str(Topic.TRANSACTIONS_RAW), 0, 200, 1, b"k", _tx(9))],
        1 << 20,
    )
    kept = first.keeping(lambda row: row[2] % 2 == 0)
    assert len(kept.lines) == len(kept.rows) == 2
    assert kept.text() == encode_rows(kept.rows)
    kept.extend(later)
    assert len(kept.lines) == len(kept.rows) == 3
    assert kept.text() == encode_rows(kept.rows)
    unlined = parse_records(SPECS[Topic.FRAUD_FEEDBACK], [], 1 << 20)
    unlined.rows.append(first.rows[1])
    kept.extend(unlined)
    assert kept.lines == []
    assert kept.text() == encode_rows(kept.rows)


def test_a_topic_name_copy_would_escape_gets_no_line() -> None:
    """Kafka allows no such name; a record claiming one is encoded by encode_rows all the same."""
    records = [PlainRecord("odd\ttopic", 0, 1, 1_700_000_000_000, b"k", _tx(1))]
    batch = parse_records(_RAW, records, 1 << 20)
    assert batch.lines == [None]
    assert batch.text() == encode_rows(batch.rows)
    assert batch.text().startswith(b"odd\\ttopic\t0\t1\t")


def test_copy_lines_needs_exactly_one_typed_column() -> None:
    """The parser's line holds one identifier column; a spec with more is refused outright."""
    with pytest.raises(ValueError, match="exactly one typed column"):
        dataclasses.replace(SPECS[Topic.FRAUD_FEEDBACK], copy_lines=True)
