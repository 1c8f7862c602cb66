"""Unit tests: the scored fast path accepts only what the contract accepts, same columns."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from fast_path_checks import FastPathCase  # type: ignore[import-not-found]
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow.events import ScoredTransaction, Topic, encode, examples
from streamflow.events.scored import RuleContribution
from streamflow.ingestor.fast import (
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


CASE = FastPathCase(SPEC, BASE)
_payload, _contract_columns, _fast_columns = CASE.payload, CASE.contract_columns, CASE.fast_columns


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
    CASE.assert_parse_records_alike(values)
