"""Merchant risk: decayed feedback weights, order independence, serialisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streamflow.events import Feedback, FeedbackSource, Label
from streamflow.scoring.customer_state import StateFormatError
from streamflow.scoring.merchant_risk import (
    LABEL_HORIZON_HALF_LIVES,
    MAX_LABELS,
    NO_FACT,
    PRIOR_WEIGHT,
    MerchantLabels,
    MerchantRisk,
    apply_feedback,
    apply_label,
    feedback_fact,
    label_fact,
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


DAY = 86_400.0
HALF_LIFE = 30.0


def sequential_risk(labels: list[tuple[float, bool]], when: float) -> float:
    """The backtest's rule: fold, in report order, every label reported up to ``when``."""
    risk = None
    for at, fraud in sorted(labels, key=lambda label: label[0]):
        if at <= when:
            risk = apply_label(risk, fraud, at, HALF_LIFE)
    return risk_value(risk, when, HALF_LIFE)


def test_labels_give_the_risk_as_of_any_time_whatever_the_arrival_order() -> None:
    t0 = T0.timestamp()
    labels = [(t0 + d * DAY, d % 3 != 0) for d in (5, 1, 9, 3, 7, 2)]
    in_order, reversed_order = MerchantLabels.empty(), MerchantLabels.empty()
    for at, fraud in sorted(labels):
        in_order.add(at, fraud, HALF_LIFE)
    for at, fraud in reversed(labels):
        reversed_order.add(at, fraud, HALF_LIFE)
    for day in (0, 1, 2.5, 5, 8, 20):
        when = t0 + day * DAY
        expected = sequential_risk(labels, when)
        assert in_order.risk_at(when, HALF_LIFE) == pytest.approx(expected, abs=1e-12)
        assert reversed_order.risk_at(when, HALF_LIFE) == pytest.approx(expected, abs=1e-12)
    assert in_order.risk_at(t0, HALF_LIFE) == 0.0
    # A different half-life (a rule update) recomputes the cached prefix.
    assert in_order.risk_at(t0 + 20 * DAY, 1.0) < in_order.risk_at(t0 + 20 * DAY, HALF_LIFE)


def test_labels_round_trip_and_read_the_old_format() -> None:
    labels = MerchantLabels.empty()
    labels.add(T0.timestamp(), True, HALF_LIFE)
    labels.add(T0.timestamp() + DAY, False, HALF_LIFE)
    again = MerchantLabels.from_bytes(labels.to_bytes())
    assert (again.base, again.whens, again.frauds) == (None, labels.whens, labels.frauds)
    assert again.facts == labels.facts == [NO_FACT, NO_FACT]
    old = MerchantRisk(2.0, 1.0, T0.timestamp())
    upgraded = MerchantLabels.from_bytes(old.to_bytes())
    assert (upgraded.base, upgraded.whens) == (old, [])
    assert upgraded.risk_at(T0.timestamp(), HALF_LIFE) == risk_value(old, T0.timestamp(), HALF_LIFE)
    with pytest.raises(StateFormatError):
        MerchantLabels.from_bytes(b"\x07")
    with pytest.raises(StateFormatError):
        MerchantLabels.from_bytes(labels.to_bytes()[:-1])


def test_old_labels_are_folded_into_the_base() -> None:
    labels = MerchantLabels.empty()
    t0 = T0.timestamp()
    labels.add(t0, True, HALF_LIFE)
    labels.add(t0 + (LABEL_HORIZON_HALF_LIVES + 1) * HALF_LIFE * DAY, True, HALF_LIFE)
    assert len(labels.whens) == 1
    assert labels.base == apply_label(None, True, t0, HALF_LIFE)
    again = MerchantLabels.from_bytes(labels.to_bytes())
    assert again.base == labels.base
    many = MerchantLabels.empty()
    for i in range(MAX_LABELS + 5):
        many.add(t0 + i, True, HALF_LIFE)
    assert len(many.whens) == MAX_LABELS
    assert many.base is not None


def _analyst(transaction_id: str, label: Label, when: datetime) -> Feedback:
    return Feedback(
        transaction_id=transaction_id,
        customer_id="C1",
        merchant_id="M1",
        label=label,
        source=FeedbackSource.ANALYST,
        reported_at=when,
    )


def test_a_repeated_label_counts_once() -> None:
    """The outbox relay killed between publishing and marking sent publishes a label twice:
    the merchant state counts it once (docs/adr/0057)."""
    once, twice = MerchantLabels.empty(), MerchantLabels.empty()
    label = _analyst("tx-1", Label.FRAUD, T0)
    once.add_feedback(label, HALF_LIFE)
    for _ in range(2):
        twice.add_feedback(label, HALF_LIFE)
    assert twice.whens == once.whens == [T0.timestamp()]
    assert twice.risk_at(T0.timestamp(), HALF_LIFE) == once.risk_at(T0.timestamp(), HALF_LIFE)
    assert once.risk_at(T0.timestamp(), HALF_LIFE) == pytest.approx(1 / (1 + PRIOR_WEIGHT))
    # the same transaction from another source is another fact; another transaction too
    twice.add_feedback(feedback(Label.FRAUD, T0), HALF_LIFE)  # chargeback of t1
    twice.add_feedback(_analyst("tx-2", Label.FRAUD, T0), HALF_LIFE)
    assert len(twice.whens) == 3
    again = MerchantLabels.from_bytes(twice.to_bytes())
    again.add_feedback(label, HALF_LIFE)  # after a restore from a checkpoint, still once
    kept = sorted(zip(twice.whens, twice.frauds, twice.facts, strict=True))
    assert sorted(zip(again.whens, again.frauds, again.facts, strict=True)) == kept
    assert again.risk_at(T0.timestamp(), HALF_LIFE) == twice.risk_at(T0.timestamp(), HALF_LIFE)


def test_a_changed_verdict_replaces_the_label_and_the_later_report_wins() -> None:
    labels = MerchantLabels.empty()
    fraud_at, legit_at = T0, T0 + timedelta(hours=2)
    labels.add_feedback(_analyst("tx-1", Label.FRAUD, fraud_at), HALF_LIFE)
    labels.add_feedback(_analyst("tx-1", Label.LEGIT, legit_at), HALF_LIFE)
    assert (labels.whens, labels.frauds) == ([legit_at.timestamp()], [False])
    # an older report of the same fact arriving late (a stale re-publish) changes nothing
    labels.add_feedback(_analyst("tx-1", Label.FRAUD, fraud_at), HALF_LIFE)
    assert (labels.whens, labels.frauds) == ([legit_at.timestamp()], [False])
    assert labels.risk_at(legit_at.timestamp() + DAY, HALF_LIFE) == 0.0


def test_fact_ids_are_stable_and_distinct() -> None:
    chargeback = feedback(Label.FRAUD, T0)
    assert feedback_fact(chargeback) == label_fact("t1", "chargeback") != NO_FACT
    assert label_fact("t1", "chargeback") != label_fact("t1", "analyst")
    assert label_fact("t1", "chargeback") != label_fact("t2", "chargeback")


def test_format_2_labels_are_read_without_fact_ids() -> None:
    import struct

    t0 = T0.timestamp()
    v2 = struct.pack("<BBdddI", 2, 0, 0.0, 0.0, 0.0, 2) + b"".join(
        struct.pack("<dB", at, fraud) for at, fraud in ((t0, 1), (t0 + DAY, 0))
    )
    labels = MerchantLabels.from_bytes(v2)
    assert (labels.whens, labels.frauds, labels.facts) == (
        [t0, t0 + DAY],
        [True, False],
        [NO_FACT, NO_FACT],
    )
    # unknown identities are never matched: a new label adds
    labels.add(t0 + 2 * DAY, True, HALF_LIFE)
    assert len(labels.whens) == 3
    with pytest.raises(StateFormatError):
        MerchantLabels.from_bytes(v2[:-1])
