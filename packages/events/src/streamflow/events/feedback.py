"""``fraud.feedback``: ground truth about a transaction, from chargebacks or analysts.

This is the one label vocabulary on the wire (``fraud`` | ``legit``); evaluation files use 0/1 and
the API's analyst verdicts map onto it with :meth:`AnalystVerdict.label`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key
from streamflow.events.types import Identifier, Text


class Label(StrEnum):
    """Whether the transaction was fraud."""

    FRAUD = "fraud"
    LEGIT = "legit"

    @classmethod
    def from_binary(cls, value: int) -> Label:
        """1 -> fraud, 0 -> legit (the evaluation files' encoding)."""
        if value not in (0, 1):
            raise ValueError(f"label must be 0 or 1, got {value!r}")
        return cls.FRAUD if value == 1 else cls.LEGIT

    def to_binary(self) -> int:
        """fraud -> 1, legit -> 0."""
        return 1 if self is Label.FRAUD else 0


class FeedbackSource(StrEnum):
    """Who said so."""

    CHARGEBACK = "chargeback"
    ANALYST = "analyst"


class AnalystVerdict(StrEnum):
    """The alert API's verdict vocabulary."""

    CONFIRMED_FRAUD = "confirmed_fraud"
    FALSE_POSITIVE = "false_positive"

    def label(self) -> Label:
        """The wire label for this verdict."""
        return Label.FRAUD if self is AnalystVerdict.CONFIRMED_FRAUD else Label.LEGIT


class FeedbackKey(Key):
    """Key of ``fraud.feedback``: one label fact, ``(transaction_id, source)`` (with its customer).

    Every record about the same transaction from the same source has the same key, so it lands on
    the same partition in order, and a consumer keeps one label per key: a repeat (a re-sent
    chargeback, a re-published outbox row) or an analyst's changed verdict replaces the previous
    record, never adds to it (docs/adr/0057). Keys written before this had only ``customer_id``;
    they still decode (the two fields are optional in the schema).
    """

    customer_id: Identifier = Field(description="Customer of the transaction.")
    transaction_id: Identifier | None = Field(
        default=None, description="The labelled transaction (always set by Feedback.key())."
    )
    source: FeedbackSource | None = Field(
        default=None, description="Who said so (always set by Feedback.key())."
    )


class Feedback(Contract):
    """A label for one transaction.

    Version 2 adds the optional ``card_id`` (the scorer learns card-level fraud history from it);
    version 1 records still decode.
    """

    SCHEMA_VERSION = 2

    transaction_id: Identifier = Field(description="The labelled transaction.")
    customer_id: Identifier = Field(description="Its customer.")
    merchant_id: Identifier = Field(description="Its merchant (merchant risk learns from this).")
    label: Label = Field(description="fraud or legit.")
    source: FeedbackSource = Field(description="chargeback or analyst.")
    reported_at: AwareDatetime = Field(description="When the label became known (event time).")
    schema_version: int = Field(
        default=2,
        ge=1,
        description="Version of this contract the producer wrote; consumers accept it and N-1.",
    )
    card_id: Identifier | None = Field(
        default=None, description="The card of the transaction, when the producer knows it."
    )
    note: Text | None = Field(default=None, max_length=2000, description="Free text, if any.")

    def key(self) -> FeedbackKey:
        """The Kafka key this record is produced with: deterministic per (transaction, source).

        The chargebacks of the generator and the alert API's outbox both use it, so the same
        label fact always has the same key bytes.
        """
        return FeedbackKey(
            customer_id=self.customer_id, transaction_id=self.transaction_id, source=self.source
        )
