"""``transactions.scored``: every transaction with its fraud score and how it was reached."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key
from streamflow.events.transactions import Transaction
from streamflow.events.types import Identifier, Score, Text


class RuleContribution(Contract):
    """What one rule (or the ML model) added to the final score of a transaction."""

    rule_id: Text = Field(
        min_length=1, max_length=32, description="FR-001 .. FR-005, ML, MERCHANT, MODEL."
    )
    triggered: bool = Field(description="Whether the rule fired for this transaction.")
    score: Score = Field(description="The rule's own score in [0, 1].")
    weight: float = Field(ge=0.0, le=1.0, description="Weight of the rule in the blend.")
    contribution: float = Field(ge=0.0, le=1.0, description="score x weight, its share.")
    explanation: Text = Field(max_length=500, description="A sentence a human understands.")


class ScoredTransactionKey(Key):
    """Key of ``transactions.scored``: the customer, like the raw topic."""

    customer_id: Identifier = Field(description="Customer the transaction belongs to.")


MAX_FEATURES = 64
"""At most this many entries in a scored record's ``features``."""


class ScoredTransaction(Contract):
    """The scorer's verdict on one transaction, emitted for every input event.

    Version 2 adds what the supervised model saw and said (all optional, so version 1 records
    still decode): the feature vector, the current model's probability and a shadow model's.
    """

    SCHEMA_VERSION = 2

    transaction: Transaction = Field(description="The transaction as received.")
    fraud_score: Score = Field(description="Final blended score in [0, 1].")
    is_alert: bool = Field(description="Whether fraud_score reached the alert threshold.")
    rule_contributions: list[RuleContribution] = Field(
        description="Per-rule scores, weights and explanations (all evaluated rules)."
    )
    ml_score: Score | None = Field(default=None, description="Anomaly score; null if no model.")
    reasons: list[Text] = Field(description="Explanations of the rules that fired, in order.")
    rules_version: int = Field(ge=0, description="Version of the rule set that scored it.")
    model_version: Text | None = Field(
        default=None,
        max_length=64,
        description="Version of the model that scored it (the supervised model when one is "
        "current, else the anomaly model); null if rules only.",
    )
    scored_at: AwareDatetime = Field(description="Wall-clock time the scorer produced this.")
    schema_version: int = Field(
        default=2,
        ge=1,
        description="Version of this contract the producer wrote; consumers accept it and N-1.",
    )
    model_score: Score | None = Field(
        default=None, description="The current supervised model's fraud probability, if any."
    )
    shadow_model_version: Text | None = Field(
        default=None,
        max_length=64,
        description="A candidate model scoring in the shadow (its score never alerts).",
    )
    shadow_score: Score | None = Field(
        default=None, description="The shadow model's fraud probability, if one is scoring."
    )
    feature_set: Text | None = Field(
        default=None,
        max_length=32,
        description="Names the order of ``features`` (e.g. 'sf-2'); null when none are sent.",
    )
    features: list[float] | None = Field(
        default=None,
        max_length=MAX_FEATURES,
        description="The supervised model's input for this transaction, in feature_set order "
        "(sent whenever a supervised model is current or in the shadow).",
    )

    def key(self) -> ScoredTransactionKey:
        """The Kafka key this record is produced with."""
        return ScoredTransactionKey(customer_id=self.transaction.customer_id)
