"""Property tests (Hypothesis) of the scorer's validation and DLQ records (issue #17).

The real keyed function runs with fake state: whatever text a ``transactions.raw``,
``fraud.rules`` or ``fraud.feedback`` value holds (U+0000 in keys and values, lone surrogates,
huge strings, deep nesting, bytes smuggled in by a lenient decoder), processing it never raises;
a rejected value yields exactly one DLQ record, valid UTF-8 JSON that the DLQ contract and
PostgreSQL's ``jsonb`` accept, whose reason has no U+0000 and whose payload keeps the bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamflow.events import DeadLetter, Stage, decode, encode
from streamflow.events.dead_letters import MAX_PAYLOAD_BYTES
from streamflow.events.text import has_json_nul
from streamflow.fraud_scorer import functions as fn
from streamflow.fraud_scorer.records import dead_letter, raw_bytes

from .conftest import make_txn
from .test_functions import FakeCtx, scorer

ANY_CHAR = st.characters(exclude_categories=())  # surrogates and NUL included
ANY_TEXT = st.text(ANY_CHAR, max_size=200)
NOW = datetime.now(UTC).replace(microsecond=0)
VALID = json.loads(encode(make_txn("t1", "C1", NOW)))
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
        max_leaves=15,
    )


RAW = st.one_of(
    st.text(ANY_CHAR, max_size=500),
    st.binary(max_size=500).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.dictionaries(ANY_TEXT, _json_values(), max_size=3).map(
        lambda extra: json.dumps({**VALID, **extra}, ensure_ascii=False)
    ),
    st.tuples(st.sampled_from(sorted(VALID)), _json_values()).map(
        lambda kv: json.dumps({**VALID, kv[0]: kv[1]}, ensure_ascii=False)
    ),
    st.integers(min_value=1, max_value=20_000).map(lambda d: '{"x":' + "[" * d + "]" * d + "}"),
    st.integers(min_value=MAX_PAYLOAD_BYTES - 2, max_value=MAX_PAYLOAD_BYTES + 2).map(
        lambda n: '{"a\\u0000":"' + "\x00" * n + '"}'
    ),
)


def _check_letter(row: Any, raw: str, topic: str) -> DeadLetter:
    key, value = row
    assert key == topic
    data = value.encode("utf-8")  # valid UTF-8 (no lone surrogate)
    assert not has_json_nul(data)  # jsonb stores it
    letter = decode(DeadLetter, data)
    assert "\x00" not in letter.error_message
    assert "\x00" not in letter.error_type
    assert letter.raw_bytes() == raw_bytes(raw)[:MAX_PAYLOAD_BYTES]
    return letter


@PROPERTY
@given(RAW)
def test_any_transaction_value_is_scored_or_one_storable_dead_letter(raw: str) -> None:
    function, _ = scorer()
    out = list(function.process_element(raw, FakeCtx()))
    dead = [row for tag, row in (o for o in out if isinstance(o, tuple)) if tag is fn.DLQ_TAG]
    if dead:
        assert len(out) == 1
        assert _check_letter(dead[0], raw, "raw").stage is Stage.SCORER


@PROPERTY
@given(st.sampled_from([fn.RULES, fn.FEEDBACK]), RAW)
def test_any_rules_or_feedback_value_is_applied_or_one_storable_dead_letter(
    kind: str, raw: str
) -> None:
    function, _ = scorer()
    out = list(function.process_broadcast_element((kind, raw), FakeCtx()))
    for tag, row in out:
        assert tag is fn.DLQ_TAG
        _check_letter(row, raw, "rules" if kind == fn.RULES else "feedback")


@PROPERTY
@given(RAW, ANY_TEXT | st.text(ANY_CHAR, min_size=4000, max_size=6000), ANY_TEXT)
def test_dead_letter_never_fails_whatever_the_reason_holds(
    raw: str, message: str, error_type: str
) -> None:
    row = dead_letter(Stage.SCORER, "raw", raw, error_type, message, NOW)
    _check_letter(row, raw, "raw")


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({**VALID, "a\x00b": 1}),  # the reported record: NUL in an unknown key
        json.dumps({**VALID, "customer_id": "C\x001"}),
        "\x00\x00\x00",
        "\ud800{",
        "bytes \udcff\udcfe",
        '{"x":' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_crafted_transactions_become_storable_dead_letters(raw: str) -> None:
    function, _ = scorer()
    [(tag, row)] = list(function.process_element(raw, FakeCtx()))
    assert tag is fn.DLQ_TAG
    letter = _check_letter(row, raw, "raw")
    if "a\x00b" in raw:
        assert "a\\u0000b" in letter.error_message  # escaped visibly, not dropped


def test_raw_bytes_restores_smuggled_bytes_and_keeps_lone_surrogates() -> None:
    assert raw_bytes("ok \udcff") == b"ok \xff"
    assert raw_bytes("\ud800") == b"\xed\xa0\x80"
