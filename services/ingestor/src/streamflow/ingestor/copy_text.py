"""Bronze rows as PostgreSQL ``COPY ... (format text)`` data, built with little Python per row.

asyncpg's ``copy_records_to_table`` encodes every value through its binary codecs one by one,
with Python work per value; formatting the whole row with one ``%`` and sending one buffer per
batch does the same job with much less Python per row (measured in ADR 0021).

The fast path formats a row as ``"%s\\t%s..." % row`` and then proves the lines are safe to send
as is (the whole batch's text at once; line by line only when that fails): exactly ``n - 1``
tabs per line (so no value held a tab); no backslash, newline or carriage return (nothing to
escape); no ``None`` (which ``%s`` spells as text, not ``\\N``); no ``b'`` or ``b"`` (how ``%s``
spells ``bytes``, which must become ``bytea`` hex). A line that fails the proof -- a legitimate
value containing ``None`` included -- is rebuilt field by field with COPY's escapes, so the fast
path can only ever be slower, never different. (Checking the joined batch instead of each line
saves ~1 µs per row, ADR 0121: a line holds at least its template's tabs, so the batch's total
proves every line's, and no marker spans a newline; ``repr()`` of ``bytes`` always holds a ``'``,
so a batch without one needs no search for ``b'`` or ``b"``, and one without an ``N`` none for
``None``: multi-character searches cost more than single-character ones.)

``str()`` of the Python values the table specs produce is valid PostgreSQL input: datetimes as
``2026-11-01 14:30:00+00:00`` (explicit offset: independent of the session's TimeZone and
DateStyle; a column of plain ``datetime`` values is spelled ``2026-11-01T14:30:00+00:00`` by one
``orjson.dumps`` of the whole column instead, ~1 µs per value less, when every offset is whole
minutes, which orjson's spelling keeps exactly), ``Decimal``/``float`` (``1E+2``, ``1e-05``),
``True``/``False``, UUIDs, integers;
``bytes`` are spelled as ``bytea`` hex by the careful path (the bronze topic tables have no
``bytea`` column; dead letters, which do, keep the binary COPY). A value PostgreSQL still cannot
parse raises a data error, which sends the batch to the writer's row-by-row path exactly as a
binary COPY would.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from streamflow.ingestor.gcpause import paused_gc

ESCAPED = "\\\t\n\r"
"""The characters COPY text escapes (a backslash, tab, line feed, carriage return)."""
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
if set(map(ord, ESCAPED)) != set(_ESCAPES):  # pragma: no cover - kept together by hand
    raise RuntimeError("ESCAPED and _ESCAPES name different characters")
NULL = "\\N"


def field_text(value: Any) -> str:
    """One value in COPY text format (``\\N`` for NULL, COPY's backslash escapes applied)."""
    if value is None:
        return NULL
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\\\x" + bytes(value).hex()  # bytea hex input, its backslash escaped for COPY
    text = value if isinstance(value, str) else str(value)
    return text.translate(_ESCAPES)


def row_text(row: Sequence[Any]) -> str:
    """One row, field by field (the careful path)."""
    return "\t".join([field_text(v) for v in row])


def encode_rows(rows: Sequence[tuple[Any, ...]]) -> bytes:
    """Every row as one COPY text buffer (UTF-8, newline-terminated lines).

    The cyclic garbage collector is paused meanwhile (:mod:`streamflow.ingestor.gcpause`): the
    datetime columns' texts make a tuple per row, and collections triggered by them walked the
    batch's rows.
    """
    if not rows:
        return b""
    with paused_gc():
        return _encode_rows(rows)


def _encode_rows(rows: Sequence[tuple[Any, ...]]) -> bytes:
    rows = _with_time_texts(rows)
    columns = len(rows[0])
    last = rows[0][-1]
    if columns > 1 and isinstance(last, str) and len(last) >= LONG_PAYLOAD_CHARS:
        proven = _with_payload(rows, columns)
        if proven is not None:
            return proven
    template = "\t".join(["%s"] * columns)
    lines = [template % row for row in rows]
    lines.append("")
    text = "\n".join(lines)
    # The whole batch at once: a line holds at least its template's tabs, so the total proves each.
    if text.count("\t") == (columns - 1) * len(rows) and _plain(text, len(rows)):
        return text.encode("utf-8")
    return _careful(rows, lines, columns - 1)


def _plain(text: str, newlines: int) -> bool:
    """No escape needed, no ``None`` or ``bytes`` spelled by ``%s``, ``newlines`` line breaks."""
    return (
        text.count("\n") == newlines
        and "\\" not in text
        and "\r" not in text
        and ("N" not in text or "None" not in text)
        and ("'" not in text or ("b'" not in text and 'b"' not in text))
    )


def _with_payload(rows: Sequence[tuple[Any, ...]], columns: int) -> bytes | None:
    """The batch when every row ends in a text payload that needs no escape, else None.

    The typed columns ("heads") get the whole proof; the payloads (long JSON text, where a
    ``None`` or a ``b'`` is just text) only need no tab, line break or backslash, which are
    single-character searches (ADR 0122).
    """
    template = "%s\t" * (columns - 1) + "%.0s"  # the payload formats as ""
    heads = [template % row for row in rows]
    payloads = [row[-1] for row in rows]
    try:
        body = "\n".join(payloads)
    except TypeError:  # a payload that is not text: the generic path
        return None
    n = len(rows)
    head_text = "\n".join(heads)
    if not (
        head_text.count("\t") == (columns - 1) * n
        and _plain(head_text, n - 1)
        and body.count("\n") == n - 1
        and "\t" not in body
        and "\\" not in body
        and "\r" not in body
    ):
        return None
    lines = list(map(operator.add, heads, payloads))
    lines.append("")
    return "\n".join(lines).encode("utf-8")


LONG_PAYLOAD_CHARS = 1024
"""From this length of the first row's last column on, the payload is proven apart (ADR 0122).

Below it the whole-line proof costs less: a ~470-character transaction gains nothing and loses
~0.4 µs to the second pass; a ~1,900-character scored record gains ~6 µs (15.0 -> 9.3 µs/row).
"""
_TZINFO = operator.attrgetter("tzinfo")
_MINUTE = timedelta(minutes=1)


def _with_time_texts(rows: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """``rows`` with each column of plain datetimes (by the first row) as ISO 8601 text."""
    times = [i for i, value in enumerate(rows[0]) if type(value) is datetime]
    texts = {i: t for i in times if (t := iso_texts([row[i] for row in rows])) is not None}
    if not texts:
        return rows
    columns = list(zip(*rows, strict=True))
    for i, column in texts.items():
        columns[i] = tuple(column)
    return list(zip(*columns, strict=True))


def iso_texts(values: Sequence[Any]) -> list[str] | None:
    """The datetimes ``values`` as ISO 8601 text in one call, or None (``str()`` then spells them).

    None unless every value is a datetime whose offset, if any, is fixed and whole minutes (orjson
    writes ``+HH:MM`` and would drop seconds of an offset).
    """
    try:
        zones = set(map(_TZINFO, values))
        for zone in zones:
            if zone is not None and ((offset := zone.utcoffset(None)) is None or offset % _MINUTE):
                return None
        data = orjson.dumps(values)
    except (AttributeError, TypeError, orjson.JSONEncodeError):
        return None
    if not (data.startswith(b'["') and data.endswith(b'"]')):
        return None
    texts = data[2:-2].decode("utf-8").split('","')
    return texts if len(texts) == len(values) else None


_SUSPECT = ("\\", "\r", "None", "b'", 'b"')


def _careful(rows: Sequence[tuple[Any, ...]], lines: list[str], tabs: int) -> bytes:
    """The batch line by line: a line failing the proof is rebuilt field by field."""
    for i, line in enumerate(lines[:-1]):
        if line.count("\t") != tabs or "\n" in line or any(mark in line for mark in _SUSPECT):
            lines[i] = row_text(rows[i])
    return "\n".join(lines).encode("utf-8")
