"""The merchant's traffic features: day buckets, order independence, the share features, and old
models binding to the longer feature vector by name."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from streamflow.events import Channel, PaymentMethod, Transaction
from streamflow.scoring.context import (
    DAY_SECONDS,
    NO_LABELS,
    NO_TRAFFIC,
    TRAFFIC_DAYS,
    ContextStore,
    LabelContext,
    MerchantTraffic,
)
from streamflow.scoring.gbdt import GbdtModel, bind, stump
from streamflow.scoring.merchant_risk import label_context
from streamflow.scoring.supervised_features import (
    SUPERVISED_FEATURE_NAMES,
    context_vector,
    describe,
)
from streamflow.scoring.trees import ModelFormatError, TreeArrays
from streamflow.scoring.view import make_view

DAY = float(DAY_SECONDS)
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _txn(tid: str, amount: str) -> Transaction:
    return Transaction(
        transaction_id=tid,
        event_time=T0,
        customer_id="C1",
        card_id="K1",
        merchant_id="M1",
        store_id="S1",
        amount=Decimal(amount),
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel.ONLINE,
    )


BASE = 20_000 * DAY  # a midnight


def test_payments_count_by_whole_days_before_the_event() -> None:
    traffic = MerchantTraffic()
    for day in range(40):  # day d has d payments
        for k in range(day):
            traffic.add(BASE + day * DAY + k * 60.0)
    today = BASE + 40 * DAY + 5.0
    assert traffic.before(today) == (39, sum(range(33, 40)), sum(range(10, 40)))
    # the current day never counts, however many payments it has had
    for k in range(50):
        traffic.add(today + k)
    assert traffic.before(today + 3_600.0) == (39, sum(range(33, 40)), sum(range(10, 40)))
    assert traffic.before(BASE + 41 * DAY) == (50, 50 + sum(range(34, 40)), 50 + sum(range(11, 40)))


def test_the_count_does_not_depend_on_arrival_order() -> None:
    rng = random.Random(3)
    times = [BASE + rng.random() * 35 * DAY for _ in range(2_000)]
    ordered, shuffled = MerchantTraffic(), MerchantTraffic()
    for when in sorted(times):
        ordered.add(when)
    rng.shuffle(times)
    for when in times:
        shuffled.add(when)
    for day in range(30, 37):
        assert ordered.before(BASE + day * DAY) == shuffled.before(BASE + day * DAY)


def test_a_day_older_than_its_slot_is_dropped() -> None:
    traffic = MerchantTraffic()
    traffic.add(BASE + TRAFFIC_DAYS * DAY)  # takes slot 0 for a later day
    traffic.add(BASE)  # same slot, older day: too old to matter
    assert traffic.before(BASE + (TRAFFIC_DAYS + 1) * DAY) == (1, 1, 1)
    assert traffic.before(BASE + DAY) == (0, 0, 0)


def test_the_store_and_the_job_give_the_same_context() -> None:
    ctx = ContextStore()
    for day in range(10):
        ctx.record_payment("M1", BASE + day * DAY + 100.0)
        ctx.record_payment("M1", BASE + day * DAY + 200.0)
    ctx.report_fraud("M1", "K1", BASE + 9 * DAY)
    when = BASE + 10 * DAY + 50.0
    lab = ctx.labels_at("M1", "K1", when)
    assert lab.merchant_payments == (2, 14, 20)
    assert ctx.labels_at("M2", "K2", when).merchant_payments == NO_TRAFFIC
    job = label_context(None, None, when, lab.merchant_payments)
    assert job.merchant_payments == lab.merchant_payments
    assert label_context(None, None, when) is NO_LABELS  # nothing known: the shared constant


def test_traffic_and_share_reach_the_vector_with_sentences() -> None:
    labels = LabelContext((1, 2, 3), 0, math.nan, (10, 40, 0))
    view = make_view(_txn("t1", "50.00"))
    tail = context_vector(None, labels, view)[-12:]
    values = dict(zip(SUPERVISED_FEATURE_NAMES[-12:], tail, strict=True))
    assert values["merchant_log_payments_7d"] == pytest.approx(math.log1p(40))
    assert values["merchant_fraud_share_1d"] == pytest.approx(0.1)
    assert values["merchant_fraud_share_7d"] == pytest.approx(0.05)
    assert values["merchant_fraud_share_30d"] == 0.0  # no traffic: no share
    assert describe("merchant_log_payments_7d", math.log1p(40)) == (
        "40 payments at this merchant in the 7 days before today"
    )
    assert describe("merchant_fraud_share_7d", 0.05) == (
        "frauds confirmed at this merchant in the last 7 days are 5.0% of its payments"
    )


def _old_model(names: list[str], split_on: str) -> tuple[TreeArrays, dict[str, object]]:
    arrays = TreeArrays(
        feature=np.array([names.index(split_on), -1, -1], dtype=np.int32),
        threshold=np.array([math.log1p(1_000.0), 0.0, 0.0]),
        left=np.array([1, -1, -1], dtype=np.int32),
        right=np.array([2, -1, -1], dtype=np.int32),
        value=np.array([0.0, -4.0, 4.0]),
        roots=np.array([0], dtype=np.int32),
    )
    return arrays, {"version": "old", "platt_a": 1.0, "platt_b": 0.0, "feature_names": names}


def test_a_model_on_fewer_or_reordered_features_binds_by_name() -> None:
    names = list(reversed(SUPERVISED_FEATURE_NAMES[:27]))  # an older set, another order
    model = bind(*_old_model(names, "log_amount"), "old")
    assert model.meta["feature_names"] == list(SUPERVISED_FEATURE_NAMES)
    same = stump("new", "log_amount", math.log1p(1_000.0))
    for amount in (10.0, 5_000.0):
        x = [0.0] * len(SUPERVISED_FEATURE_NAMES)
        x[SUPERVISED_FEATURE_NAMES.index("log_amount")] = math.log1p(amount)
        assert model.score(x) == same.score(x)
    again = bind(model.arrays, model.meta, "again")  # a bound model saves and loads as itself
    assert isinstance(again, GbdtModel)
    assert (again.arrays.feature == model.arrays.feature).all()


@pytest.mark.parametrize(
    "names",
    [["x", "log_amount"], ["log_amount", "log_amount"], "log_amount"],
)
def test_a_model_on_features_the_scorer_lacks_is_refused(names: object) -> None:
    arrays, meta = _old_model(["log_amount", "y"], "log_amount")
    with pytest.raises(ModelFormatError, match="feature"):
        bind(arrays, dict(meta, feature_names=names), "m")
