"""Cheaper validators for a topic's common case; the contract still decides everything else.

A fast path accepts a subset of what its contract accepts and yields the same typed columns
(ADR 0121): a ``TypedDict`` of the contract's field types (no model instance), enums and currency
as ``Literal`` sets, the current ``schema_version`` only, a plain ``amount`` kept as its text. A
record it refuses goes through the contract, so rows and dead letters do not change
(``services/ingestor/tests/test_fast_path.py``).

Free text (the contracts' ``Text``: any string but U+0000) is a plain ``str`` here: the ingestor
calls a fast path only for a record whose bytes hold no ``\u0000`` at all
(:func:`streamflow.ingestor.records.parse_records`), and JSON can spell U+0000 no other way.
That spares the Python validator the contract runs on every such field (ADR 0122).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, with_config
from pydantic_core import SchemaValidator
from typing_extensions import TypedDict

from streamflow.events import ScoredTransaction, Transaction, policy
from streamflow.events.currencies import ISO_4217_CODES
from streamflow.events.scored import MAX_FEATURES, RuleContribution
from streamflow.events.transactions import Channel, PaymentMethod
from streamflow.events.types import Identifier, Latitude, Longitude, Score


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


TRANSACTION_COLUMNS = ("transaction_id",)
"""``bronze.transactions``' typed columns, named as the contract's fields, in COPY order (V054:
the others are read from the payload by dbt's staging, docs/adr/0134)."""


def _transaction_columns(event: Any) -> tuple[Any, ...]:
    return (event["transaction_id"],)


TRANSACTION = FastPath(
    TypeAdapter(TransactionFast).validator,  # type: ignore[arg-type]
    _transaction_columns,
)
"""``transactions.raw``'s fast path: the columns of ``tables._transaction``, in its order."""


def _scored_columns(event: Any) -> tuple[Any, ...]:
    txn = event["transaction"]
    return (
        txn["transaction_id"],
        txn["customer_id"],
        txn["merchant_id"],
        event["fraud_score"],
        event["is_alert"],
        event["rules_version"],
        txn["event_time"],
        event["scored_at"],
    )


@with_config(ConfigDict(extra="forbid", strict=True))
class RuleContributionFast(TypedDict):
    """``RuleContribution`` at its current version (free text as ``str``: module docstring)."""

    schema_version: NotRequired[
        Annotated[
            int, Field(ge=RuleContribution.SCHEMA_VERSION, le=RuleContribution.SCHEMA_VERSION)
        ]
    ]
    rule_id: Annotated[str, Field(min_length=1, max_length=32)]
    triggered: bool
    score: Score
    weight: Annotated[float, Field(ge=0.0, le=1.0)]
    contribution: Annotated[float, Field(ge=0.0, le=1.0)]
    explanation: Annotated[str, Field(max_length=500)]


@with_config(ConfigDict(extra="forbid", strict=True))
class ScoredTransactionFast(TypedDict):
    """``ScoredTransaction`` at its current version, its transaction as :class:`TransactionFast`."""

    schema_version: Annotated[
        int, Field(ge=ScoredTransaction.SCHEMA_VERSION, le=ScoredTransaction.SCHEMA_VERSION)
    ]
    transaction: TransactionFast
    fraud_score: Score
    is_alert: bool
    rule_contributions: list[RuleContributionFast]
    ml_score: NotRequired[Score | None]
    reasons: list[str]
    rules_version: Annotated[int, Field(ge=0)]
    model_version: NotRequired[Annotated[str, Field(max_length=64)] | None]
    scored_at: AwareDatetime
    model_score: NotRequired[Score | None]
    shadow_model_version: NotRequired[Annotated[str, Field(max_length=64)] | None]
    shadow_score: NotRequired[Score | None]
    feature_set: NotRequired[Annotated[str, Field(max_length=32)] | None]
    features: NotRequired[Annotated[list[float], Field(max_length=MAX_FEATURES)] | None]


SCORED_TRANSACTION = FastPath(
    TypeAdapter(ScoredTransactionFast).validator,  # type: ignore[arg-type]
    _scored_columns,
)
"""``transactions.scored``'s fast path: the columns of ``tables._scored``, in its order."""
