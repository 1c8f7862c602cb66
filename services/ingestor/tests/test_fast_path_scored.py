"""Unit tests: the scored fast path accepts only what the contract accepts, same columns."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from streamflow.events import ContractError, ScoredTransaction, Topic, decode, encode, examples
from streamflow.events.scored import RuleContribution
from streamflow.ingestor.copy_text import encode_rows
from streamflow.ingestor.fast import (
    SCORED_TRANSACTION,
    RuleContributionFast,
    ScoredTransactionFast,
)
from streamflow.ingestor.records import PlainRecord, parse_records
from streamflow.ingestor.tables import SPECS

SPEC = SPECS[Topic.TRANSACTIONS_SCORED]
SLOW = dataclasses.replace(SPEC, fast=None)
BASE: dict[str, Any] = {
    **json.loads(encode(examples.scored())),
    "model_score": 0.4,
    "shadow_model_version": "gbdt-2",
    "shadow_score": 0.3,
    "feature_set": "sf-2",
    "features": [0.0, 1.5, -2.0],
}
RULE: dict[str, Any] = BASE["rule_contributions"][0]

VARIANTS: list[dict[str, Any]] = [
    {},
    {"schema_version": 1},
    {"schema_version": 3},
    {"schema_version": 2.0},
    {"fraud_score": 1.01},
    {"fraud_score": 1},
    {"fraud_score": "0.5"},
    {"is_alert": 1},
    {"ml_score": None},
    {"ml_score": -0.1},
    {"reasons": []},
    {"reasons": ["a", 1]},
    {"reasons": ["x" * 5000]},
    {"rules_version": -1},
    {"rules_version": 1.5},
    {"model_version": None},
    {"model_version": "m" * 64},
    {"model_version": "m" * 65},
    {"scored_at": "2026-11-01T14:30:00"},
    {"scored_at": "2026-11-01T14:30:00.5+05:30"},
    {"scored_at": 1_700_000_000},
    {"shadow_model_version": "s" * 65},
    {"feature_set": "f" * 33},
    {"features": None},
    {"features": [0.0] * 64},
    {"features": [0.0] * 65},
    {"features": ["1"]},
    {"features": [True]},
    {"rule_contributions": []},
    {"rule_contributions": [{**RULE, "schema_version": 2}]},
    {"rule_contributions": [{k: v for k, v in RULE.items() if k != "schema_version"}]},
    {"rule_contributions": [{**RULE, "rule_id": ""}]},
    {"rule_contributions": [{**RULE, "rule_id": "r" * 33}]},
    {"rule_contributions": [{**RULE, "weight": 1.5}]},
    {"rule_contributions": [{**RULE, "contribution": -0.1}]},
    {"rule_contributions": [{**RULE, "explanation": "e" * 500}]},
    {"rule_contributions": [{**RULE, "explanation": "e" * 501}]},
    {"rule_contributions": [{**RULE, "triggered": "true"}]},
    {"rule_contributions": [{**RULE, "extra": 1}]},
    {"transaction": {**BASE["transaction"], "schema_version": 0}},
    {"transaction": {**BASE["transaction"], "amount": "12.5"}},
    {"transaction": {**BASE["transaction"], "currency": "ZZZ"}},
    {"extra": 1},
]


def _payload(change: dict[str, Any], drop: tuple[str, ...] = ()) -> bytes:
    doc = {k: v for k, v in {**BASE, **change}.items() if k not in drop}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _contract_columns(value: bytes) -> tuple[Any, ...] | None:
    try:
        return SPEC.extract(decode(ScoredTransaction, value))
    except ContractError:
        return None


def _fast_columns(value: bytes) -> tuple[Any, ...] | None:
    try:
        return SCORED_TRANSACTION.extract(SCORED_TRANSACTION.validator.validate_json(value))
    except ValidationError:
        return None


def _same_columns(value: bytes) -> None:
    fast = _fast_columns(value)
    if fast is None:
        return  # the contract decides (parse_records falls back to it)
    assert fast == _contract_columns(value), value


def test_the_fast_path_has_the_contracts_fields() -> None:
    assert set(ScoredTransactionFast.__annotations__) == set(ScoredTransaction.model_fields)
    assert set(RuleContributionFast.__annotations__) == set(RuleContribution.model_fields)


def test_the_common_case_takes_the_fast_path() -> None:
    assert _fast_columns(_payload({})) is not None
    assert _fast_columns(encode(examples.scored())) is not None


@pytest.mark.parametrize("change", VARIANTS, ids=[json.dumps(v)[:40] for v in VARIANTS])
def test_a_variant_passes_fast_only_if_the_contract_takes_it_alike(change: dict[str, Any]) -> None:
    _same_columns(_payload(change))


@pytest.mark.parametrize("field", sorted(BASE))
def test_a_missing_field_passes_fast_only_if_the_contract_takes_it(field: str) -> None:
    _same_columns(_payload({}, drop=(field,)))


FIELD_VALUES: dict[str, list[Any]] = {
    "schema_version": [2, 1, 3, None],
    "fraud_score": [0.0, 1.0, 0.5, 2.0, None],
    "ml_score": [0.3, None, 1.5],
    "reasons": [[], ["x"], [None]],
    "rules_version": [0, 7, -1, None],
    "model_version": ["m", "", "m" * 65, None],
    "scored_at": ["2026-11-01T14:30:00Z", "2026-11-01T14:30:00.5+05:30", "2026-11-01", None],
    "features": [[0.5], [], None, ["a"]],
    "rule_contributions": [[RULE], [RULE, RULE], [{**RULE, "score": 2.0}], [{}], None],
}


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELD_VALUES.items()}))
def test_any_combination_passes_fast_only_if_the_contract_takes_it_alike(
    change: dict[str, Any],
) -> None:
    _same_columns(_payload(change))


def test_free_text_with_nul_never_reaches_the_fast_path() -> None:
    # The contract refuses U+0000 in free text; the fast path's str would not, so parse_records
    # must never hand it such a record (its byte filter), and the dead letter is the contract's.
    value = _payload({"reasons": ["a\u0000b"]})
    record = PlainRecord("t", 0, 1, 1_700_000_000_000, b"k", value)
    fast, slow = parse_records(SPEC, [record], 1 << 20), parse_records(SLOW, [record], 1 << 20)
    assert fast.rows == slow.rows == []
    assert fast.dead == slow.dead
    assert len(fast.dead) == 1


def test_parse_records_lands_and_rejects_exactly_as_the_contract_path() -> None:
    values = [_payload(v) for v in VARIANTS] + [b"", b"{", b'{"a":"\\u0000"}', b"\xff"]
    records = [PlainRecord("t", 0, i, 1_700_000_000_000, b"k", v) for i, v in enumerate(values)]
    fast, slow = parse_records(SPEC, records, 1 << 20), parse_records(SLOW, records, 1 << 20)
    assert fast.dead == slow.dead
    assert fast.keys == slow.keys
    assert fast.next_offsets == slow.next_offsets
    assert encode_rows(fast.rows) == encode_rows(slow.rows)
    assert len(fast.rows) > 10
    assert len(fast.dead) > 10
