"""Response and request bodies of the API (the OpenAPI schemas), with examples."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from streamflow.events import AnalystVerdict

_ALERT_ID = "0b8c9a52-4f0e-5d1c-9a3b-7e2f1d6c4a10"


class AlertStatus(StrEnum):
    """Where an alert stands with the analysts (kept in schema ``app``, not in the event)."""

    NEW = "new"
    CONFIRMED_FRAUD = "confirmed_fraud"
    FALSE_POSITIVE = "false_positive"


class AlertSummary(BaseModel):
    """One alert in a list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "alert_id": _ALERT_ID,
                    "transaction_id": "tx-000001",
                    "customer_id": "C0001",
                    "merchant_id": "M0042",
                    "amount": "4800.00",
                    "score": 0.82,
                    "severity": "high",
                    "status": "new",
                    "rule_ids": ["FR-001"],
                    "rules_version": 1,
                    "event_time": "2026-11-01T14:30:00Z",
                    "detected_at": "2026-11-01T14:30:00.150000Z",
                }
            ]
        }
    )

    alert_id: str = Field(description="Deterministic alert id (uuid).")
    transaction_id: str = Field(description="The alerted transaction.")
    customer_id: str = Field(description="Its customer.")
    merchant_id: str = Field(description="Its merchant.")
    amount: str | None = Field(description="Amount as a decimal string.")
    score: float = Field(ge=0, le=1, description="Final blended score.")
    severity: str = Field(description="low, medium, high or critical.")
    status: AlertStatus = Field(description="Analyst status.")
    rule_ids: list[str] = Field(description="Rules that fired.")
    rules_version: int = Field(description="Rule set version that scored it.")
    event_time: datetime = Field(description="Event time of the transaction.")
    detected_at: datetime = Field(description="When the alert was raised.")


class AlertPage(BaseModel):
    """A page of alerts; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[AlertSummary] = Field(description="The alerts, in the requested order.")
    next_cursor: str | None = Field(description="Opaque cursor of the next page; null at the end.")
    limit: int = Field(description="Page size used.")


class Explanation(BaseModel):
    """Why one rule fired."""

    rule_id: str = Field(description="FR-001 .. FR-005, ML, MERCHANT.")
    score: float = Field(description="The rule's own score in [0, 1].")
    contribution: float = Field(description="Its share of the final score.")
    explanation: str = Field(description="A sentence a human understands.")


class TransactionView(BaseModel):
    """The alerted transaction, as landed in bronze."""

    transaction_id: str
    customer_id: str
    card_id: str
    merchant_id: str
    store_id: str
    amount: str = Field(description="Decimal string.")
    currency: str
    event_time: datetime
    payment_method: str | None = None
    channel: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class Note(BaseModel):
    """An analyst's verdict and note on an alert."""

    verdict: AnalystVerdict | None
    previous_verdict: AnalystVerdict | None = Field(
        default=None, description="The verdict this one replaced (a re-label), if any."
    )
    note: str | None
    key_name: str | None = Field(description="Name of the API key that wrote it.")
    created_at: datetime


class AlertDetail(AlertSummary):
    """One alert with its explanations, its transaction and the analysts' notes."""

    model_version: str | None = Field(description="ML model version, if any.")
    explanations: list[Explanation] = Field(description="Per rule, highest contribution first.")
    transaction: TransactionView | None = Field(description="Null if not landed (yet).")
    notes: list[Note] = Field(description="Oldest first.")
    status_updated_at: datetime | None = Field(description="When the status last changed.")


class FeedbackIn(BaseModel):
    """An analyst's verdict on an alert."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"verdict": "confirmed_fraud", "note": "card stolen"}]},
    )

    verdict: AnalystVerdict = Field(description="confirmed_fraud or false_positive.")
    note: str | None = Field(default=None, max_length=2000, description="Free text.")


class FeedbackOut(BaseModel):
    """What was stored; the label is published by the outbox relay after the commit."""

    alert_id: str
    status: AlertStatus
    label: Literal["fraud", "legit"] = Field(description="Label of this verdict.")
    topic: str = Field(description="Topic the label is published to (after the commit).")
    reported_at: datetime = Field(description="When the alert's current verdict was recorded.")
    repeated: bool = Field(
        default=False,
        description="The alert already had this verdict: nothing was stored, no new label.",
    )
    verdict_changes: int = Field(
        default=0, description="How often the alert's verdict has been changed (limited)."
    )


class CustomerProfile(BaseModel):
    """Reference data of a customer (absent if the generator did not seed it)."""

    name: str
    home_city: str
    home_state: str
    spending_profile: str


class CustomerStats(BaseModel):
    """Alert and transaction statistics of a customer."""

    alert_count: int
    open_alerts: int
    confirmed_fraud: int
    false_positive: int
    max_score: float | None
    avg_score: float | None
    last_alert_at: datetime | None
    transaction_count: int
    transaction_amount: str = Field(description="Sum of landed transaction amounts (decimal).")


class CustomerRisk(BaseModel):
    """A customer's risk picture."""

    customer_id: str
    profile: CustomerProfile | None
    statistics: CustomerStats
    recent_alerts: list[AlertSummary] = Field(description="Newest first, at most 10.")


class HourCount(BaseModel):
    """Alerts detected in one hour."""

    hour: datetime
    alerts: int


class RuleCount(BaseModel):
    """How often a rule fired."""

    rule_id: str
    alerts: int


class FeedbackStats(BaseModel):
    """Analyst verdicts and the precision they imply."""

    confirmed_fraud: int
    false_positive: int
    precision: float | None = Field(description="confirmed / (confirmed + false positives).")


class Stats(BaseModel):
    """Alert statistics over the last ``hours`` hours."""

    since: datetime
    total_alerts: int
    alerts_per_hour: list[HourCount]
    top_rules: list[RuleCount]
    feedback: FeedbackStats


class MetricsWindow(BaseModel):
    """All stores' transactions in one event-time window."""

    window_start: datetime
    window_end: datetime
    stores: int
    txn_count: int
    amount_sum: str = Field(description="Decimal string.")
    fraud_count: int


class RealtimeMetrics(BaseModel):
    """The latest windows of the real-time aggregates, newest first."""

    window_seconds: int
    windows: list[MetricsWindow]


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok"]
