"""Cheaper validators for a topic's common case; the contract still decides everything else.

A fast path accepts a subset of what its contract accepts and yields the same typed columns
(ADR 0121): a ``TypedDict`` of the contract's field types (no model instance), enums and currency
as ``Literal`` sets, the current ``schema_version`` only, a plain ``amount`` kept as its text. A
record it refuses goes through the contract, so rows and dead letters do not change
(``services/ingestor/tests/test_fast_path.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, with_config
from pydantic_core import SchemaValidator
from typing_extensions import TypedDict

from streamflow.events import Transaction, policy
from streamflow.events.currencies import ISO_4217_CODES
from streamflow.events.transactions import Channel, PaymentMethod
from streamflow.events.types import Identifier, Latitude, Longitude


@dataclass(frozen=True, slots=True)
class FastPath:
    """A validator returning a dict for a current, plainly spelled record, and its row getter."""

    validator: SchemaValidator
    extract: Callable[[Any], tuple[Any, ...]]


_INTEGER_DIGITS = policy.AMOUNT_MAX_DIGITS - policy.AMOUNT_DECIMAL_PLACES
if policy.AMOUNT_DECIMAL_PLACES != 2:  # pragma: no cover - PLAIN_AMOUNT spells two places
    raise RuntimeError("PLAIN_AMOUNT assumes two decimal places; update it with the policy")
# Positive, exactly two decimal places, no leading zero, within the policy's digits.
PLAIN_AMOUNT = rf"^(?:[1-9][0-9]{{0,{_INTEGER_DIGITS - 1}}}\.[0-9]{{2}}|0\.(?:0[1-9]|[1-9][0-9]))$"

_Currency = Literal.__getitem__(tuple(sorted(ISO_4217_CODES)))
_Method = Literal.__getitem__(tuple(m.value for m in PaymentMethod))
_Channel = Literal.__getitem__(tuple(c.value for c in Channel))


@with_config(ConfigDict(extra="forbid", strict=True))
class TransactionFast(TypedDict):
    """``Transaction`` at its current version, amount in plain form (see the module docstring)."""

    schema_version: Annotated[
        int, Field(ge=Transaction.SCHEMA_VERSION, le=Transaction.SCHEMA_VERSION)
    ]
    transaction_id: Identifier
    event_time: AwareDatetime
    customer_id: Identifier
    card_id: Identifier
    merchant_id: Identifier
    store_id: Identifier
    product_id: NotRequired[Identifier | None]
    amount: Annotated[str, Field(pattern=PLAIN_AMOUNT)]
    currency: _Currency  # type: ignore[valid-type]
    payment_method: _Method  # type: ignore[valid-type]
    channel: _Channel  # type: ignore[valid-type]
    latitude: NotRequired[Latitude | None]
    longitude: NotRequired[Longitude | None]
    device_id: NotRequired[Identifier | None]


TRANSACTION_COLUMNS = (
    "transaction_id",
    "customer_id",
    "card_id",
    "merchant_id",
    "store_id",
    "amount",
    "currency",
    "event_time",
)
"""``bronze.transactions``' typed columns, named as the contract's fields, in COPY order."""

TRANSACTION = FastPath(
    TypeAdapter(TransactionFast).validator,  # type: ignore[arg-type]
    itemgetter(*TRANSACTION_COLUMNS),
)
"""``transactions.raw``'s fast path: the columns of ``tables._transaction``, in its order."""
