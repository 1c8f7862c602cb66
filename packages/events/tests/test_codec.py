from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from pydantic import Field

from streamflow.events import (
    TOPICS,
    Contract,
    ContractError,
    SchemaVersionError,
    Topic,
    Transaction,
    decode,
    decode_key,
    encode,
    encode_key,
)
from streamflow.events.examples import EXAMPLES, transaction


@pytest.mark.parametrize("topic", list(Topic))
def test_every_topic_round_trips(topic: Topic) -> None:
    spec = TOPICS[topic]
    event = EXAMPLES[topic]
    assert isinstance(event, spec.value_model)
    assert decode(spec.value_model, encode(event)) == event
    key = event.dlq_key() if topic is Topic.DLQ else event.key()  # type: ignore[attr-defined]
    assert decode_key(spec.key_model, encode_key(key)) == key


def test_amount_is_a_json_string_and_keeps_two_places() -> None:
    body = json.loads(encode(transaction()))
    assert body["amount"] == "4800.00"
    assert body["event_time"].endswith("Z")
    assert "label" not in body
    assert "is_fraud" not in body


def _mutate(**changes: Any) -> bytes:
    body = json.loads(encode(transaction()))
    for path, value in changes.items():
        body[path] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("changes", "path", "error_type"),
    [
        ({"amount": "-5.00"}, "amount", "greater_than"),
        ({"amount": "0"}, "amount", "greater_than"),
        ({"amount": "1.234"}, "amount", "decimal_max_places"),
        ({"currency": "XXX"}, "currency", "value_error"),
        ({"channel": "fax"}, "channel", "enum"),
        ({"event_time": "2026-11-01T10:00:00"}, "event_time", "timezone_aware"),
        ({"customer_id": 17}, "customer_id", "string_type"),
        ({"latitude": 123.0}, "latitude", "less_than_equal"),
        ({"unexpected": 1}, "unexpected", "extra_forbidden"),
    ],
)
def test_contract_violations_name_the_field(
    changes: dict[str, Any], path: str, error_type: str
) -> None:
    with pytest.raises(ContractError) as info:
        decode(Transaction, _mutate(**changes))
    assert info.value.errors[0].path == path
    assert info.value.error_type == error_type
    assert path in str(info.value)


def test_missing_field_is_reported() -> None:
    body = json.loads(encode(transaction()))
    del body["merchant_id"]
    with pytest.raises(ContractError, match="merchant_id: Field required"):
        decode(Transaction, json.dumps(body))


def test_malformed_json_is_a_contract_error() -> None:
    with pytest.raises(ContractError) as info:
        decode(Transaction, b"{not json")
    assert info.value.error_type == "json_invalid"


def test_unknown_schema_version_is_rejected() -> None:
    with pytest.raises(SchemaVersionError, match="unsupported schema_version 9"):
        decode(Transaction, _mutate(schema_version=9))


class _PointV2(Contract):
    """A contract at version 2 whose v1 called ``x`` ``x_coord``."""

    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, ge=1)
    x: int
    note: str | None = None

    @classmethod
    def upgrade_previous(cls, data: dict[str, Any]) -> dict[str, Any]:
        data["x"] = data.pop("x_coord")
        return data


def test_previous_schema_version_is_upgraded() -> None:
    event = decode(_PointV2, b'{"schema_version": 1, "x_coord": 3}')
    assert event == _PointV2(x=3)
    assert event.schema_version == 2


def test_previous_version_that_validates_directly_is_still_upgraded() -> None:
    class _AddOnly(Contract):
        SCHEMA_VERSION: ClassVar[int] = 2
        schema_version: int = Field(default=2, ge=1)
        x: int

    assert decode(_AddOnly, b'{"schema_version": 1, "x": 1}').schema_version == 2


def test_two_versions_back_is_rejected() -> None:
    class _V3(Contract):
        SCHEMA_VERSION: ClassVar[int] = 3
        schema_version: int = Field(default=3, ge=1)

    with pytest.raises(SchemaVersionError):
        decode(_V3, b'{"schema_version": 1}')
    with pytest.raises(ContractError):
        decode(_V3, b"[1, 2]")


def test_broken_upgrade_reports_the_field() -> None:
    with pytest.raises(ContractError, match="cannot upgrade from N-1"):
        decode(_PointV2, b'{"schema_version": 1, "y": 3}')
    with pytest.raises(ContractError, match="x: Input should be a valid integer"):
        decode(_PointV2, b'{"schema_version": 1, "x_coord": "three"}')


def test_schema_version_default_must_match_class_constant() -> None:
    with pytest.raises(TypeError, match="SCHEMA_VERSION"):

        class _Broken(Contract):
            SCHEMA_VERSION: ClassVar[int] = 2


def test_events_are_immutable() -> None:
    event = transaction()
    with pytest.raises(ValueError, match="frozen"):
        event.amount = Decimal("1.00")  # type: ignore[misc]


def test_float_timestamps_are_not_coerced_to_aware_times() -> None:
    with pytest.raises(ContractError):
        decode(Transaction, _mutate(event_time=datetime.now(UTC).timestamp()))
