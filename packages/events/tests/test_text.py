"""Property tests (Hypothesis): storable text, the jsonb NUL check, contracts and dead letters.

Whatever bytes or text arrive -- invalid UTF-8, U+0000 in keys and values, lone surrogates, huge
strings, deeply nested JSON -- decoding raises only :class:`ContractError`, and the dead letter
built from the record and that error always encodes to JSON PostgreSQL's ``text`` and ``jsonb``
accept, keeping the raw bytes exactly.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamflow.events import (
    ContractError,
    DeadLetter,
    Feedback,
    PayloadEncoding,
    Stage,
    Transaction,
    decode,
    encode,
    examples,
)
from streamflow.events.dead_letters import MAX_PAYLOAD_BYTES
from streamflow.events.text import (
    ELLIPSIS,
    NUL_ESCAPE,
    REPLACEMENT,
    ascii_text,
    has_json_nul,
    storable_text,
)

ANY_CHAR = st.characters(exclude_categories=())  # surrogates and NUL included
ANY_TEXT = st.text(ANY_CHAR, max_size=300)
NOW = datetime(2026, 11, 1, 14, 30, tzinfo=UTC)
VALID = json.loads(encode(examples.transaction()))
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _oracle(value: str) -> str:
    """storable_text without a bound, one character at a time."""
    return "".join(
        NUL_ESCAPE if c == "\x00" else REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c
        for c in value
    )


@PROPERTY
@given(ANY_TEXT, st.integers(min_value=1, max_value=400))
def test_storable_text_is_storable_bounded_and_changes_only_what_it_must(
    value: str, limit: int
) -> None:
    out = storable_text(value, limit)
    assert "\x00" not in out
    assert _utf8_ok(out)
    expected = _oracle(value)
    if len(expected) <= limit:
        assert out == expected  # clean text comes back unchanged
    else:  # cut, visibly, keeping what fits
        assert len(out) == limit
        assert out.endswith(ELLIPSIS)
        assert expected.startswith(out[:-1])


@PROPERTY
@given(ANY_TEXT, st.integers(min_value=1, max_value=400))
def test_ascii_text_is_plain_ascii_without_nul(value: str, limit: int) -> None:
    out = ascii_text(value, limit)
    assert out.isascii()
    assert "\x00" not in out
    assert len(out) <= limit


def test_storable_text_examples() -> None:
    assert storable_text("a\x00b", 100) == "a\\u0000b"
    assert storable_text("x\ud800y", 100) == f"x{REPLACEMENT}y"
    assert storable_text("abcdef", 4) == f"abc{ELLIPSIS}"
    assert storable_text("anything", 0) == ""


@PROPERTY
@given(st.text(st.characters(codec="utf-8"), max_size=200), st.booleans())
def test_has_json_nul_is_exactly_a_nul_in_the_decoded_text(value: str, ascii_only: bool) -> None:
    data = json.dumps({"k": value, value: 1}, ensure_ascii=ascii_only).encode("utf-8")
    assert has_json_nul(data) == ("\x00" in value)


@pytest.mark.parametrize(
    ("data", "nul"),
    [
        (b'"\\u0000"', True),
        (b'"\\\\u0000"', False),  # an escaped backslash, then the text u0000
        (b'"\\\\\\u0000"', True),  # an escaped backslash, then a NUL
        (b'"u0000"', False),
        (b'"\\u00001"', True),
    ],
)
def test_has_json_nul_examples(data: bytes, nul: bool) -> None:
    assert has_json_nul(data) is nul


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
        max_leaves=20,
    )


def _nested(depth: int) -> bytes:
    return b'{"x":' + b"[" * depth + b"]" * depth + b"}"


RAW = st.one_of(
    st.binary(max_size=2000),
    # a valid transaction with arbitrary extra members (NULs and surrogates in keys included)
    st.dictionaries(ANY_TEXT, _json_values(), max_size=4).map(
        lambda extra: json.dumps({**VALID, **extra}).encode("utf-8", "surrogatepass")
    ),
    # a valid transaction with one field replaced by anything
    st.tuples(st.sampled_from(sorted(VALID)), _json_values()).map(
        lambda kv: json.dumps({**VALID, kv[0]: kv[1]}).encode("utf-8", "surrogatepass")
    ),
    st.integers(min_value=1, max_value=20_000).map(_nested),
    st.integers(min_value=MAX_PAYLOAD_BYTES - 10, max_value=MAX_PAYLOAD_BYTES + 10).map(
        lambda n: b'{"x":"' + b"\x00\xff" * (n // 2) + b'"}'
    ),
)


def _letter_for(raw: bytes, key: bytes | None) -> DeadLetter | None:
    try:
        decode(Transaction, raw)
    except ContractError as exc:
        return DeadLetter.from_raw(
            stage=Stage.SCORER,
            source_topic="transactions.raw",
            raw=raw,
            error_type=exc.error_type,
            error_message=str(exc),
            failed_at=NOW,
            source_partition=0,
            source_offset=7,
            key=key,
        )
    return None


@PROPERTY
@given(RAW, st.none() | st.binary(max_size=300))
def test_any_rejected_record_makes_a_dead_letter_that_encodes_and_round_trips(
    raw: bytes, key: bytes | None
) -> None:
    letter = _letter_for(raw, key)  # decode raises nothing but ContractError
    if letter is None:
        return
    value = encode(letter)
    value.decode("utf-8")  # valid UTF-8
    assert not has_json_nul(value)  # jsonb stores it
    again = decode(DeadLetter, value)
    assert again == letter
    assert again.raw_bytes() == raw[:MAX_PAYLOAD_BYTES]
    assert again.payload_truncated is (len(raw) > MAX_PAYLOAD_BYTES)
    for text in (again.error_message, again.error_type, again.key or "", again.source_topic):
        assert "\x00" not in text


@PROPERTY
@given(
    st.none() | st.binary(max_size=500),
    ANY_TEXT | st.text(ANY_CHAR, min_size=5000, max_size=6000),
    ANY_TEXT,
    st.none() | st.binary(max_size=3000) | st.text(ANY_CHAR, max_size=3000),
    ANY_TEXT,
)
def test_from_raw_never_fails_whatever_the_fields_hold(
    raw: bytes | None, message: str, error_type: str, key: bytes | str | None, topic: str
) -> None:
    letter = DeadLetter.from_raw(
        stage=Stage.INGESTOR,
        source_topic=topic,
        raw=raw,
        error_type=error_type,
        error_message=message,
        failed_at=NOW,
        key=key,
    )
    value = encode(letter)
    assert not has_json_nul(value)
    assert decode(DeadLetter, value).raw_bytes() == (raw or b"")[:MAX_PAYLOAD_BYTES]


def test_a_payload_holding_nul_is_kept_as_base64() -> None:
    letter = DeadLetter.from_raw(
        stage=Stage.SCORER,
        source_topic="t",
        raw=b"a\x00b",
        error_type="x",
        error_message="y",
        failed_at=NOW,
    )
    assert letter.payload_encoding is PayloadEncoding.BASE64
    assert base64.b64decode(letter.payload) == b"a\x00b"


def test_contract_text_refuses_nul_with_a_clear_reason() -> None:
    value = encode(examples.feedback().model_copy(update={"note": "bad\x00note"}))
    with pytest.raises(ContractError) as info:
        decode(Feedback, value)
    assert info.value.error_type == "string_nul"
    assert "note: text must not contain U+0000" in str(info.value)
