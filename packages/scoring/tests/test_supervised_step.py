"""The scoring step with supervised models: blend, reasons, shadow, and model releases."""

from __future__ import annotations

import base64
import hashlib
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from streamflow.events import (
    Channel,
    ContractError,
    Feedback,
    FeedbackSource,
    Label,
    ModelSlot,
    PaymentMethod,
    Transaction,
    encode,
)
from streamflow.scoring.context import ContextStore
from streamflow.scoring.core import Supervised, default_rules, score_transaction
from streamflow.scoring.gbdt import stump
from streamflow.scoring.merchant_risk import MerchantLabels, label_context
from streamflow.scoring.model_release import ModelRejected, load_release, release_of
from streamflow.scoring.supervised_features import FEATURE_SET, SUPERVISED_FEATURE_NAMES

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
HIGH = math.log1p(1_000.0)


def _txn(tid: str, amount: str, when: datetime = T0, customer: str = "C1") -> Transaction:
    return Transaction(
        transaction_id=tid,
        event_time=when,
        customer_id=customer,
        card_id="K1",
        merchant_id="M1",
        store_id="S1",
        amount=Decimal(amount),
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel.ONLINE,
    )


def test_a_current_model_alerts_with_its_reasons_and_replaces_the_anomaly_part() -> None:
    rules = default_rules(None)
    current = stump("gbdt-1", "log_amount", HIGH)
    _, scored, alert = score_transaction(
        None, _txn("t1", "2500.00"), rules, 0.0, None, T0, Supervised(current=current)
    )
    assert scored.model_version == "gbdt-1"
    assert scored.model_score == pytest.approx(0.982, 1e-3)
    assert scored.ml_score is None
    assert scored.feature_set == FEATURE_SET
    assert scored.features is not None
    assert len(scored.features) == len(SUPERVISED_FEATURE_NAMES)
    assert alert is not None
    assert alert.model_version == "gbdt-1"
    model_rule = next(r for r in alert.triggered_rules if r.rule_id == "MODEL")
    assert model_rule.explanation.startswith("model gbdt-1 gives a fraud probability of 0.98: ")
    assert "amount 2,500.00" in model_rule.explanation
    # a small payment: the model says no, nothing alerts
    _, quiet, none = score_transaction(
        None, _txn("t2", "20.00"), rules, 0.0, None, T0, Supervised(current=current)
    )
    assert none is None
    assert quiet.model_score is not None
    assert quiet.model_score < 0.05


def test_a_shadow_model_is_recorded_and_never_changes_the_verdict() -> None:
    rules = default_rules(None)
    txn = _txn("t1", "2500.00")
    _, plain, plain_alert = score_transaction(None, txn, rules, 0.0, None, T0)
    shadow = stump("gbdt-2", "log_amount", HIGH)
    _, shadowed, alert = score_transaction(
        None, txn, rules, 0.0, None, T0, Supervised(shadow=shadow)
    )
    assert (shadowed.fraud_score, shadowed.is_alert) == (plain.fraud_score, plain.is_alert)
    assert alert == plain_alert
    assert shadowed.shadow_model_version == "gbdt-2"
    assert shadowed.shadow_score is not None
    assert shadowed.model_version is None
    assert shadowed.model_score is None


def test_the_job_labels_give_the_lab_context() -> None:
    """MerchantLabels (the job's broadcast state) and ContextStore (the lab) agree."""
    lab = ContextStore()
    merchant, card = MerchantLabels.empty(), MerchantLabels.empty()
    day = 86_400.0
    for i, (when, fraud) in enumerate([(1.0, True), (5.0, False), (8.0, True), (9.0, True)]):
        if fraud:
            lab.report_fraud("M1", "K1", when * day)
        merchant.add(when * day, fraud, 7.0, fact=i + 1)
        card.add(when * day, fraud, 7.0, fact=i + 1)
    for at in (0.5, 4.0, 8.5, 9.5, 40.0):
        assert label_context(merchant, card, at * day) == lab.labels_at("M1", "K1", at * day) or (
            math.isnan(lab.labels_at("M1", "K1", at * day).card_last_fraud)
            and label_context(merchant, card, at * day).card_frauds == 0
        )
    # a later verdict on the same fact replaces it: a fraud turned legit no longer counts
    merchant.add(9.0 * day + 1, False, 7.0, fact=4)
    assert label_context(merchant, None, 9.5 * day).merchant_frauds == (0, 1, 2)


def test_feedback_of_version_1_still_decodes_and_version_2_carries_the_card() -> None:
    v2 = Feedback(
        transaction_id="t1",
        customer_id="C1",
        merchant_id="M1",
        card_id="K1",
        label=Label.FRAUD,
        source=FeedbackSource.ANALYST,
        reported_at=T0,
    )
    from streamflow.events import decode

    assert decode(Feedback, encode(v2)).card_id == "K1"
    v1 = encode(v2).decode().replace('"schema_version":2', '"schema_version":1')
    v1 = v1.replace(',"card_id":"K1"', "")
    assert decode(Feedback, v1).card_id is None


def test_releases_round_trip_and_every_lie_is_refused() -> None:
    model = stump("gbdt-3", "log_amount", HIGH)
    release = release_of(model, model_name="m", slot=ModelSlot.SHADOW, published_at=T0)
    loaded = load_release(encode(release))
    assert loaded.model.version == "gbdt-3"
    assert loaded.release.slot is ModelSlot.SHADOW
    data = base64.b64decode(release.model_base64)
    cases: dict[str, dict[str, object]] = {
        "model_checksum_mismatch": {"sha256": "0" * 64},
        "model_size_mismatch": {"size_bytes": len(data) + 1},
        "model_unsupported_kind": {"kind": "xgboost"},
        "model_version_mismatch": {"version": "gbdt-other"},
        "model_bad_encoding": {"model_base64": "!!!!"},
        "model_unreadable": {
            "model_base64": base64.b64encode(b"junk").decode(),
            "size_bytes": 4,
            "sha256": hashlib.sha256(b"junk").hexdigest(),
        },
    }
    for error_type, update in cases.items():
        with pytest.raises(ModelRejected) as caught:
            load_release(encode(release.model_copy(update=update)))
        assert caught.value.error_type == error_type, caught.value.reason
    with pytest.raises(ContractError):
        load_release(b'{"model_name": "m"}')


def test_spending_windows_reach_the_features() -> None:
    rules = default_rules(None)
    state = None
    for i in range(10):
        state, _, _ = score_transaction(
            state, _txn(f"h{i}", "100.00", T0 + timedelta(hours=i)), rules, 0.0, None, T0
        )
    shadow = stump("gbdt-4", "log_ratio_to_mean_30d", math.log(3.0))
    _, scored, _ = score_transaction(
        state,
        _txn("big", "500.00", T0 + timedelta(hours=11)),
        rules,
        0.0,
        None,
        T0,
        Supervised(shadow=shadow),
    )
    assert scored.features is not None
    values = dict(zip(SUPERVISED_FEATURE_NAMES, scored.features, strict=True))
    assert math.exp(values["log_ratio_to_mean_30d"]) == pytest.approx(5.0, rel=0.01)
    assert scored.shadow_score is not None
    assert scored.shadow_score > 0.9
