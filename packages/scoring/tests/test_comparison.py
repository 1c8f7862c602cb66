"""Rule-set runs and their comparison: counts, metrics and the changed decisions (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from scoring_testdata import MakeTxn

from streamflow.scoring.comparison import (
    CardPrecisionAtK,
    Comparison,
    RuleSetRun,
    ScoreHistogram,
    score_bin,
)
from streamflow.scoring.rulesets import default_rules
from streamflow.scoring.view import TxnView, make_view


@dataclass(frozen=True)
class Row:
    view: TxnView
    label: int
    scenario: str


def test_lower_threshold_alerts_more_and_comparison_counts_the_difference(
    make_txn: MakeTxn,
) -> None:
    base_rules = default_rules()
    lower = base_rules.model_copy(update={"version": base_rules.version + 1, "alert_threshold": 0})
    base, other = RuleSetRun(base_rules, 2), RuleSetRun(lower, 2)
    comparison = Comparison()
    t0 = make_txn().event_time
    for i in range(30):
        txn = make_txn(
            event_time=t0 + timedelta(minutes=i),
            customer_id=f"C{i % 3}",
            amount=Decimal("5000.00") if i % 10 == 9 else Decimal("20.00"),
        )
        row = Row(make_view(txn), int(i % 10 == 9), "fraud" if i % 10 == 9 else "normal")
        alerts = [run.record(row, run.score(row.view, None)) for run in (base, other)]
        comparison.add(txn.transaction_id, row.label, alerts[0], alerts[1])
    base.learn("M0001", True, t0.timestamp())
    assert base.merchants["M0001"].fraud > 0
    before, after = base.report(), other.report()
    assert after["alerts"] == 30
    assert after["recall"] == 1.0
    assert after["alerts"] - before["alerts"] == comparison.only_other - comparison.only_base
    assert comparison.only_base == 0
    assert comparison.frauds_only_other == 3 - before["per_scenario"]["fraud"]["alerts"]
    assert len(comparison.examples_only_other) == min(comparison.only_other, 20)
    assert before["rows"] == after["rows"] == 30
    assert before["frauds"] == 3
    assert set(after["per_scenario"]) == {"fraud", "normal"}


def test_histogram_metrics_match_a_hand_count() -> None:
    hist = ScoreHistogram()
    hist.add_bins([score_bin(s) for s in (0.9, 0.8, 0.3, 0.1)], [1, 0, 1, 0])
    assert math.isclose(hist.average_precision(), (1.0 + 2 / 3) / 2)
    assert math.isclose(hist.roc_auc(), 0.75)
    assert math.isnan(ScoreHistogram().average_precision())


def test_card_precision_at_k_per_day() -> None:
    cards = CardPrecisionAtK(k=1)
    cards.add(0, "a", 0.9, 1)
    cards.add(0, "b", 0.5, 0)
    cards.add(1, "b", 0.7, 0)
    report = cards.report()
    assert report["per_day"] == {"1970-01-01": 1.0, "1970-01-02": 0.0}
    assert report["mean"] == 0.5
