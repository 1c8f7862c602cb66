"""Cheaper validators for a topic's common case; the contract still decides everything else.

A fast path accepts a subset of what its contract accepts and yields the same typed columns
(ADR 0121): a ``TypedDict`` of the contract's field types (no model instance), enums and currency
as patterns of their values, the current ``schema_version`` only, a plain ``amount`` kept as its
text, and for ``transactions.raw`` (whose only typed column is ``transaction_id``) a plainly
spelled event time checked as text (ADR 0134). A record it refuses goes through the contract, so
rows and dead letters do not change (``services/ingestor/tests/test_fast_path.py``).

Free text (the contracts' ``Text``: any string but U+0000) is a plain ``str`` here: the ingestor
calls a fast path only for a record whose bytes hold no ``\u0000`` at all
(:func:`streamflow.ingestor.records.parse_records`), and JSON can spell U+0000 no other way.
That spares the Python validator the contract runs on every such field (ADR 0122).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Annotated, Any, Literal, NotRequired

import msgspec
from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from streamflow.events import ScoredTransaction, Transaction, policy
from streamflow.events.currencies import ISO_4217_CODES
from streamflow.events.scored import MAX_FEATURES, RuleContribution
from streamflow.events.transactions import Channel, PaymentMethod
from streamflow.events.types import Identifier, Latitude, Longitude, Score


@dataclass(frozen=True, slots=True)
class FastPath:
    """A check returning the event of a current, plainly spelled record, and its row getter."""

    check: Callable[[bytes], Any]
    """The event (a dict or a struct), or one of ``errors``: the contract decides then."""
    extract: Callable[[Any], tuple[Any, ...]]
    version: Callable[[Any], Any] = itemgetter("schema_version")
    errors: tuple[type[Exception], ...] = (ValidationError,)


class FastPathMissError(ValueError):
    """A record the fast path leaves to the contract (not necessarily invalid)."""


_INTEGER_DIGITS = policy.AMOUNT_MAX_DIGITS - policy.AMOUNT_DECIMAL_PLACES
if policy.AMOUNT_DECIMAL_PLACES != 2:  # pragma: no cover - PLAIN_AMOUNT spells two places
    raise RuntimeError("PLAIN_AMOUNT assumes two decimal places; update it with the policy")
# Positive, exactly two decimal places, no leading zero, within the policy's digits.
PLAIN_AMOUNT = rf"^(?:[1-9][0-9]{{0,{_INTEGER_DIGITS - 1}}}\.[0-9]{{2}}|0\.(?:0[1-9]|[1-9][0-9]))$"


def one_of(values: Iterable[str]) -> str:
    """A pattern matching exactly one of ``values`` (checked by pydantic-core's compiled regex,
    cheaper per record than its ``Literal`` set: ADR 0134)."""
    return "^(?:" + "|".join(re.escape(v) for v in sorted(values)) + ")$"


_Currency = Annotated[str, Field(pattern=one_of(ISO_4217_CODES))]
_Method = Annotated[str, Field(pattern=one_of(m.value for m in PaymentMethod))]
_Channel = Annotated[str, Field(pattern=one_of(c.value for c in Channel))]

_YEAR = "[1-9][0-9]{3}"
_MONTH_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"  # any month, days 1-28
    "|(?:0[13-9]|1[0-2])-(?:29|30)"  # not February
    "|(?:0[13578]|1[02])-31)"  # the long months
)
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]{1,6})?"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
PLAIN_EVENT_TIME = f"^{_YEAR}-{_MONTH_DAY}T{_TIME}{_OFFSET}$"
"""An RFC 3339 date-time every calendar reading of which is valid: years 1000-9999, no
February 29th (those take the contract's path), an explicit offset. The ingestor keeps no typed
event time since V054, so a text check that accepts a subset of what the contract's
``AwareDatetime`` accepts saves building a datetime per record (ADR 0134)."""


@with_config(ConfigDict(extra="forbid", strict=True))
class TransactionFast(TypedDict):
    """``Transaction`` at its current version, amount in plain form (see the module docstring):
    a scored record's transaction (its event time is a typed column of bronze.scored_transactions).
    """

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
    currency: _Currency
    payment_method: _Method
    channel: _Channel
    latitude: NotRequired[Latitude | None]
    longitude: NotRequired[Longitude | None]
    device_id: NotRequired[Identifier | None]


def constraint(annotated: Any, name: str) -> Any:
    """Constraint ``name`` (``pattern``, ``max_length``, ``ge``...) of a pydantic ``Annotated``."""
    for info in annotated.__metadata__:
        for item in [info, *getattr(info, "metadata", [])]:
            value = getattr(item, name, None)
            if value is not None:
                return value
    raise LookupError(f"{annotated} has no {name}")


_Id = Annotated[
    str,
    msgspec.Meta(
        min_length=constraint(Identifier, "min_length"),
        max_length=constraint(Identifier, "max_length"),
    ),
]
_Latitude = Annotated[
    float, msgspec.Meta(ge=constraint(Latitude, "ge"), le=constraint(Latitude, "le"))
]
_Longitude = Annotated[
    float, msgspec.Meta(ge=constraint(Longitude, "ge"), le=constraint(Longitude, "le"))
]
_CurrencyCode = Literal.__getitem__(tuple(sorted(ISO_4217_CODES)))
_PaymentMethod = Literal.__getitem__(tuple(m.value for m in PaymentMethod))
_ChannelName = Literal.__getitem__(tuple(c.value for c in Channel))


class RawTransaction(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``Transaction`` at its current version for ``transactions.raw`` (ADR 0134): msgspec checks
    the shape, types, lengths, bounds and value sets; :data:`_RAW_TEXTS` the patterns of the
    identifiers, the amount and the event time, in one regex call per record."""

    schema_version: Annotated[
        int, msgspec.Meta(ge=Transaction.SCHEMA_VERSION, le=Transaction.SCHEMA_VERSION)
    ]
    transaction_id: _Id
    event_time: str
    customer_id: _Id
    card_id: _Id
    merchant_id: _Id
    store_id: _Id
    product_id: _Id | None = None
    amount: str
    currency: _CurrencyCode  # type: ignore[valid-type]
    payment_method: _PaymentMethod  # type: ignore[valid-type]
    channel: _ChannelName  # type: ignore[valid-type]
    latitude: _Latitude | None = None
    longitude: _Longitude | None = None
    device_id: _Id | None = None


def _unanchored(pattern: str) -> str:
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise ValueError(f"expected an anchored pattern: {pattern!r}")
    return f"(?:{pattern[1:-1]})"


def _possessive(pattern: str) -> str:
    """``pattern`` with a trailing ``]*`` run made possessive (``]*+``): each field of
    :data:`_RAW_TEXTS` ends at a line break, which an identifier's class never matches, so giving
    characters back cannot help a match (sre then keeps no backtracking marks: ~15% less time)."""
    return pattern[:-2] + "*+)" if pattern.endswith("]*)") else pattern


_ID = _possessive(_unanchored(constraint(Identifier, "pattern")))
_RAW_TEXTS = re.compile(
    "\n".join(
        [*[_ID] * 5, f"{_ID}?", f"{_ID}?", _unanchored(PLAIN_AMOUNT), _unanchored(PLAIN_EVENT_TIME)]
    )
)
"""Five identifiers, two optional ones (empty when absent), the amount and the event time, one per
line: none of their patterns matches a line break, so each line is one field."""
_decode_raw = msgspec.json.Decoder(RawTransaction).decode


def check_raw_transaction(value: bytes) -> RawTransaction:
    """``transactions.raw``'s fast check: the record as a :class:`RawTransaction`, or an error."""
    t = _decode_raw(value)
    texts = (
        f"{t.transaction_id}\n{t.customer_id}\n{t.card_id}\n{t.merchant_id}\n{t.store_id}\n"
        f"{t.product_id or ''}\n{t.device_id or ''}\n{t.amount}\n{t.event_time}"
    )
    if _RAW_TEXTS.fullmatch(texts) is None:
        raise FastPathMissError("a field's text is not plainly spelled")
    return t


TRANSACTION_COLUMNS = ("transaction_id",)
"""``bronze.transactions``' typed columns, named as the contract's fields, in COPY order (V054:
the others are read from the payload by dbt's staging, docs/adr/0134)."""


def _transaction_columns(event: RawTransaction) -> tuple[Any, ...]:
    return (event.transaction_id,)


TRANSACTION = FastPath(
    check_raw_transaction,
    _transaction_columns,
    version=attrgetter("schema_version"),
    errors=(msgspec.DecodeError, FastPathMissError),  # msgspec.ValidationError is a DecodeError
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
    TypeAdapter(ScoredTransactionFast).validator.validate_json,
    _scored_columns,
)
"""``transactions.scored``'s fast path: the columns of ``tables._scored``, in its order."""
