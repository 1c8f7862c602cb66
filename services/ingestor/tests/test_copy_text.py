"""Unit tests of the COPY text encoder: the fast path never differs from the careful one."""

from __future__ import annotations

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
