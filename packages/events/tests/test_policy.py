"""The validation policy: its values are the ones the contracts enforce."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import ClassVar

import pytest
from pydantic import Field

from streamflow.events import (
    ContractError,
    SchemaVersionError,
    Transaction,
    decode,
    encode,
    examples,
    policy,
)
from streamflow.events.base import Contract
from streamflow.events.topics import TOPICS


def _with_amount(amount: str) -> bytes:
    payload = json.loads(encode(examples.transaction()))
    payload["amount"] = amount
    return json.dumps(payload).encode()


def test_amount_bounds_are_what_the_contract_accepts() -> None:
    assert Decimal("0.01") == policy.AMOUNT_MIN
    assert Decimal("999999999999.99") == policy.AMOUNT_MAX
    assert decode(Transaction, _with_amount(str(policy.AMOUNT_MIN))).amount == policy.AMOUNT_MIN
    assert decode(Transaction, _with_amount(str(policy.AMOUNT_MAX))).amount == policy.AMOUNT_MAX
    for outside in ("0.00", "-0.01", str(policy.AMOUNT_MAX + policy.AMOUNT_MIN), "0.001"):
        with pytest.raises(ContractError) as info:
            decode(Transaction, _with_amount(outside))
        assert info.value.errors[0].path == "amount"


def test_accepted_versions_are_current_and_previous() -> None:
    assert policy.accepted_versions(1) == {1}
    assert policy.accepted_versions(2) == {1, 2}
    assert policy.accepted_versions(7) == {6, 7}


def test_every_topic_contract_is_listed_with_its_accepted_versions() -> None:
    listed = policy.accepted_schema_versions()
    assert set(listed) == {spec.value_model.__name__ for spec in TOPICS.values()}
    for spec in TOPICS.values():
        model = spec.value_model
        accepted = policy.accepted_versions(model.SCHEMA_VERSION)
        assert listed[model.__name__] == tuple(sorted(accepted))
    assert listed["Transaction"] == (Transaction.SCHEMA_VERSION,)  # v1: nothing before it


class _PointV2(Contract):
    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, ge=1)
    x: int


def test_a_contract_accepts_exactly_the_policy_versions_with_the_policy_reason() -> None:
    assert _PointV2.accepted_versions() == policy.accepted_versions(2)
    for version in (1, 2):
        assert decode(_PointV2, f'{{"schema_version": {version}, "x": 1}}').x == 1
    for version in (3, 42):
        with pytest.raises(SchemaVersionError) as info:
            decode(_PointV2, f'{{"schema_version": {version}, "x": 1}}')
        assert info.value.error_type == policy.UNSUPPORTED_SCHEMA_VERSION


def test_reason_codes_are_distinct_identifiers() -> None:
    codes = [
        policy.UNSUPPORTED_SCHEMA_VERSION,
        policy.EVENT_TIME_IN_FUTURE,
        policy.EVENT_TIME_TOO_OLD,
        policy.AMOUNT_NOT_POSITIVE,
        policy.AMOUNT_TOO_LARGE,
    ]
    assert len(set(codes)) == len(codes)
    assert all(code.isidentifier() and code.islower() for code in codes)
    assert policy.MAX_FUTURE_SKEW.total_seconds() > 0
    assert policy.EARLIEST_EVENT_TIME.tzinfo is not None
