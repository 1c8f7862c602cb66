"""The promotion gate, the time split and the evaluation metrics (pure: no registry, no files)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from streamflow.lab.promotion import (
    DAY_S,
    EvalMetrics,
    GateConfig,
    TimeSplit,
    decide,
    evaluate,
    known_compromised_cards,
)
from streamflow.lab.registry import ModelVersion, RegistryError, artifact_path
from streamflow.lab.train_gbdt import build_dataset, parse_duration


def _metrics(ap: float, alerts: float = 10.0) -> EvalMetrics:
    return EvalMetrics(
        rows=1000,
        frauds=20,
        average_precision=ap,
        roc_auc=0.9,
        card_precision_at_100=0.1,
        alert_threshold=0.5,
        alerts_per_1000=alerts,
        precision=0.8,
        recall=0.4,
    )


GATE = GateConfig(margin=0.01, max_alerts_per_1000=25.0)


def test_first_model_is_promoted_when_within_the_cap() -> None:
    decision = decide(_metrics(0.6), None, GATE)
    assert decision.promote
    assert decision.label == "promoted"
    assert decision.reason == "no champion yet; 10.00 alerts per 1,000 within the cap of 25"


def test_first_model_over_the_cap_is_rejected() -> None:
    decision = decide(_metrics(0.6, alerts=40.0), None, GATE)
    assert not decision.promote
    assert decision.label == "rejected"
    assert "40.00 alerts per 1,000 at threshold 0.5 exceed the cap of 25" in decision.reason


def test_a_candidate_beating_the_champion_by_the_margin_is_promoted() -> None:
    decision = decide(_metrics(0.72), _metrics(0.70), GATE, "v3")
    assert decision.promote
    assert decision.reasons[0] == (
        "AP 0.7200 beats champion v3's 0.7000 on the same week by +0.0200 (margin 0.01)"
    )


@pytest.mark.parametrize("ap", [0.705, 0.70, 0.60])
def test_a_candidate_below_the_margin_is_rejected_with_the_gain(ap: float) -> None:
    decision = decide(_metrics(ap), _metrics(0.70), GATE, "v3")
    assert not decision.promote
    assert "does not beat champion v3's 0.7000 on the same week by the margin 0.01" in (
        decision.reason
    )
    assert f"(gain {ap - 0.70:+.4f})" in decision.reason


def test_a_better_ap_does_not_excuse_flooding_the_analysts() -> None:
    decision = decide(_metrics(0.90, alerts=26.0), _metrics(0.70), GATE, "v3")
    assert not decision.promote
    assert "exceed the cap of 25" in decision.reasons[0]
    assert "beats champion v3's" in decision.reasons[1]


def test_margin_zero_still_needs_a_gain() -> None:
    gate = GateConfig(margin=0.0, max_alerts_per_1000=25.0)
    assert not decide(_metrics(0.70), _metrics(0.70), gate, "v1").promote
    assert decide(_metrics(0.7001), _metrics(0.70), gate, "v1").promote


def test_a_champion_that_cannot_be_rescored_leaves_the_cap_to_decide() -> None:
    decision = decide(_metrics(0.5), None, GATE, "v2", "model was trained on other features")
    assert decision.promote
    assert decision.reasons[0] == (
        "champion v2 cannot be re-scored on this week (model was trained on other features)"
    )


def test_gate_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="margin"):
        GateConfig(margin=-0.1)
    with pytest.raises(ValueError, match="cap"):
        GateConfig(max_alerts_per_1000=0)


def test_time_split_ends_the_eval_week_one_feedback_delay_before_the_last_event() -> None:
    last = 40 * DAY_S
    split = TimeSplit.at_end(last, 28 * DAY_S, 7 * DAY_S, 7 * DAY_S)
    assert split.eval_to == 33 * DAY_S
    assert split.eval_from == 26 * DAY_S
    assert split.train_from == -2 * DAY_S
    assert split.as_dict() == {
        "train_from": "1969-12-30T00:00:00Z",
        "train_to": "1970-01-27T00:00:00Z",
        "eval_from": "1970-01-27T00:00:00Z",
        "eval_to": "1970-02-03T00:00:00Z",
    }
    with pytest.raises(ValueError, match="positive"):
        TimeSplit.at_end(last, 0, 7 * DAY_S, 7 * DAY_S)


def test_known_cards_count_only_frauds_reported_before_the_week() -> None:
    epochs = np.array([0.0, 1.0, 2.0, 3.0]) * DAY_S
    labels = np.array([1, 0, 1, 1], dtype=np.int64)
    cards = ["A", "B", "C", "D"]
    # delay 1 day, week starts at day 3: A (reported day 1) and C (day 3) are known, D is not yet
    assert known_compromised_cards(epochs, cards, labels, DAY_S, 3 * DAY_S) == {"A", "C"}


def test_evaluate_counts_alerts_precision_and_recall_at_the_threshold() -> None:
    scores = np.array([0.9, 0.8, 0.6, 0.4, 0.1, 0.05, 0.7, 0.2])
    labels = np.array([1, 0, 1, 1, 0, 0, 0, 0], dtype=np.int64)
    epochs = [0.0] * 8
    cards = [f"K{i}" for i in range(8)]
    m = evaluate(scores, labels, epochs, cards, threshold=0.5)
    assert m.rows == 8
    assert m.frauds == 3
    assert m.alerts_per_1000 == pytest.approx(1000 * 4 / 8)
    assert m.precision == pytest.approx(2 / 4)
    assert m.recall == pytest.approx(2 / 3)
    assert 0 < m.average_precision <= 1
    assert m.card_precision_at_100 == pytest.approx(3 / 100)
    nothing = evaluate(scores * 0.1, labels, epochs, cards, threshold=0.5)
    assert nothing.precision is None
    assert nothing.as_dict()["precision"] is None
    assert nothing.alerts_per_1000 == 0.0


def test_evaluate_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="frauds and legit"):
        evaluate(np.array([0.1, 0.2]), np.array([0, 0]), [0.0, 0.0], ["a", "b"], threshold=0.5)


@pytest.mark.parametrize(
    ("text", "seconds"), [("28d", 28 * DAY_S), ("36h", 36 * 3600.0), ("90m", 5400.0), ("30", 30.0)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_refuses_garbage() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a duration"):
        parse_duration("a week")


def test_artifact_paths_of_the_tracking_server() -> None:
    assert artifact_path("mlflow-artifacts:/3/abc/artifacts/model") == "3/abc/artifacts/model"
    assert artifact_path("mlflow-artifacts://h:5000/3/abc/artifacts") == "3/abc/artifacts"
    with pytest.raises(RegistryError, match="--serve-artifacts"):
        artifact_path("s3://bucket/3/abc")


def test_model_version_from_json() -> None:
    v = ModelVersion.from_json(
        {
            "name": "m",
            "version": "2",
            "run_id": "r",
            "source": "mlflow-artifacts:/1/r/artifacts/model",
            "tags": [{"key": "rejected", "value": "why"}],
            "aliases": ["champion"],
        }
    )
    assert v.version == "2"
    assert v.tags == {"rejected": "why"}
    assert v.aliases == ("champion",)


class _Rows:
    """The replayed rows build_dataset reads: one a day for 50 days, every fifth a fraud."""

    def __init__(self) -> None:
        self.epoch = [float(day * DAY_S) for day in range(50)]
        self.label = [1 if day % 5 == 0 else 0 for day in range(50)]
        self.card = [f"K{day}" for day in range(50)]

    def __len__(self) -> int:
        return len(self.epoch)

    def matrix(self, start: int, stop: int) -> np.ndarray:
        return np.zeros((stop - start, 2))


@pytest.mark.parametrize(("complete", "eval_to_day"), [(False, 42), (True, 49)])
def test_labels_complete_evaluates_on_the_files_last_week(complete: bool, eval_to_day: int) -> None:
    loop = argparse.Namespace(rows=_Rows())
    data = build_dataset(loop, 28 * DAY_S, 7 * DAY_S, 7 * DAY_S, 1, labels_complete=complete)  # type: ignore[arg-type]
    assert data.split.eval_to == eval_to_day * DAY_S
    assert data.split.eval_from == (eval_to_day - 7) * DAY_S
    assert len(data.train_labels) == 28
