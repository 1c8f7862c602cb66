"""The alert API's response models vs the contracts they mirror.

``TransactionView`` is validated from a bronze transaction payload and ``Explanation`` from an
alert's ``triggered_rules``: each of their fields must be a contract field with the same JSON type
(nullable where the contract is), and a new contract field must be either shown or listed as
left out here. Fields of ``AlertSummary`` named after ``FraudAlert`` fields must have their types,
and the verdict vocabularies (status, label) must be the contract's enums.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from streamflow.alert_api.models import (
    AlertStatus,
    AlertSummary,
    Explanation,
    FeedbackOut,
    TransactionView,
)
from streamflow.events import AnalystVerdict, FraudAlert, Label, Transaction, TriggeredRule, encode
from streamflow.events.examples import alert, transaction

MIRRORS: list[tuple[type[BaseModel], type[BaseModel], frozenset[str]]] = [
    (TransactionView, Transaction, frozenset({"schema_version", "product_id", "device_id"})),
    (Explanation, TriggeredRule, frozenset({"schema_version"})),
]
"""(API model, contract it is read from, contract fields it deliberately does not show)."""


def _json_type(model: type[BaseModel], name: str) -> tuple[frozenset[str], bool]:
    """(JSON types without null, nullable) of a field in serialization mode, refs resolved."""
    schema = model.model_json_schema(mode="serialization")
    defs = schema.get("$defs", {})

    def types(node: dict[str, Any]) -> list[str]:
        if "$ref" in node:
            return types(defs[node["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in node:
            return [t for option in node["anyOf"] for t in types(option)]
        kind = node.get("type", "object")
        return [f"{kind}:{node['format']}" if "format" in node else kind]

    found = types(schema["properties"][name])
    return frozenset(t for t in found if t != "null"), "null" in found


@pytest.mark.parametrize(
    ("api", "contract", "omitted"), MIRRORS, ids=[api.__name__ for api, _, _ in MIRRORS]
)
def test_mirrored_fields_are_contract_fields_of_the_same_type(
    api: type[BaseModel], contract: type[BaseModel], omitted: frozenset[str]
) -> None:
    problems = []
    for name in api.model_fields:
        if name not in contract.model_fields:
            problems.append(f"{api.__name__}.{name} is not a {contract.__name__} field")
            continue
        (api_types, api_null), (types, null) = _json_type(api, name), _json_type(contract, name)
        if api_types != types:
            problems.append(f"{api.__name__}.{name} is {set(api_types)}, contract {set(types)}")
        if null and not api_null:
            problems.append(f"{api.__name__}.{name} cannot be null, {contract.__name__}'s can")
    unshown = sorted(set(contract.model_fields) - set(api.model_fields) - omitted)
    if unshown:
        problems.append(
            f"{contract.__name__} fields {unshown} are neither in {api.__name__} nor listed as "
            "deliberately left out (tests/contracts/test_api_shape.MIRRORS)"
        )
    stale = sorted(omitted - set(contract.model_fields))
    if stale:
        problems.append(f"MIRRORS lists {stale} as left out of {api.__name__}; no such field")
    assert not problems, "\n".join(problems)


def test_the_transaction_view_reads_a_contract_payload() -> None:
    event = transaction()
    view = TransactionView.model_validate_json(encode(event))
    wire = json.loads(encode(event))
    shown = json.loads(view.model_dump_json())
    for name, value in shown.items():
        assert value == wire[name] or (
            name == "event_time" and view.event_time == event.event_time
        ), f"TransactionView.{name}: {value!r} != contract JSON {wire[name]!r}"


def test_explanations_read_an_alerts_triggered_rules() -> None:
    payload = json.loads(encode(alert()))
    for rule in payload["triggered_rules"]:
        shown = Explanation.model_validate(rule).model_dump()
        assert shown == {k: rule[k] for k in Explanation.model_fields}


def test_alert_summary_fields_named_after_alert_fields_have_their_types() -> None:
    shared = sorted(set(AlertSummary.model_fields) & set(FraudAlert.model_fields))
    assert {"alert_id", "transaction_id", "amount", "score", "severity"} <= set(shared)
    problems = []
    for name in shared:
        (api_types, _), (types, _) = _json_type(AlertSummary, name), _json_type(FraudAlert, name)
        if api_types != types:
            problems.append(f"AlertSummary.{name} is {set(api_types)}, FraudAlert {set(types)}")
    assert not problems, "\n".join(problems)


def test_verdict_vocabularies_are_the_contracts() -> None:
    verdicts = {v.value for v in AnalystVerdict}
    statuses = {s.value for s in AlertStatus}
    assert verdicts <= statuses, f"AlertStatus {statuses} lacks verdicts {verdicts - statuses}"
    assert statuses - verdicts == {AlertStatus.NEW.value}
    label = FeedbackOut.model_fields["label"].annotation
    assert set(typing.get_args(label)) == {lab.value for lab in Label}, f"FeedbackOut.label {label}"
