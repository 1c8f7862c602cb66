"""Rule-set runs and their comparison: what one rule set scores over a replay, and what changes.

:class:`RuleSetRun` scores transactions with the job's step
(:func:`~streamflow.scoring.core.score_view`), keeps customer state (forgotten after the state
TTL, in event time) and merchant risk fed by delayed labels, and counts detection quality with
bounded memory. :class:`Comparison` counts the transactions whose alert decision differs between
two runs. The lab's backtest and the alert API's rule what-if use them (docs/adr/0120, 0104).

Scores are rounded to 6 decimals by the core, so a histogram of 1,000,001 bins per class gives the
exact precision-recall and ROC curves (ties share a threshold, as in scikit-learn) without keeping
one number per row. Card precision@k keeps only the current day's cards.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from streamflow.events import RuleSet
from streamflow.scoring.core import NO_SUPERVISED, Supervised, score_view
from streamflow.scoring.customer_state import CustomerState
from streamflow.scoring.merchant_risk import MerchantRisk, apply_label, risk_value
from streamflow.scoring.model import AnomalyModel
from streamflow.scoring.scoring import Evaluation
from streamflow.scoring.state_config import CUSTOMER_STATE_TTL
from streamflow.scoring.view import TxnView

BINS = 1_000_001
_TTL_SECONDS = CUSTOMER_STATE_TTL.total_seconds()
_EXAMPLES = 20


class LabelledView(Protocol):
    """A transaction with its label (1 fraud, 0 legit) and scenario (the lab's ``LabelledRow``)."""

    @property
    def view(self) -> TxnView: ...

    @property
    def label(self) -> int: ...

    @property
    def scenario(self) -> str: ...


def score_bin(score: float) -> int:
    """The histogram bin of a score in [0, 1]."""
    return round(score * (BINS - 1))


@dataclass
class ScoreHistogram:
    """Counts of scores per bin, per class."""

    positives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(BINS, np.int64))
    negatives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(BINS, np.int64))

    def add_bins(self, bins: list[int], labels: list[int]) -> None:
        """Add a batch of (bin, label) pairs."""
        b, y = np.asarray(bins, dtype=np.int64), np.asarray(labels, dtype=np.int64)
        self.positives += np.bincount(b[y == 1], minlength=BINS)
        self.negatives += np.bincount(b[y == 0], minlength=BINS)

    def curves(self) -> tuple[npt.NDArray[np.float64], ...]:
        """(thresholds, tp, fp) for every distinct score, highest threshold first."""
        present = np.nonzero(self.positives + self.negatives)[0][::-1]
        tp = np.cumsum(self.positives[present]).astype(np.float64)
        fp = np.cumsum(self.negatives[present]).astype(np.float64)
        return present / (BINS - 1), tp, fp

    def average_precision(self) -> float:
        """Step-wise AP, as ``sklearn.metrics.average_precision_score``."""
        _, tp, fp = self.curves()
        total = float(self.positives.sum())
        if total == 0 or len(tp) == 0:
            return float("nan")
        precision = tp / (tp + fp)
        recall = tp / total
        return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))

    def roc_auc(self) -> float:
        """Area under the ROC curve (trapezoids, ties handled like scikit-learn)."""
        _, tp, fp = self.curves()
        pos, neg = float(self.positives.sum()), float(self.negatives.sum())
        if pos == 0 or neg == 0:
            return float("nan")
        tpr = np.concatenate([[0.0], tp / pos])
        fpr = np.concatenate([[0.0], fp / neg])
        return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))

    def pr_curve(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(recall, precision) points for a plot."""
        _, tp, fp = self.curves()
        total = max(float(self.positives.sum()), 1.0)
        return tp / total, tp / np.maximum(tp + fp, 1.0)


@dataclass
class CardPrecisionAtK:
    """Per day: of the k cards with the highest score that day, the share with a fraud that day."""

    k: int = 100
    day: int | None = None
    cards: dict[str, list[float]] = field(default_factory=dict)
    per_day: dict[str, float] = field(default_factory=dict)

    def add(self, day: int, card: str, score: float, label: int) -> None:
        """Record one scored transaction of ``day`` (days arrive in order)."""
        if day != self.day:
            self.close_day()
            self.day = day
        entry = self.cards.get(card)
        if entry is None:
            self.cards[card] = [score, float(label)]
        else:
            entry[0] = max(entry[0], score)
            entry[1] = max(entry[1], float(label))

    def close_day(self) -> None:
        """Finish the current day."""
        if self.day is None or not self.cards:
            return
        top = heapq.nlargest(self.k, self.cards.values(), key=lambda e: e[0])
        date = np.datetime64(self.day, "D").astype(str)
        self.per_day[str(date)] = sum(e[1] for e in top) / self.k
        self.cards = {}

    def report(self) -> dict[str, Any]:
        """``{"k", "mean", "per_day"}``."""
        self.close_day()
        values = list(self.per_day.values())
        return {
            "k": self.k,
            "mean": float(np.mean(values)) if values else float("nan"),
            "per_day": self.per_day,
        }


@dataclass
class GroupCounts:
    """Counts of rows, frauds, alerts and caught frauds for one rule or scenario."""

    rows: int = 0
    frauds: int = 0
    alerts: int = 0
    caught: int = 0
    score_sum: float = 0.0

    def add(self, label: int, alert: bool, score: float) -> None:
        self.rows += 1
        self.frauds += label
        self.alerts += int(alert)
        self.caught += int(alert and label == 1)
        self.score_sum += score

    def report(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "frauds": self.frauds,
            "alerts": self.alerts,
            "recall": self.caught / self.frauds if self.frauds else None,
            "precision": self.caught / self.alerts if self.alerts else None,
            "mean_score": self.score_sum / self.rows if self.rows else None,
        }


@dataclass
class RuleCounts:
    """How often one rule fired, on how many frauds, and its mean contribution when it fired."""

    fired: int = 0
    fired_on_fraud: int = 0
    contribution_sum: float = 0.0

    def report(self, frauds: int) -> dict[str, Any]:
        return {
            "fired": self.fired,
            "fired_on_fraud": self.fired_on_fraud,
            "precision": self.fired_on_fraud / self.fired if self.fired else None,
            "fraud_coverage": self.fired_on_fraud / frauds if frauds else None,
            "mean_contribution": self.contribution_sum / self.fired if self.fired else None,
        }


def new_rule_counts() -> defaultdict[str, RuleCounts]:
    """A per-rule counter map."""
    return defaultdict(RuleCounts)


def new_group_counts() -> defaultdict[str, GroupCounts]:
    """A per-scenario counter map."""
    return defaultdict(GroupCounts)


@dataclass
class RuleSetRun:
    """Everything one rule set accumulates during a replay."""

    rules: RuleSet
    k: int
    merchants: dict[str, MerchantRisk] = field(default_factory=dict)
    states: dict[str, CustomerState] = field(default_factory=dict)
    histogram: ScoreHistogram = field(default_factory=ScoreHistogram)
    cards: CardPrecisionAtK = field(default_factory=CardPrecisionAtK)
    per_rule: dict[str, RuleCounts] = field(default_factory=new_rule_counts)
    per_scenario: dict[str, GroupCounts] = field(default_factory=new_group_counts)
    totals: GroupCounts = field(default_factory=GroupCounts)
    legit_alerts: int = 0
    bins: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    ttl_seconds: ClassVar[float] = _TTL_SECONDS
    """Customer state idle for longer than this is forgotten (the job's state TTL)."""

    def __post_init__(self) -> None:
        self.cards.k = self.k
        self._half_life = self.rules.merchant_risk.half_life_days

    def flush(self) -> None:
        """Move buffered scores into the histogram."""
        if self.bins:
            self.histogram.add_bins(self.bins, self.labels)
            self.bins, self.labels = [], []

    def report(self) -> dict[str, Any]:
        self.flush()
        totals = self.totals.report()
        rows = max(self.totals.rows, 1)
        legit = max(self.totals.rows - self.totals.frauds, 1)
        return {
            "rules_version": self.rules.version,
            "alert_threshold": self.rules.alert_threshold,
            "rows": self.totals.rows,
            "frauds": self.totals.frauds,
            "alerts": self.totals.alerts,
            "average_precision": self.histogram.average_precision(),
            "roc_auc": self.histogram.roc_auc(),
            "precision": totals["precision"],
            "recall": totals["recall"],
            "alerts_per_1000": 1000.0 * self.totals.alerts / rows,
            "legit_alerts_per_1000_legit": 1000.0 * self.legit_alerts / legit,
            "card_precision_at_k": self.cards.report(),
            "per_rule": {
                rule: counts.report(self.totals.frauds)
                for rule, counts in sorted(self.per_rule.items())
            },
            "per_scenario": {
                name: counts.report() for name, counts in sorted(self.per_scenario.items())
            },
        }

    def record(self, row: LabelledView, ev: Evaluation) -> bool:
        """Count one scored row; returns whether it raised an alert."""
        label = row.label
        alert = ev.score >= self.rules.alert_threshold
        self.bins.append(score_bin(ev.score))
        self.labels.append(label)
        if len(self.bins) >= 65_536:
            self.flush()
        self.totals.add(label, alert, ev.score)
        self.legit_alerts += int(alert and label == 0)
        self.per_scenario[row.scenario].add(label, alert, ev.score)
        self.cards.add(int(row.view.epoch // 86_400), row.view.card_id, ev.score, label)
        for part in ev.parts:
            if part.triggered:
                counts = self.per_rule[part.rule_id]
                counts.fired += 1
                counts.fired_on_fraud += label
                counts.contribution_sum += part.contribution
        return alert

    def score(
        self, view: TxnView, model: AnomalyModel | None, supervised: Supervised = NO_SUPERVISED
    ) -> Evaluation:
        """Score one transaction with the job's step and keep the customer's state after it."""
        now = view.epoch
        state = self.states.get(view.customer_id)
        if state is not None and now - state.last_time > self.ttl_seconds:
            state = None
        risk = risk_value(self.merchants.get(view.merchant_id), now, self._half_life)
        after, ev = score_view(state, view, self.rules, risk, model, supervised, explain=False)
        self.states[view.customer_id] = after
        return ev

    def learn(self, merchant: str, fraud: bool, when: float) -> None:
        """Apply one delayed label to the merchant's risk."""
        self.merchants[merchant] = apply_label(
            self.merchants.get(merchant), fraud, when, self._half_life
        )


@dataclass
class Comparison:
    """Transactions whose alert decision differs between the base and the compared rules."""

    only_base: int = 0
    only_other: int = 0
    frauds_only_base: int = 0
    frauds_only_other: int = 0
    examples_only_base: list[str] = field(default_factory=list)
    examples_only_other: list[str] = field(default_factory=list)

    def add(self, txid: str, label: int, base_alert: bool, other_alert: bool) -> None:
        if base_alert == other_alert:
            return
        if base_alert:
            self.only_base += 1
            self.frauds_only_base += label
            if len(self.examples_only_base) < _EXAMPLES:
                self.examples_only_base.append(txid)
        else:
            self.only_other += 1
            self.frauds_only_other += label
            if len(self.examples_only_other) < _EXAMPLES:
                self.examples_only_other.append(txid)
