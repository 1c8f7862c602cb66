"""Unit tests: a fast path accepts only what its contract accepts, same columns (ADR 0121)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fast_path_checks import FastPathCase  # type: ignore[import-not-found]
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow.events import Topic, Transaction, encode, examples
from streamflow.ingestor.fast import RawTransaction, TransactionFast
from streamflow.ingestor.tables import SPECS

SPEC = SPECS[Topic.TRANSACTIONS_RAW]
BASE: dict[str, Any] = json.loads(encode(examples.transaction()))

VARIANTS: list[dict[str, Any]] = [
    {},
    {"schema_version": 0},
    {"schema_version": 2},
    {"schema_version": 1.0},
    {"schema_version": True},
    {"schema_version": "1"},
    {"amount": "0.00"},
    {"amount": "0.01"},
    {"amount": "0.5"},
    {"amount": "12.5"},
    {"amount": "012.50"},
    {"amount": "1E+2"},
    {"amount": " 12.00"},
    {"amount": "-1.00"},
    {"amount": "999999999999.99"},
    {"amount": "1000000000000.00"},
    {"amount": "12.345"},
    {"amount": 12.5},
    {"amount": "\u0661\u0662.\u0660\u0660"},  # Arabic-Indic digits: Decimal() takes them
    {"amount": "1_000.00"},
    {"currency": "brl"},
    {"currency": "XXX"},
    {"currency": "ZZZ"},
    {"currency": "USD"},
    {"payment_method": "PIX"},
    {"payment_method": "pix"},
    {"channel": "web"},
    {"channel": "mobile"},
    {"event_time": "2026-11-01T14:30:00"},
    {"event_time": "2026-11-01 14:30:00+01:00"},
    {"event_time": "2026-02-30T14:30:00Z"},
    {"event_time": "2026-11-01T24:00:00Z"},
    {"event_time": "2026-11-01T14:30:00.123456789Z"},
    {"event_time": 1_700_000_000},
    {"transaction_id": ""},
    {"transaction_id": "a b"},
    {"transaction_id": "x" * 65},
    {"customer_id": None},
    {"product_id": None},
    {"device_id": "D-1"},
    {"latitude": 91.0},
    {"latitude": None, "longitude": None},
    {"extra": 1},
]


CASE = FastPathCase(SPEC, BASE)
_payload, _contract_columns, _fast_columns = CASE.payload, CASE.contract_columns, CASE.fast_columns


def _same_columns(value: bytes) -> None:
    fast = _fast_columns(value)
    if fast is None:
        return  # the contract decides (parse_records falls back to it)
    slow = _contract_columns(value)
    assert slow is not None, value
    assert fast == slow, value


def test_the_fast_path_has_the_contracts_fields() -> None:
    assert set(TransactionFast.__annotations__) == set(Transaction.model_fields)
    assert set(RawTransaction.__struct_fields__) == set(Transaction.model_fields)


@pytest.mark.parametrize("change", VARIANTS, ids=[json.dumps(v)[:40] for v in VARIANTS])
def test_a_variant_passes_fast_only_if_the_contract_takes_it_alike(change: dict[str, Any]) -> None:
    _same_columns(_payload(change))


@pytest.mark.parametrize("field", sorted(BASE))
def test_a_missing_field_passes_fast_only_if_the_contract_takes_it(field: str) -> None:
    _same_columns(_payload({}, drop=(field,)))


def test_a_duplicate_key_resolves_as_in_the_contract() -> None:
    value = (
        _payload({})[:-1]
        + b',"customer_id":"C2","amount":"1.00","event_time":"2026-11-02T00:00:00Z"}'
    )
    _same_columns(value)
    assert _fast_columns(value) is not None


FIELD_VALUES: dict[str, list[Any]] = {
    "schema_version": [1, 0, 2, None],
    "transaction_id": ["tx-1", "", "a b", "x" * 64, "x" * 65, 1, None],
    "event_time": ["2026-11-01T14:30:00Z", "2026-11-01T14:30:00.5+05:30", "2026-11-01", "x", None],
    "amount": ["4800.00", "0.01", "0.00", "1.5", "1e3", 1, None],
    "currency": ["BRL", "EUR", "brl", "ABC", None],
    "payment_method": ["pix", "cash", None],
    "channel": ["pos", "web", None],
    "latitude": [0.0, -90.0, 90.5, "1", None],
    "device_id": ["d-1", "", None],
}


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELD_VALUES.items()}))
def test_any_combination_passes_fast_only_if_the_contract_takes_it_alike(
    change: dict[str, Any],
) -> None:
    _same_columns(_payload(change))


def test_the_common_case_takes_the_fast_path() -> None:
    assert _fast_columns(_payload({})) is not None


@settings(max_examples=300, deadline=None)
@given(
    amount=st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.from_regex(r"\A[0-9]{1,14}\.[0-9]{0,3}\Z"),
        st.text(max_size=16),
    )
)
def test_any_amount_text_passes_fast_only_if_the_contract_takes_it_alike(amount: str) -> None:
    _same_columns(_payload({"amount": amount}))


def test_parse_records_lands_and_rejects_exactly_as_the_contract_path() -> None:
    values = [_payload(v) for v in VARIANTS] + [b"", b"{", b'{"a":"\\u0000"}', b"\xff"]
    CASE.assert_parse_records_alike(values)


@settings(max_examples=400, deadline=None)
@given(
    event_time=st.one_of(
        st.datetimes(
            min_value=datetime(1, 1, 1),  # noqa: DTZ001 - zones come from `timezones`
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=45))]
            ),
        ).map(lambda d: d.isoformat()),
        st.from_regex(
            r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
            r"(Z|z|[+-][0-9]{2}:?[0-9]{2})?\Z"
        ),
        st.text(max_size=30),
    )
)
def test_any_event_time_text_passes_fast_only_if_the_contract_takes_it_alike(
    event_time: str,
) -> None:
    """The raw fast path checks event_time as text (ADR 0134): never wider than the contract."""
    _same_columns(_payload({"event_time": event_time}))


def test_the_plain_event_times_take_the_fast_path() -> None:
    for text in (
        "2026-11-01T14:30:00Z",
        "2024-12-31T23:59:59.123456-03:00",
        "2027-04-30T00:00:00Z",
    ):
        assert _fast_columns(_payload({"event_time": text})) is not None, text
    for text in ("2024-02-29T10:00:00Z", "2026-11-01T14:30:00", "2026-11-01 14:30:00Z"):
        assert _fast_columns(_payload({"event_time": text})) is None, text  # the contract decides
