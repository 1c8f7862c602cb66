"""Response and request bodies of the API (the OpenAPI schemas), with examples."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from streamflow.events import AnalystVerdict
from streamflow.events.transactions import DEFAULT_CURRENCY

EXAMPLE_ALERT_ID = "0b8c9a52-4f0e-5d1c-9a3b-7e2f1d6c4a10"
EXAMPLE_ALERT_ID_2 = "5f1d2c3b-8a9e-4b7c-9d1e-2f3a4b5c6d7e"
"""Alert ids of the schema's examples (the schemathesis test lands alerts with them)."""
EXAMPLE_CASE_ID = 5
EXAMPLE_CLOSED_CASE_ID = 6
"""Case ids of the examples: the one the changes go to, the one the close example closes (not
1 or 2, which schemathesis's coverage phase sends as the boundary values of ``case_id``)."""
_ALERT_ID = EXAMPLE_ALERT_ID
TEXT_PATTERN = r"^[^\u0000]*$"
"""Free text: anything but NUL, which PostgreSQL text and jsonb cannot hold."""


_SUMMARY_EXAMPLE: JsonDict = {
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


class AlertStatus(StrEnum):
    """Where an alert stands with the analysts (kept in schema ``app``, not in the event)."""

    NEW = "new"
    CONFIRMED_FRAUD = "confirmed_fraud"
    FALSE_POSITIVE = "false_positive"


class AlertSummary(BaseModel):
    """One alert in a list."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

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
    """The alerted transaction, from the API's projection of scored transactions (ADR 0101)."""

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
    case_id: int | None = Field(default=None, description="The case holding the alert, if any.")


class FeedbackIn(BaseModel):
    """An analyst's verdict on an alert."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"verdict": "confirmed_fraud", "note": "card stolen"}]},
    )

    verdict: AnalystVerdict = Field(description="confirmed_fraud or false_positive.")
    note: str | None = Field(
        default=None, max_length=2000, pattern=TEXT_PATTERN, description="Free text."
    )


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


BULK_MAX = 200
"""Most alerts one bulk verdict may name (the schema states it)."""


class BulkFeedbackIn(BaseModel):
    """One verdict for a selection of alerts; each alert is judged as a single verdict would be."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "alert_ids": [_ALERT_ID, EXAMPLE_ALERT_ID_2],
                    "verdict": "false_positive",
                    "note": "known merchant test charges",
                }
            ]
        },
    )

    alert_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=BULK_MAX,
        description=f"The selection (1 to {BULK_MAX} alert ids; a repeated id counts once).",
    )
    verdict: AnalystVerdict = Field(description="confirmed_fraud or false_positive.")
    note: str | None = Field(
        default=None, max_length=2000, pattern=TEXT_PATTERN, description="Free text, per alert."
    )


class BulkItem(BaseModel):
    """The outcome for one alert of a bulk verdict."""

    alert_id: str
    status: int = Field(description="200 (stored or repeated), 404 (no such alert) or 409.")
    feedback: FeedbackOut | None = Field(description="What was stored, if status is 200.")
    detail: str | None = Field(description="Why not, otherwise.")


class BulkFeedbackOut(BaseModel):
    """Per alert, in the order given; every 200 is committed, every other changed nothing."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stored": 1,
                    "repeated": 0,
                    "refused": 1,
                    "items": [
                        {
                            "alert_id": _ALERT_ID,
                            "status": 200,
                            "feedback": {
                                "alert_id": _ALERT_ID,
                                "status": "false_positive",
                                "label": "legit",
                                "topic": "fraud.feedback",
                                "reported_at": "2026-11-01T14:35:00Z",
                                "repeated": False,
                                "verdict_changes": 0,
                            },
                            "detail": None,
                        },
                        {
                            "alert_id": EXAMPLE_ALERT_ID_2,
                            "status": 404,
                            "feedback": None,
                            "detail": "no alert 5f1d2c3b-8a9e-4b7c-9d1e-2f3a4b5c6d7e",
                        },
                    ],
                }
            ]
        }
    )

    stored: int = Field(description="Alerts whose verdict was stored (a new label queued).")
    repeated: int = Field(description="Alerts that already had this verdict (nothing stored).")
    refused: int = Field(description="Alerts refused (404 or 409).")
    items: list[BulkItem]


class QueueCounts(BaseModel):
    """Alerts per queue (analyst status) under the request's filters.

    With no filter, or only ``severity`` and/or ``rule_id``, the counts are exact (kept per
    status, severity and rule by the database: constant time however many alerts). With any
    other filter (score or time range, merchant, customer) each status is counted up to the
    deployment's cap (``queue_count_cap``, 500 by default): a status listed in ``capped`` has
    more alerts than its count says (the console shows "500+"), and ``exact`` is false.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "counts": {"new": 41, "confirmed_fraud": 7, "false_positive": 12},
                    "total": 60,
                    "exact": True,
                    "capped": [],
                },
                {
                    "counts": {"new": 500, "confirmed_fraud": 212, "false_positive": 430},
                    "total": 1142,
                    "exact": False,
                    "capped": ["new"],
                },
            ]
        }
    )

    counts: dict[AlertStatus, int] = Field(
        description="Every status, zero included; for a status in `capped`, the cap (more "
        "alerts than that match)."
    )
    total: int = Field(description="The sum of `counts` (a lower bound unless `exact`).")
    exact: bool = Field(default=True, description="Every count is exact (no status in `capped`).")
    capped: list[AlertStatus] = Field(
        default_factory=list,
        description="Statuses whose count stopped at the cap: more alerts than the count match.",
    )


SearchField = Literal["transaction_id", "customer_id", "merchant_id"]


class SearchHit(AlertSummary):
    """An alert found by a search, with what matched and where to open it."""

    matched: list[SearchField] = Field(description="The fields equal to the search text.")
    link: str = Field(description="The alert's resource path.")
    case_id: int | None = Field(description="The case holding the alert, if any.")


class SearchResult(BaseModel):
    """Alerts whose transaction, customer or merchant id equals the search text, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "C0001",
                    "items": [
                        {
                            **_SUMMARY_EXAMPLE,
                            "matched": ["customer_id"],
                            "link": f"/v1/alerts/{_ALERT_ID}",
                            "case_id": None,
                        }
                    ],
                    "truncated": False,
                }
            ]
        }
    )

    query: str
    items: list[SearchHit]
    truncated: bool = Field(description="More alerts matched than ``limit``.")


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$"
"""Customer ids, assignees (a login or an e-mail address)."""
CASE_ID_MAX = 2**63 - 1


class CaseState(StrEnum):
    """Where a case stands; the two closed states are final."""

    OPEN = "open"
    IN_REVIEW = "in_review"
    CLOSED_FRAUD = "closed_fraud"
    CLOSED_LEGIT = "closed_legit"


CaseAlertIds = Annotated[
    list[uuid.UUID],
    Field(min_length=1, max_length=BULK_MAX, description=f"1 to {BULK_MAX} alert ids."),
]
Assignee = Annotated[
    str | None,
    Field(min_length=1, max_length=64, pattern=NAME_PATTERN, description="A login or e-mail."),
]
CaseNote = Annotated[
    str | None,
    Field(max_length=2000, pattern=TEXT_PATTERN, description="Free text."),
]


class CaseCreate(BaseModel):
    """A new case of one customer's alerts (none of them in a case yet)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "C0001",
                    "alert_ids": [_ALERT_ID],
                    "assignee": "alice",
                    "note": "three high-value alerts in an hour",
                }
            ]
        },
    )

    customer_id: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    alert_ids: CaseAlertIds
    assignee: Assignee = None
    note: CaseNote = None


class CaseAlertsIn(BaseModel):
    """Alerts to add to an open case (the case's customer's, in no case yet)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"alert_ids": [EXAMPLE_ALERT_ID_2]}]}
    )

    alert_ids: CaseAlertIds


class CaseAssign(BaseModel):
    """Who works the case (null: nobody)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"assignee": "bob"}]})

    assignee: Assignee = None


class CaseStateIn(BaseModel):
    """Move an open case into review or back (closing is ``/close``)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"state": "in_review"}]}
    )

    state: Literal["open", "in_review"]


class CaseClose(BaseModel):
    """Close the case: every alert of it gets the verdict of ``outcome`` (fraud: confirmed_fraud,
    legit: false_positive) through the feedback outbox, in the same transaction."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"outcome": "fraud", "note": "cardholder confirmed"}]},
    )

    outcome: Literal["fraud", "legit"]
    note: CaseNote = None


class CaseEvent(BaseModel):
    """One entry of a case's audit trail (append-only)."""

    event_id: int
    at: datetime
    actor: str = Field(description="Name of the API key that did it.")
    action: Literal["created", "alerts_added", "assigned", "state_changed", "closed"]
    detail: dict[str, Any]


_CASE_EXAMPLE: JsonDict = {
    "case_id": 7,
    "customer_id": "C0001",
    "assignee": "alice",
    "state": "open",
    "created_at": "2026-11-01T14:40:00Z",
    "created_by": "analyst",
    "updated_at": "2026-11-01T14:40:00Z",
    "closed_at": None,
    "age_seconds": 3600.0,
    "alert_count": 3,
}


class CaseSummary(BaseModel):
    """A case in a list."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CASE_EXAMPLE]})

    case_id: int
    customer_id: str
    assignee: str | None
    state: CaseState
    created_at: datetime
    created_by: str = Field(description="Name of the API key that opened it.")
    updated_at: datetime
    closed_at: datetime | None
    age_seconds: float = Field(description="Since it was opened (until it was closed).")
    alert_count: int


class CaseDetail(CaseSummary):
    """A case with its alerts and its audit trail."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_CASE_EXAMPLE,
                    "alerts": [_SUMMARY_EXAMPLE],
                    "events": [
                        {
                            "event_id": 1,
                            "at": "2026-11-01T14:40:00Z",
                            "actor": "analyst",
                            "action": "created",
                            "detail": {"alert_ids": [_ALERT_ID], "assignee": "alice"},
                        }
                    ],
                }
            ]
        }
    )

    alerts: list[AlertSummary] = Field(description="Newest first.")
    events: list[CaseEvent] = Field(description="Oldest first.")


class CasePage(BaseModel):
    """A page of cases, newest first; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[CaseSummary]
    next_cursor: str | None
    limit: int


EXAMPLE_TXN_ID = "tx-000001"
TIMELINE_MAX = 200
"""Most transactions one timeline page returns (the schema states it)."""
TIMELINE_CURSOR_PATTERN = r"^[0-9]{1,16}_[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
"""A timeline cursor: the last row's event time (microseconds since the epoch) and its id."""
TIMELINE_CURSOR_MAX_LENGTH = 16 + 1 + 64


class Location(BaseModel):
    """Where a payment happened."""

    latitude: float
    longitude: float


class TimelineAlert(BaseModel):
    """An alert raised on a timeline transaction, with where the analysts stand on it."""

    alert_id: str
    severity: str = Field(description="low, medium, high or critical.")
    score: float
    status: AlertStatus = Field(description="Analyst status (new until a verdict).")
    verdict: AnalystVerdict | None = Field(description="The analyst verdict, null while new.")
    verdict_at: datetime | None = Field(description="When the verdict was given.")
    case_id: int | None = Field(description="The case holding the alert, if any.")


class Hop(BaseModel):
    """From the previous located transaction of the customer to this one (no map needed)."""

    from_transaction_id: str
    to_transaction_id: str
    km: float = Field(ge=0, description="Great-circle distance in km.")
    hours: float = Field(ge=0, description="Hours between the two event times.")
    km_per_hour: float | None = Field(description="km / hours; null when no time passed.")


class TimelineItem(BaseModel):
    """One of the customer's transactions with its scoring and its alerts."""

    transaction_id: str
    card_id: str | None
    merchant_id: str
    store_id: str | None
    amount: str | None = Field(description="Decimal string.")
    currency: str | None
    channel: str | None
    payment_method: str | None
    event_time: datetime
    fraud_score: float = Field(ge=0, le=1)
    is_alert: bool
    rule_ids: list[str] = Field(description="Rules that fired.")
    rules_version: int
    model_version: str | None
    scored_at: datetime
    location: Location | None = Field(description="Null when the payment carried none.")
    amount_to_mean: float | None = Field(
        description="amount / the mean amount of the returned window (null without amounts)."
    )
    from_previous: Hop | None = Field(
        description="Distance and time from the previous located transaction (null if none)."
    )
    alerts: list[TimelineAlert]


class PriorVerdict(BaseModel):
    """A verdict analysts gave on one of the customer's alerts."""

    alert_id: str
    transaction_id: str
    verdict: AnalystVerdict
    at: datetime | None


class TimelineWindow(BaseModel):
    """The returned window's amounts (the ratios' base)."""

    transactions: int
    mean_amount: str | None = Field(description="Mean amount of the window, 2 decimals.")
    first_event_time: datetime | None
    last_event_time: datetime | None


class Freshness(BaseModel):
    """How current the data is: the projection is written in the bronze insert's transaction."""

    source: Literal["app.scored_transactions"]
    behind_bronze_seconds: float = Field(
        description="0: a scored record is projected in the same transaction that lands it."
    )
    latest_landed_at: datetime | None = Field(
        description="When the newest returned scoring landed in bronze."
    )
    as_of: datetime = Field(description="When this answer was read.")
    retention_days: float = Field(description="Older transactions are pruned from the projection.")


_TIMELINE_ITEM_EXAMPLE: JsonDict = {
    "transaction_id": EXAMPLE_TXN_ID,
    "card_id": "K0001-1",
    "merchant_id": "M0042",
    "store_id": "S0042-01",
    "amount": "4800.00",
    "currency": DEFAULT_CURRENCY,
    "channel": "pos",
    "payment_method": "credit_card",
    "event_time": "2026-11-01T14:30:00Z",
    "fraud_score": 0.82,
    "is_alert": True,
    "rule_ids": ["FR-001"],
    "rules_version": 1,
    "model_version": "iforest-2026-11-01",
    "scored_at": "2026-11-01T14:30:00.120000Z",
    "location": {"latitude": -23.5505, "longitude": -46.6333},
    "amount_to_mean": 3.2,
    "from_previous": {
        "from_transaction_id": "tx-000000",
        "to_transaction_id": EXAMPLE_TXN_ID,
        "km": 357.4,
        "hours": 0.5,
        "km_per_hour": 714.8,
    },
    "alerts": [
        {
            "alert_id": _ALERT_ID,
            "severity": "high",
            "score": 0.82,
            "status": "confirmed_fraud",
            "verdict": "confirmed_fraud",
            "verdict_at": "2026-11-01T14:35:00Z",
            "case_id": None,
        }
    ],
}


class Timeline(BaseModel):
    """A customer's recent transactions, newest first; ``next_cursor`` pages to older ones."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "C0001",
                    "items": [_TIMELINE_ITEM_EXAMPLE],
                    "window": {
                        "transactions": 1,
                        "mean_amount": "1500.00",
                        "first_event_time": "2026-11-01T14:30:00Z",
                        "last_event_time": "2026-11-01T14:30:00Z",
                    },
                    "distances": [_TIMELINE_ITEM_EXAMPLE["from_previous"]],
                    "prior_verdicts": [
                        {
                            "alert_id": _ALERT_ID,
                            "transaction_id": EXAMPLE_TXN_ID,
                            "verdict": "confirmed_fraud",
                            "at": "2026-11-01T14:35:00Z",
                        }
                    ],
                    "freshness": {
                        "source": "app.scored_transactions",
                        "behind_bronze_seconds": 0.0,
                        "latest_landed_at": "2026-11-01T14:30:00.300000Z",
                        "as_of": "2026-11-01T14:40:00Z",
                        "retention_days": 90.0,
                    },
                    "next_cursor": None,
                    "limit": 50,
                }
            ]
        }
    )

    customer_id: str
    items: list[TimelineItem] = Field(description="Newest first (event time, then id).")
    window: TimelineWindow
    distances: list[Hop] = Field(
        description="Each located transaction's hop from the previous located one, newest first."
    )
    prior_verdicts: list[PriorVerdict] = Field(
        description="The latest verdicts on the customer's alerts (at most 20), newest first."
    )
    freshness: Freshness
    next_cursor: str | None = Field(description="Cursor of the next (older) page; null at the end.")
    limit: int
