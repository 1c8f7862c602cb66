"""Prequential learning loop: replay a labelled stream in event time, retraining on delayed labels.

Every row is scored three ways from the same point-in-time state:
- ``rules``: the rule blend with the anomaly model (what the job does without the loop);
- ``loop``: the same rules plus the supervised model trained so far, through the job's own step
  (:func:`~streamflow.scoring.core.score_view`), scored per event by the exported trees;
- ``forest``: a plain scikit-learn random forest fitted on exactly the same labelled rows at the
  same retrain points (the textbook baseline), scored in batch;
- ``probability`` (reported too): the supervised model's own calibrated probability, before the
  blend with the rules, so the blend's cost or gain shows.
A row's label becomes known ``feedback_delay`` after its event time. At each retrain point ``T``
the models are fitted on the rows with event time in ``[T - delay - window, T - delay)``, all of
whose labels are known by ``T``; a row not reported as fraud by then counts as legit. Nothing
reported after ``T`` is used, so the numbers are what a live system would have seen.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.events import RuleSet
from streamflow.lab.gbdt_train import GbdtParams, fit_gbdt, fit_random_forest
from streamflow.lab.label_feed import LabelFeed
from streamflow.lab.labelled_file import LabelledRow
from streamflow.scoring.comparison import RuleSetRun
from streamflow.scoring.context import ContextStore
from streamflow.scoring.core import Supervised
from streamflow.scoring.gbdt import GbdtModel
from streamflow.scoring.model import AnomalyModel
from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

log = logging.getLogger(__name__)

_N = len(SUPERVISED_FEATURE_NAMES)
_CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class LoopConfig:
    """When and on what the loop retrains."""

    retrain_every_s: float = 7 * 86_400.0
    train_window_s: float = 28 * 86_400.0
    feedback_delay_s: float = 7 * 86_400.0
    min_frauds: int = 20
    """A retrain needs at least this many frauds in its window (else the old model stays)."""
    params: GbdtParams = field(default_factory=GbdtParams)
    forest: bool = True
    """Also fit the random-forest baseline at every retrain point."""


@dataclass
class _Rows:
    """Growing per-row arrays (chunked, so memory stays compact)."""

    features: list[npt.NDArray[np.float64]] = field(default_factory=list)
    fill: int = 0
    epoch: list[float] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    card: list[str] = field(default_factory=list)
    scenario: list[str] = field(default_factory=list)
    rules: list[float] = field(default_factory=list)
    loop: list[float] = field(default_factory=list)
    forest: list[float] = field(default_factory=list)
    probability: list[float] = field(default_factory=list)
    """The supervised model's own probability (NaN before the first model)."""

    def add(
        self, vector: list[float], row: LabelledRow, rules: float, loop: float, probability: float
    ) -> None:
        if not self.features or self.fill == _CHUNK:
            self.features.append(np.empty((_CHUNK, _N), dtype=np.float64))
            self.fill = 0
        self.features[-1][self.fill] = vector
        self.fill += 1
        self.epoch.append(row.view.epoch)
        self.label.append(row.label)
        self.card.append(row.view.card_id)
        self.scenario.append(row.scenario)
        self.rules.append(rules)
        self.loop.append(loop)
        self.forest.append(math.nan)
        self.probability.append(probability)

    def __len__(self) -> int:
        return len(self.epoch)

    def matrix(self, start: int, stop: int) -> npt.NDArray[np.float64]:
        """Feature rows ``[start, stop)``."""
        parts = []
        for index in range(start // _CHUNK, (stop - 1) // _CHUNK + 1 if stop > start else 0):
            lo = max(start - index * _CHUNK, 0)
            hi = min(stop - index * _CHUNK, _CHUNK)
            parts.append(self.features[index][lo:hi])
        return np.concatenate(parts) if parts else np.empty((0, _N))


@dataclass
class Period:
    """One retrain interval: rows scored with the models trained at its start."""

    start: float
    first_row: int
    model_version: str | None
    training_rows: int = 0
    training_frauds: int = 0
    last_row: int = 0


class LearningLoop:
    """Score a stream with rules, the learning loop and the forest baseline side by side."""

    def __init__(self, rules: RuleSet, anomaly: AnomalyModel | None, config: LoopConfig) -> None:
        self.config = config
        self.anomaly = anomaly
        self.base = RuleSetRun(rules, 100)
        self.loop_run = RuleSetRun(rules, 100)
        self.ctx = ContextStore()
        self.feed = LabelFeed(config.feedback_delay_s, (self.base, self.loop_run), self.ctx)
        self.model: GbdtModel | None = None
        self.forest: Any = None
        self.rows = _Rows()
        self.periods: list[Period] = []
        self._next_retrain = math.nan

    def run(self, rows: Iterable[LabelledRow]) -> None:
        """Replay every row (event-time order expected)."""
        for row in rows:
            self.step(row)
        self._close_period()

    def step(self, row: LabelledRow) -> None:
        """Deliver due labels, retrain if due, then score one row."""
        view = row.view
        now = view.epoch
        if math.isnan(self._next_retrain):
            self._next_retrain = now + self.config.feedback_delay_s + self.config.retrain_every_s
        self.feed.deliver(now)
        if now >= self._next_retrain:
            self._retrain(self._next_retrain)
            while self._next_retrain <= now:
                self._next_retrain += self.config.retrain_every_s
        labels = self.ctx.labels_at(view.merchant_id, view.card_id, now)
        base_ev = self.base.score(view, self.anomaly)
        # the job's step: the same vector, blend and state update as the running job
        ev = self.loop_run.score(
            view, self.anomaly, Supervised(current=self.model, labels=labels, want_features=True)
        )
        vector = ev.features if ev.features is not None else []
        probability = ev.model_score
        loop = ev.score
        self.rows.add(
            vector, row, base_ev.score, loop, math.nan if probability is None else probability
        )
        self.feed.observe(view, row.label)

    def _retrain(self, cutoff: float) -> None:
        """Fit on the rows whose labels are all known at ``cutoff``."""
        self._close_period()
        cfg = self.config
        known_until = cutoff - cfg.feedback_delay_s
        epochs = self.rows.epoch
        lo = _bisect(epochs, known_until - cfg.train_window_s)
        hi = _bisect(epochs, known_until)
        labels = np.asarray(self.rows.label[lo:hi], dtype=np.int64)
        frauds = int(labels.sum())
        if frauds >= cfg.min_frauds and frauds < len(labels):
            matrix = self.rows.matrix(lo, hi)
            window = {"train_from": known_until - cfg.train_window_s, "train_to": known_until}
            self.model = fit_gbdt(matrix, labels, cfg.params, window)
            if cfg.forest:
                self.forest = fit_random_forest(matrix, labels, cfg.params.seed)
            log.info(
                "retrained at %s on %d rows (%d frauds): %s",
                np.datetime64(int(cutoff), "s"),
                len(labels),
                frauds,
                self.model.version,
            )
        self.periods.append(
            Period(
                cutoff, len(self.rows), self.model.version if self.model else None, hi - lo, frauds
            )
        )

    def _close_period(self) -> None:
        if not self.periods:
            return
        period = self.periods[-1]
        period.last_row = len(self.rows)
        if self.forest is None or period.last_row <= period.first_row:
            return
        matrix = self.rows.matrix(period.first_row, period.last_row)
        scores = self.forest.predict_proba(matrix)[:, 1]
        self.rows.forest[period.first_row : period.last_row] = [float(s) for s in scores]

    def report(self, k: int = 100) -> dict[str, Any]:
        """AP, AUC and card precision@k per period and overall, for each of the three scorers."""
        periods = [p for p in self.periods if p.model_version is not None]
        out: dict[str, Any] = {"periods": []}
        if not periods:
            return out | {"overall": None}
        r = self.rows
        for p in periods:
            out["periods"].append(
                {
                    "start": str(np.datetime64(int(p.start), "s")),
                    "rows": p.last_row - p.first_row,
                    "model_version": p.model_version,
                    "training_rows": p.training_rows,
                    "training_frauds": p.training_frauds,
                }
                | _metrics(r, p.first_row, p.last_row, k)
            )
        start, stop = periods[0].first_row, periods[-1].last_row
        out["overall"] = _metrics(r, start, stop, k)
        out["at_alert_threshold"] = self._at_threshold(start, stop)
        return out

    def _at_threshold(self, start: int, stop: int) -> dict[str, Any]:
        """Alerts per 1,000 and recall per scenario at the rules' alert threshold (rules, loop)."""
        threshold = self.base.rules.alert_threshold
        labels = np.asarray(self.rows.label[start:stop])
        scenarios = np.asarray(self.rows.scenario[start:stop])
        out: dict[str, Any] = {"alert_threshold": threshold}
        for name in ("rules", "loop"):
            alerts = np.asarray(getattr(self.rows, name)[start:stop]) >= threshold
            out[name] = {
                "alerts_per_1000": 1000.0 * float(alerts.mean()),
                "precision": float(labels[alerts].mean()) if alerts.any() else None,
                "recall_by_scenario": {
                    str(s): float(alerts[(scenarios == s) & (labels == 1)].mean())
                    for s in sorted(set(scenarios[labels == 1].tolist()))
                },
            }
        return out


def _bisect(values: list[float], x: float) -> int:
    import bisect

    return bisect.bisect_left(values, x)


def _metrics(rows: _Rows, start: int, stop: int, k: int) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels = np.asarray(rows.label[start:stop])
    out: dict[str, Any] = {"frauds": int(labels.sum())}
    for name in ("rules", "loop", "forest", "probability"):
        scores = np.asarray(getattr(rows, name)[start:stop], dtype=np.float64)
        if np.isnan(scores).any() or labels.min() == labels.max():
            out[name] = None
            continue
        out[name] = {
            "average_precision": float(average_precision_score(labels, scores)),
            "roc_auc": float(roc_auc_score(labels, scores)),
            "card_precision_at_k": card_precision_at_k(
                rows.epoch[start:stop], rows.card[start:stop], scores, labels, k
            ),
        }
    return out


def card_precision_at_k(
    epochs: list[float],
    cards: list[str],
    scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    k: int,
) -> float:
    """Mean over days of the share of frauded cards among the day's top-k cards (by max score);
    a card found frauded in an earlier day's top k is left out of later days (already detected)."""
    days: dict[int, dict[str, list[float]]] = {}
    for epoch, card, score, label in zip(
        epochs, cards, scores.tolist(), labels.tolist(), strict=True
    ):
        cards_of_day = days.setdefault(int(epoch // 86_400), {})
        entry = cards_of_day.get(card)
        if entry is None:
            cards_of_day[card] = [score, float(label)]
        else:
            entry[0] = max(entry[0], score)
            entry[1] = max(entry[1], float(label))
    detected: set[str] = set()
    values = []
    for day in sorted(days):
        candidates = [(e[0], c, e[1]) for c, e in days[day].items() if c not in detected]
        top = heapq.nlargest(k, candidates)
        values.append(sum(t[2] for t in top) / k)
        detected.update(t[1] for t in top if t[2] > 0)
    return float(np.mean(values)) if values else math.nan
