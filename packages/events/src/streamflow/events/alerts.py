"""``fraud.alerts``: a transaction the scorer considers fraudulent, with its explanation."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key
from streamflow.events.types import Identifier, Money, Score, Text

_ALERT_NAMESPACE = uuid.UUID("6f1c1c9e-3f4e-5b8a-9d57-2a4d1e0b7c11")


def alert_id_for(transaction_id: str, rules_version: int) -> str:
    """The deterministic alert id: the same transaction scored by the same rules gives one id.

    Replays and restarts therefore produce duplicates that downstream deduplicates on this id.
    """
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"{transaction_id}|{rules_version}"))


class Severity(StrEnum):
    """Alert severity, derived from the score."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @classmethod
    def from_score(cls, score: float) -> Severity:
        """Map a score in [0, 1] to a severity band."""
        if score >= 0.9:
            return cls.CRITICAL
        if score >= 0.75:
            return cls.HIGH
        if score >= 0.6:
            return cls.MEDIUM
        return cls.LOW


class TriggeredRule(Contract):
    """A rule that fired for the alerted transaction."""

    rule_id: Text = Field(
        min_length=1, max_length=32, description="FR-001 .. FR-005, ML, MERCHANT."
    )
    score: Score = Field(description="The rule's own score in [0, 1].")
    contribution: float = Field(ge=0.0, le=1.0, description="Its share of the final score.")
    explanation: Text = Field(max_length=500, description="A sentence a human understands.")


class FraudAlertKey(Key):
    """Key of ``fraud.alerts``: the alert id, so duplicates land in the same partition."""

    alert_id: Text = Field(min_length=36, max_length=36, description="Deterministic alert id.")


class FraudAlert(Contract):
    """An alert raised for one transaction."""

    alert_id: Text = Field(
        min_length=36, max_length=36, description="uuid5 of transaction_id + rules_version."
    )
    transaction_id: Identifier = Field(description="The alerted transaction.")
    customer_id: Identifier = Field(description="Its customer.")
    merchant_id: Identifier = Field(description="Its merchant.")
    amount: Money = Field(description="Its amount (JSON string).")
    score: Score = Field(description="Final blended score.")
    severity: Severity = Field(description="Band of the score.")
    triggered_rules: list[TriggeredRule] = Field(
        min_length=1, description="Rules that fired, highest contribution first."
    )
    rules_version: int = Field(ge=0, description="Rule set version that scored it.")
    model_version: Text | None = Field(default=None, max_length=64, description="ML model version.")
    event_time: AwareDatetime = Field(description="Event time of the transaction.")
    detected_at: AwareDatetime = Field(description="Wall-clock time the alert was raised.")

    def key(self) -> FraudAlertKey:
        """The Kafka key this alert is produced with."""
        return FraudAlertKey(alert_id=self.alert_id)
