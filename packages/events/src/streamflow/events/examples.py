"""One valid example event per topic: used in docs, OpenAPI examples, demos and round-trip tests."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from streamflow.events.alerts import FraudAlert, Severity, TriggeredRule, alert_id_for
from streamflow.events.base import Contract
from streamflow.events.dead_letters import DeadLetter, Stage
from streamflow.events.feedback import Feedback, FeedbackSource, Label
from streamflow.events.metrics import WindowMetrics
from streamflow.events.model_releases import ModelRelease, ModelSlot
from streamflow.events.rules import RuleSet
from streamflow.events.scored import RuleContribution, ScoredTransaction
from streamflow.events.topics import Topic
from streamflow.events.transactions import Channel, PaymentMethod, Transaction

_T0 = datetime(2026, 11, 1, 14, 30, tzinfo=UTC)


def transaction(transaction_id: str = "tx-000001", customer_id: str = "C0001") -> Transaction:
    """A typical in-store card payment in Sao Paulo."""
    return Transaction(
        transaction_id=transaction_id,
        event_time=_T0,
        customer_id=customer_id,
        card_id="K0001-1",
        merchant_id="M0042",
        store_id="S0042-01",
        product_id="P0100",
        amount=Decimal("4800.00"),
        currency="BRL",
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel.POS,
        latitude=-23.5505,
        longitude=-46.6333,
        device_id=None,
    )


def scored(transaction_id: str = "tx-000001") -> ScoredTransaction:
    """The example transaction, scored high by FR-001."""
    explanation = "amount R$ 4,800.00 is 9.3x this customer's average of R$ 516.00"
    return ScoredTransaction(
        transaction=transaction(transaction_id),
        fraud_score=0.82,
        is_alert=True,
        rule_contributions=[
            RuleContribution(
                rule_id="FR-001",
                triggered=True,
                score=1.0,
                weight=0.35,
                contribution=0.35,
                explanation=explanation,
            )
        ],
        ml_score=0.71,
        reasons=[explanation],
        rules_version=1,
        model_version="iforest-2026-11-01",
        scored_at=_T0 + timedelta(milliseconds=120),
    )


def alert(transaction_id: str = "tx-000001") -> FraudAlert:
    """The alert raised for the example transaction."""
    return FraudAlert(
        alert_id=alert_id_for(transaction_id, 1),
        transaction_id=transaction_id,
        customer_id="C0001",
        merchant_id="M0042",
        amount=Decimal("4800.00"),
        score=0.82,
        severity=Severity.HIGH,
        triggered_rules=[
            TriggeredRule(
                rule_id="FR-001",
                score=1.0,
                contribution=0.35,
                explanation="amount R$ 4,800.00 is 9.3x this customer's average of R$ 516.00",
            )
        ],
        rules_version=1,
        model_version="iforest-2026-11-01",
        event_time=_T0,
        detected_at=_T0 + timedelta(milliseconds=120),
    )


def feedback(transaction_id: str = "tx-000001") -> Feedback:
    """A chargeback confirming the example transaction was fraud."""
    return Feedback(
        transaction_id=transaction_id,
        customer_id="C0001",
        merchant_id="M0042",
        label=Label.FRAUD,
        source=FeedbackSource.CHARGEBACK,
        reported_at=_T0 + timedelta(days=7),
        card_id="K0001-1",
        note=None,
    )


def rules() -> RuleSet:
    """The default rule set, version 1."""
    return RuleSet(version=1, created_at=_T0)


def window_metrics() -> WindowMetrics:
    """A one-minute window of one store."""
    return WindowMetrics(
        window_start=_T0,
        window_end=_T0 + timedelta(minutes=1),
        window_seconds=60,
        store_id="S0042-01",
        count=3,
        amount_sum=Decimal("5016.00"),
        amount_avg=Decimal("1672.00"),
        fraud_count=1,
    )


def dead_letter() -> DeadLetter:
    """A malformed raw transaction rejected by the scorer."""
    return DeadLetter.from_raw(
        stage=Stage.SCORER,
        source_topic=Topic.TRANSACTIONS_RAW.value,
        source_partition=0,
        source_offset=42,
        raw=b'{"transaction_id": "tx-bad", "amount": "-5"}',
        key=b'{"customer_id":"C0001"}',
        error_type="greater_than",
        error_message="Transaction: amount: Input should be greater than 0",
        failed_at=_T0,
    )


def model_release() -> ModelRelease:
    """A (tiny, not loadable) model file released to the shadow slot."""
    data = b"PK-example-model"
    return ModelRelease(
        model_name="streamflow-fraud-gbdt",
        version="gbdt-20261101-abc123",
        slot=ModelSlot.SHADOW,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        model_base64=base64.b64encode(data).decode("ascii"),
        registry_version="3",
        published_at=_T0,
    )


EXAMPLES: dict[Topic, Contract] = {
    Topic.TRANSACTIONS_RAW: transaction(),
    Topic.TRANSACTIONS_SCORED: scored(),
    Topic.FRAUD_ALERTS: alert(),
    Topic.FRAUD_FEEDBACK: feedback(),
    Topic.FRAUD_RULES: rules(),
    Topic.FRAUD_MODELS: model_release(),
    Topic.METRICS_REALTIME: window_metrics(),
    Topic.DLQ: dead_letter(),
}
"""An example value for every topic."""
