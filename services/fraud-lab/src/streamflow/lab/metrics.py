"""Streaming evaluation metrics with bounded memory.

Scores are rounded to 6 decimals by the core, so a histogram of 1,000,001 bins per class gives the
exact precision-recall and ROC curves (ties share a threshold, as in scikit-learn) without keeping
one number per row. Card precision@k keeps only the current day's cards.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

BINS = 1_000_001


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
