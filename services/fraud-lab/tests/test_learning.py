"""The learning loop: point-in-time context, the exported trees and the prequential replay."""

from __future__ import annotations

import math
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from streamflow.lab.gbdt_train import GbdtParams, export_lightgbm, fit_gbdt
from streamflow.lab.labelled_file import read_labelled
from streamflow.lab.learning import LearningLoop, LoopConfig, card_precision_at_k
from streamflow.scoring.context import ContextStore, DecayedWindows, FraudReports
from streamflow.scoring.customer_state import CustomerState
from streamflow.scoring.gbdt import GbdtModel, model_from_bytes, read_gbdt
from streamflow.scoring.model import ModelFormatError
from streamflow.scoring.rulesets import default_rules
from streamflow.scoring.supervised_features import (
    CONTEXT_FEATURE_NAMES,
    SUPERVISED_FEATURE_NAMES,
    context_vector,
    describe,
)
from streamflow.scoring.view import TxnView

DAY = 86_400.0
N = len(SUPERVISED_FEATURE_NAMES)


def _view(epoch: float, amount: float = 50.0, merchant: str = "M1", card: str = "K1") -> TxnView:
    return TxnView("t", epoch, "C1", card, merchant, amount, "BRL", "pos", math.nan, math.nan)


def test_decayed_windows_do_not_depend_on_arrival_order() -> None:
    events = [(0.0, 10.0), (3 * DAY, 20.0), (1 * DAY, 30.0), (10 * DAY, 5.0)]
    in_order, shuffled = DecayedWindows(), DecayedWindows()
    for when, amount in sorted(events):
        in_order.add(when, amount)
    for when, amount in events:
        shuffled.add(when, amount)
    a, b = in_order.at(12 * DAY), shuffled.at(12 * DAY)
    assert a[0] == pytest.approx(b[0])
    assert a[1] == pytest.approx(b[1])
    # the 1-day window has mostly forgotten day 0; the 30-day one still counts it
    assert a[0][0] < 0.2 < 0.5 < a[0][2]


def test_fraud_reports_count_only_what_was_known() -> None:
    reports = FraudReports()
    for when in (1 * DAY, 5 * DAY, 9 * DAY):
        reports.add(when)
    assert reports.known_at(9.5 * DAY) == [1, 2, 3]
    # a report after the transaction never leaks into its features
    assert reports.known_at(4 * DAY) == [0, 1, 1]
    assert reports.last_before(4 * DAY) == 1 * DAY
    assert math.isnan(reports.last_before(0.5 * DAY))


def test_context_vector_names_a_merchants_confirmed_frauds() -> None:
    state = CustomerState()
    for day in range(10):
        state.update(_view(day * DAY, 50.0))
    ctx = ContextStore()
    ctx.report_fraud("M1", "K1", 8 * DAY)
    ctx.report_fraud("M1", "K2", 9 * DAY)
    txn = _view(9.5 * DAY, 200.0)
    labels = ctx.labels_at("M1", "K1", txn.epoch)
    values = dict(
        zip(
            SUPERVISED_FEATURE_NAMES[-len(CONTEXT_FEATURE_NAMES) :],
            context_vector(state, labels, txn),
            strict=True,
        )
    )
    assert values["merchant_frauds_7d"] == 2.0
    assert values["card_frauds_90d"] == 1.0
    assert math.expm1(values["card_log_days_since_fraud"]) == pytest.approx(1.5)
    assert math.exp(values["log_ratio_to_mean_30d"]) == pytest.approx(4.0)
    # a report after the transaction never leaks in
    assert ctx.labels_at("M1", "K2", 8.5 * DAY).card_frauds == 0
    assert (
        describe("merchant_frauds_7d", 2.0)
        == "2 frauds confirmed at this merchant in the last 7 days"
    )
    assert (
        describe("log_ratio_to_mean_30d", math.log(4.1))
        == "amount 4.1x this customer's 30-day mean"
    )


def test_customer_state_keeps_its_spending_windows_across_bytes() -> None:
    state = CustomerState()
    for day in range(5):
        state.update(_view(day * DAY, 20.0 + day), baseline=day % 2 == 0)
    # every payment counts for spending, alerted (baseline=False) or not
    assert state.spending.counts[2] > 4.5
    again = CustomerState.from_bytes(state.to_bytes())
    assert again.spending.at(6 * DAY) == state.spending.at(6 * DAY)
    # a state of format 1 (before the windows) still reads, with empty windows
    v1 = bytes([1]) + state.to_bytes()[1 : -(8 * 7)]
    assert CustomerState.from_bytes(v1).spending.counts == [0.0, 0.0, 0.0]


@pytest.fixture(scope="module")
def training() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(4_000, N))
    labels = ((matrix[:, 0] + 0.5 * matrix[:, 16] + rng.normal(0, 0.5, 4_000)) > 2.0).astype(
        np.int64
    )
    return matrix, labels


def test_exported_trees_equal_lightgbm(training: tuple[np.ndarray, np.ndarray]) -> None:
    matrix, labels = training
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1},
        lgb.Dataset(matrix, label=labels),
        num_boost_round=12,
    )
    model = GbdtModel(export_lightgbm(booster), {"version": "t", "platt_a": 1.0, "platt_b": 0.0})
    expected = booster.predict(matrix[:300], raw_score=True)
    got = [model.margin(row.tolist()) for row in matrix[:300]]
    assert np.allclose(got, expected, atol=1e-9)
    assert np.allclose(model.margins(matrix[:300]), expected, atol=1e-9)
    # path contributions add up to the margin minus the trees' root values
    bias = float(model.arrays.value[model.arrays.roots].sum())
    row = matrix[7].tolist()
    assert sum(model.contributions(row)) + bias == pytest.approx(model.margin(row))


def test_fit_calibrates_and_round_trips(
    tmp_path: Path, training: tuple[np.ndarray, np.ndarray]
) -> None:
    matrix, labels = training
    model = fit_gbdt(matrix, labels, GbdtParams(trees=20))
    scores = model.scores(matrix)
    # calibrated: the mean probability is close to the base rate despite the up-weighting
    assert scores.mean() == pytest.approx(labels.mean(), abs=0.02)
    reasons = model.reasons(matrix[int(np.argmax(scores))].tolist())
    assert reasons
    assert reasons[0].feature == SUPERVISED_FEATURE_NAMES[0]
    path = tmp_path / "m.npz"
    model.save(path)
    again = read_gbdt(path)
    assert again.version == model.version
    assert again.score(matrix[0].tolist()) == model.score(matrix[0].tolist())


def test_corrupt_or_incompatible_models_are_refused(
    training: tuple[np.ndarray, np.ndarray],
) -> None:
    matrix, labels = training
    data = fit_gbdt(matrix, labels, GbdtParams(trees=3)).to_bytes()
    with pytest.raises(ModelFormatError, match="not a model file"):
        model_from_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError, match="over the"):
        model_from_bytes(b"x" * (9 << 20))


def test_card_precision_leaves_out_cards_already_detected() -> None:
    epochs = [0.0, 0.0, DAY, DAY]
    cards = ["A", "B", "A", "B"]
    scores = np.array([0.9, 0.1, 0.9, 0.2])
    labels = np.array([1, 0, 1, 0])
    # day 1: A is the top card and frauded; day 2: A is left out, so B (legit) is the top card
    assert card_precision_at_k(epochs, cards, scores, labels, 1) == pytest.approx(0.5)


def test_prequential_loop_learns_fraud_the_rules_miss(tmp_path: Path) -> None:
    """Fraud at a few 'compromised' merchants with ordinary amounts: only labels can reveal it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(11)
    n = 40_000
    epochs = np.sort(rng.uniform(0, 60 * DAY, n)) + 1.78e9
    merchants = rng.integers(0, 200, n)
    days = (epochs - epochs[0]) / DAY
    # terminals compromised for 25 days, a new group every 10 days: every payment there is fraud
    group = merchants // 4
    compromised = (group < 5) & (days >= 10 * group + 5) & (days < 10 * group + 30)
    labels = compromised.astype(np.int64)
    table = pa.table(
        {
            "transaction_id": [f"t{i}" for i in range(n)],
            "event_time": pa.array((epochs * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")),
            "customer_id": [f"C{c}" for c in rng.integers(0, 2_000, n)],
            "merchant_id": [f"M{m}" for m in merchants],
            "amount": np.round(rng.lognormal(4, 0.5, n), 2),
            "label": labels,
        }
    )
    path = tmp_path / "stream.parquet"
    pq.write_table(table, path)
    config = LoopConfig(min_frauds=5)
    loop = LearningLoop(default_rules(), None, config)
    loop.run(read_labelled(path))
    report = loop.report()
    overall = report["overall"]
    assert len(report["periods"]) >= 5
    loop_ap = overall["loop"]["average_precision"]
    assert loop_ap > overall["rules"]["average_precision"] + 0.1
    assert loop_ap >= 0.9 * overall["forest"]["average_precision"]
    at_threshold = report["at_alert_threshold"]
    assert at_threshold["loop"]["recall_by_scenario"]["fraud"] > 0.5
    assert at_threshold["rules"]["alerts_per_1000"] >= 0.0


def test_backtest_cli_runs_the_prequential_loop(labelled_parquet: Path, tmp_path: Path) -> None:
    import json

    from streamflow.lab.backtest import main

    out = tmp_path / "loop.json"
    args = [str(labelled_parquet), "--out", str(out), "--no-model", "--retrain-every", "2d"]
    assert main([*args, "--train-window", "4d", "--feedback-delay", "1d", "--no-forest"]) == 0
    report = json.loads(out.read_text())
    assert report["protocol"]["retrain_every_seconds"] == 2 * DAY
    assert report["rows"] > 0
    assert "periods" in report


def test_the_committed_starter_model_loads_with_the_current_features() -> None:
    from streamflow.platform.settings import checkout_root
    from streamflow.scoring.gbdt import STARTER_MODEL_PATH, load_starter

    model = load_starter(checkout_root() / STARTER_MODEL_PATH)
    assert model is not None
    assert model.version.startswith("gbdt-")
    assert load_starter(None) is None
