"""Strict JSON (de)serialisation of contracts, raising :class:`ContractError` with field paths.

Current-version payloads are validated straight from JSON in strict mode (the hot path). Only a
payload that fails, or that declares the previous ``schema_version``, is parsed a second time to
be upgraded with :meth:`Contract.upgrade_previous`.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from streamflow.events.base import SCHEMA_VERSION_ERROR, Contract
from streamflow.events.errors import ContractError, FieldError, SchemaVersionError

M = TypeVar("M", bound=BaseModel)


def encode(event: BaseModel) -> bytes:
    """The UTF-8 JSON bytes of a contract (decimals as strings, datetimes as ISO 8601)."""
    return event.model_dump_json().encode("utf-8")


def encode_key(key: BaseModel) -> bytes:
    """The UTF-8 JSON bytes of a record key."""
    return key.model_dump_json().encode("utf-8")


def decode(model: type[M], data: bytes | bytearray | str) -> M:
    """Parse and validate JSON against ``model``; malformed JSON and wrong fields both raise."""
    try:
        event = model.model_validate_json(data)
    except ValidationError as exc:
        upgraded = _upgrade_previous(model, data)
        if upgraded is None:
            raise _contract_error(model, exc) from None
        return upgraded
    if isinstance(event, Contract) and event.schema_version != event.SCHEMA_VERSION:
        upgraded = _upgrade_previous(model, data)
        if upgraded is not None:
            return upgraded
    return event


decode_key = decode
"""Keys decode exactly like values."""


def _upgrade_previous(model: type[M], data: bytes | bytearray | str) -> M | None:
    """Validate an N-1 payload after upgrading it; None if it is not an N-1 payload."""
    if not issubclass(model, Contract) or model.SCHEMA_VERSION <= 1:
        return None
    try:
        raw: Any = json.loads(data)
    except (ValueError, RecursionError):  # deep nesting: the strict parser has said why already
        return None
    if not isinstance(raw, dict) or raw.get("schema_version") != model.SCHEMA_VERSION - 1:
        return None
    try:
        upgraded = model.upgrade_previous(dict(raw))
    except (KeyError, TypeError, ValueError) as exc:
        error = FieldError(
            path="", message=f"cannot upgrade from N-1: {exc!r}", error_type="upgrade"
        )
        raise ContractError(model.__name__, [error]) from None
    upgraded["schema_version"] = model.SCHEMA_VERSION
    try:
        return model.model_validate_json(json.dumps(upgraded))
    except ValidationError as exc:
        raise _contract_error(model, exc) from None


def _contract_error(model: type[BaseModel], exc: ValidationError) -> ContractError:
    errors = [
        FieldError(
            path=".".join(str(part) for part in err["loc"]),
            message=err["msg"],
            error_type=err["type"],
        )
        for err in exc.errors(include_url=False, include_input=False)
    ]
    if any(e.error_type == SCHEMA_VERSION_ERROR for e in errors):
        return SchemaVersionError(model.__name__, errors)
    return ContractError(model.__name__, errors)
