"""``transactions.raw``: a card payment as the merchant saw it. Never carries a fraud label."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key
from streamflow.events.types import CurrencyCode, Identifier, Latitude, Longitude, Money

DEFAULT_CURRENCY = "BRL"
"""The platform's home currency: ``currency``'s default and what the generator's amounts are in.

Fast encoders and file readers take it from here rather than writing the literal.
"""


class PaymentMethod(StrEnum):
    """How the customer paid."""

    CREDIT_CARD = "credit_card"
    DEBIT_CARD = "debit_card"
    PIX = "pix"
    BOLETO = "boleto"
    DIGITAL_WALLET = "digital_wallet"


class Channel(StrEnum):
    """Where the payment happened."""

    POS = "pos"
    ONLINE = "online"
    MOBILE = "mobile"


class TransactionKey(Key):
    """Key of ``transactions.raw``: partitions by customer so a customer's events stay ordered."""

    customer_id: Identifier = Field(description="Customer the transaction belongs to.")


class Transaction(Contract):
    """One payment attempt, produced by the merchant side (here: the generator)."""

    transaction_id: Identifier = Field(description="Globally unique id of the transaction.")
    event_time: AwareDatetime = Field(
        description="When the payment happened (timezone-aware; the event time Flink uses)."
    )
    customer_id: Identifier = Field(description="Customer who paid.")
    card_id: Identifier = Field(description="Card (or wallet) used; a customer may have several.")
    merchant_id: Identifier = Field(description="Merchant that received the payment.")
    store_id: Identifier = Field(description="Store or terminal of the merchant.")
    product_id: Identifier | None = Field(default=None, description="Main product, if known.")
    amount: Money = Field(description="Amount paid, > 0, two decimal places (JSON string).")
    currency: CurrencyCode = Field(
        default=DEFAULT_CURRENCY, description="ISO 4217 code of the amount."
    )
    payment_method: PaymentMethod = Field(description="Payment instrument.")
    channel: Channel = Field(description="pos, online or mobile.")
    latitude: Latitude | None = Field(default=None, description="Where the payment happened.")
    longitude: Longitude | None = Field(default=None, description="Where the payment happened.")
    device_id: Identifier | None = Field(default=None, description="Device fingerprint, if any.")

    def key(self) -> TransactionKey:
        """The Kafka key this transaction is produced with."""
        return TransactionKey(customer_id=self.customer_id)
