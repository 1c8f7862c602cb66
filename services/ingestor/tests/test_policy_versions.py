"""The ingestor applies the validation policy's schema versions: N and N-1 land, others do not.

A fixture v2 of the transaction contract (one new required field, filled in by its upgrade)
stands in for the next version: bronze's ``schema_version`` is what the producer wrote, so the
warehouse sees the N-1 rows as such.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from pydantic import Field

from streamflow.events import Topic, Transaction, encode, examples, policy
from streamflow.ingestor.records import PlainRecord, RecordRejectedError, parse_records, validate
from streamflow.ingestor.tables import SPECS, TableSpec


class _TransactionV2(Transaction):
    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, ge=1)
    loyalty_tier: str

    @classmethod
    def upgrade_previous(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "loyalty_tier": "none"}


_V1 = SPECS[Topic.TRANSACTIONS_RAW]
_V2 = TableSpec(_V1.topic, _V1.table, _TransactionV2, _V1.typed_columns, _V1.extract)


def _payload(version: int, **extra: object) -> bytes:
    data = json.loads(encode(examples.transaction()))
    return json.dumps({**data, **extra, "schema_version": version}).encode()


def test_current_and_previous_versions_land_with_the_version_the_producer_wrote() -> None:
    assert _TransactionV2.accepted_versions() == policy.accepted_versions(2) == {1, 2}
    current = _payload(2, loyalty_tier="gold")
    previous = _payload(1)  # v1 shape: no loyalty_tier, upgraded by the contract
    batch = parse_records(
        _V2,
        [PlainRecord("t", 0, i, None, None, v) for i, v in enumerate([current, previous])],
        10_000,
    )
    assert batch.dead == []
    assert [row[-2] for row in batch.rows] == [2, 1]  # schema_version column
    assert [row[-1] for row in batch.rows] == [current.decode(), previous.decode()]
    assert batch.rows[0][4:-2] == batch.rows[1][4:-2]  # same typed columns from either shape
    assert validate(_V2, previous, 10_000)[-2] == 1


def test_a_previous_version_that_validates_as_is_keeps_its_version() -> None:
    row = validate(_V1, _payload(1), 10_000)
    assert row[-2] == 1
    additive = TableSpec(_V1.topic, _V1.table, _AdditiveV2, _V1.typed_columns, _V1.extract)
    assert validate(additive, _payload(1), 10_000)[-2] == 1
    assert validate(additive, _payload(2), 10_000)[-2] == 2


class _AdditiveV2(Transaction):
    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, ge=1)
    loyalty_tier: str | None = None


@pytest.mark.parametrize("version", [3, 42])
def test_versions_outside_the_policy_are_dead_letters_with_the_policy_reason(
    version: int,
) -> None:
    value = _payload(version)
    with pytest.raises(RecordRejectedError) as info:
        validate(_V2, value, 10_000)
    assert info.value.error_type == policy.UNSUPPORTED_SCHEMA_VERSION
    batch = parse_records(_V2, [PlainRecord("t", 0, 0, None, None, value)], 10_000)
    assert batch.rows == []
    assert [d[6] for d in batch.dead] == [policy.UNSUPPORTED_SCHEMA_VERSION]
