"""Merchant risk: decayed feedback weights, order independence, serialisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streamflow.events import Feedback, FeedbackSource, Label
from streamflow.scorer.customer_state import StateFormatError
from streamflow.scorer.merchant_risk import (
    PRIOR_WEIGHT,
    MerchantRisk,
    apply_feedback,
    apply_label,
    risk_at,
    risk_value,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def feedback(label: Label, when: datetime) -> Feedback:
    return Feedback(
        transaction_id="t1",
        customer_id="C1",
        merchant_id="M1",
        label=label,
        source=FeedbackSource.CHARGEBACK,
        reported_at=when,
    )


def test_no_feedback_means_no_risk() -> None:
    assert risk_at(None, T0, 7.0) == 0.0
    legit_only = apply_feedback(None, feedback(Label.LEGIT, T0), 7.0)
    assert risk_at(legit_only, T0, 7.0) == 0.0


def test_fraud_feedback_raises_risk_and_decays_with_half_life() -> None:
    risk = None
    for _ in range(3):
        risk = apply_feedback(risk, feedback(Label.FRAUD, T0), 7.0)
    now = risk_at(risk, T0, 7.0)
    assert now == pytest.approx(3 / (3 + PRIOR_WEIGHT))
    later = risk_at(risk, T0 + timedelta(days=7), 7.0)
    assert later == pytest.approx(1.5 / (1.5 + PRIOR_WEIGHT))
    assert risk_at(risk, T0 - timedelta(days=1), 7.0) == pytest.approx(now)


def test_order_of_feedback_does_not_matter() -> None:
    times = [0.0, 86_400.0 * 3, 86_400.0]
    labels = [True, False, True]
    forward = None
    for when, fraud in zip(times, labels, strict=True):
        forward = apply_label(forward, fraud, when, 7.0)
    backward = None
    for when, fraud in reversed(list(zip(times, labels, strict=True))):
        backward = apply_label(backward, fraud, when, 7.0)
    assert forward is not None
    assert backward is not None
    at = 86_400.0 * 5
    assert risk_value(forward, at, 7.0) == pytest.approx(risk_value(backward, at, 7.0))


def test_bytes_round_trip() -> None:
    risk = MerchantRisk(1.5, 20.0, 1234.0)
    assert MerchantRisk.from_bytes(risk.to_bytes()) == risk
    with pytest.raises(StateFormatError):
        MerchantRisk.from_bytes(b"\x00" * 5)
