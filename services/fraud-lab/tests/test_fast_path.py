"""The job's JSON output path against the validated-pydantic reference path.

``score_transaction_json`` builds the records from plain values; every record must decode
strictly (``streamflow.events.decode``) to exactly what ``score_transaction`` returns, for alerts
and quiet transactions, with and without the ML model and merchant risk.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from lab_testdata import synthetic_rows

from streamflow.events import (
    Channel,
    FraudAlert,
    PaymentMethod,
    ScoredTransaction,
    Transaction,
    decode,
    encode,
)
from streamflow.lab.train import fit
from streamflow.scoring.context import LabelContext
from streamflow.scoring.core import (
    NO_SUPERVISED,
    AnomalyModel,
    CustomerState,
    Supervised,
    default_rules,
    score_transaction,
    score_transaction_json,
)
from streamflow.scoring.features import FEATURE_NAMES
from streamflow.scoring.gbdt import stump

SCORED_AT = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)


def transactions() -> list[Transaction]:
    rows = sorted(synthetic_rows(seed=5, customers=40, days=10), key=lambda r: r["event_time"])
    return [
        Transaction(
            transaction_id=r["transaction_id"],
            event_time=r["event_time"],
            customer_id=r["customer_id"],
            card_id=r["card_id"],
            merchant_id=r["merchant_id"],
            store_id="S0001-01",
            amount=Decimal(r["amount"]),
            payment_method=PaymentMethod.CREDIT_CARD,
            channel=Channel(r["channel"]),
            latitude=r["latitude"] if i % 7 else None,
            longitude=r["longitude"] if i % 7 else None,
            device_id=r["device_id"],
        )
        for i, r in enumerate(rows)
    ]


def small_model() -> AnomalyModel:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(300, len(FEATURE_NAMES))).astype(np.float32).astype(np.float64)
    return fit(matrix, trees=8, max_samples=64, seed=1, calibration=(0.5, 0.99), source="t")


@pytest.mark.parametrize(
    ("with_model", "risk", "supervised"),
    [
        (False, 0.0, NO_SUPERVISED),
        (True, 0.35, NO_SUPERVISED),
        (True, 0.0, Supervised(shadow=stump("s1", "log_amount", 5.0))),
        (
            True,
            0.1,
            Supervised(
                current=stump("c1", "log_ratio_to_mean", 0.7),
                shadow=stump("s1", "log_amount", 5.0),
                labels=LabelContext((1, 2, 3), 1, 0.0),
            ),
        ),
    ],
)
def test_json_records_decode_to_the_reference_records(
    with_model: bool, risk: float, supervised: Supervised, tmp_path: Path
) -> None:
    blacklist = tmp_path / "blacklist.json"
    blacklist.write_text('{"card_ids": ["K-STOLEN-1"]}')
    rules = default_rules(blacklist)
    model = small_model() if with_model else None
    states: dict[str, CustomerState] = {}
    alerts = 0
    for txn in transactions():
        before = states.get(txn.customer_id)
        ref_after, ref_scored, ref_alert = score_transaction(
            before, txn, rules, risk, model, SCORED_AT
        )
        after, out = score_transaction_json(before, txn, rules, risk, model, SCORED_AT)
        assert after.to_bytes() == ref_after.to_bytes()
        assert decode(ScoredTransaction, out.scored) == ref_scored
        assert out.scored == encode(ref_scored).decode()
        if ref_alert is None:
            assert (out.alert, out.alert_id, out.is_alert) == (None, None, False)
        else:
            alerts += 1
            assert out.alert is not None
            assert out.is_alert
            assert out.alert_id == ref_alert.alert_id
            assert decode(FraudAlert, out.alert) == ref_alert
            assert out.alert == encode(ref_alert).decode()
        states[txn.customer_id] = after
    assert alerts >= 10


def test_non_utc_times_keep_their_offset(tmp_path: Path) -> None:
    brt = timezone(timedelta(hours=-3))
    txn = Transaction(
        transaction_id="t1",
        event_time=datetime(2026, 11, 1, 9, 0, tzinfo=brt),
        customer_id="C1",
        card_id="K1",
        merchant_id="M1",
        store_id="S1",
        amount=Decimal("12.50"),
        payment_method=PaymentMethod.PIX,
        channel=Channel.ONLINE,
    )
    rules = default_rules(None).model_copy(update={"alert_threshold": 0.0})
    _, ref_scored, ref_alert = score_transaction(None, txn, rules, 1.0, None, SCORED_AT)
    _, out = score_transaction_json(None, txn, rules, 1.0, None, SCORED_AT.astimezone(brt))
    assert ref_alert is not None
    assert out.alert is not None
    assert decode(ScoredTransaction, out.scored) == ref_scored
    assert decode(FraudAlert, out.alert) == ref_alert
