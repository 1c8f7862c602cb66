"""The promotion gate of the supervised model, and the time split and metrics it decides on.

Pure functions, no registry I/O (that is :mod:`streamflow.lab.registry`), so every rule of the
gate is unit-tested on numbers alone. The protocol (docs/adr/0056):

- time split: the evaluation week is the most recent one whose labels are all known at the
  file's end, i.e. it ends ``feedback_delay`` before the last event; the training window is the
  ``train_window`` just before it. Never a random split;
- metrics on that week, leaving out cards already known to be compromised before it (a fraud of
  theirs reported by the week's start): AP, ROC AUC, daily Card-Precision@100, and precision,
  recall and alerts per 1,000 transactions of the model's probability at the alert threshold;
- the gate: a candidate is promoted only when its AP beats the champion's AP *on the same week*
  by the margin **and** its alerts per 1,000 stay within the cap; with no champion (or one that
  cannot be re-scored) the cap alone decides.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.lab.learning import card_precision_at_k

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class TimeSplit:
    """Training rows have event times in ``[train_from, eval_from)``, evaluation rows in
    ``[eval_from, eval_to)``; rows after ``eval_to`` still have labels in flight."""

    train_from: float
    eval_from: float
    eval_to: float

    @classmethod
    def at_end(
        cls, last_event: float, train_window_s: float, feedback_delay_s: float, eval_s: float
    ) -> TimeSplit:
        """The split for a file whose last event is at ``last_event`` (epoch seconds)."""
        if min(train_window_s, eval_s) <= 0 or feedback_delay_s < 0:
            raise ValueError("windows must be positive and the feedback delay not negative")
        eval_to = last_event - feedback_delay_s
        eval_from = eval_to - eval_s
        return cls(eval_from - train_window_s, eval_from, eval_to)

    def as_dict(self) -> dict[str, str]:
        """ISO-8601 UTC bounds (``train_to`` is ``eval_from``)."""
        return {
            "train_from": _iso(self.train_from),
            "train_to": _iso(self.eval_from),
            "eval_from": _iso(self.eval_from),
            "eval_to": _iso(self.eval_to),
        }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def known_compromised_cards(
    epochs: npt.NDArray[np.float64],
    cards: list[str],
    labels: npt.NDArray[np.int64],
    feedback_delay_s: float,
    before: float,
) -> set[str]:
    """Cards with a fraud reported (event time + delay) at or before ``before``."""
    reported = (labels == 1) & (epochs + feedback_delay_s <= before)
    return {cards[i] for i in np.flatnonzero(reported).tolist()}


@dataclass(frozen=True, slots=True)
class EvalMetrics:
    """One model's numbers on the evaluation week."""

    rows: int
    frauds: int
    average_precision: float
    roc_auc: float
    card_precision_at_100: float
    alert_threshold: float
    alerts_per_1000: float
    precision: float | None
    """Share of frauds among the alerts; None when nothing alerts."""
    recall: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        return {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in asdict(self).items()
        }


def evaluate(
    scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    epochs: list[float],
    cards: list[str],
    *,
    threshold: float,
    k: int = 100,
) -> EvalMetrics:
    """The evaluation metrics of ``scores`` (probabilities) against ``labels``.

    Raises :class:`ValueError` unless the rows hold both frauds and legit transactions.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    frauds = int(labels.sum())
    if frauds == 0 or frauds == len(labels):
        raise ValueError(
            f"the evaluation rows need frauds and legit transactions ({frauds} of {len(labels)})"
        )
    alerts = scores >= threshold
    return EvalMetrics(
        rows=len(labels),
        frauds=frauds,
        average_precision=float(average_precision_score(labels, scores)),
        roc_auc=float(roc_auc_score(labels, scores)),
        card_precision_at_100=card_precision_at_k(epochs, cards, scores, labels, k),
        alert_threshold=threshold,
        alerts_per_1000=1000.0 * float(alerts.mean()),
        precision=float(labels[alerts].mean()) if alerts.any() else None,
        recall=float(alerts[labels == 1].mean()),
    )


@dataclass(frozen=True, slots=True)
class GateConfig:
    """What a candidate must achieve to replace the champion."""

    margin: float = 0.01
    """Absolute AP gain over the champion on the same week."""
    max_alerts_per_1000: float = 30.0
    """Cap on alerts per 1,000 transactions at the alert threshold (analyst capacity)."""

    def __post_init__(self) -> None:
        if self.margin < 0 or self.max_alerts_per_1000 <= 0:
            raise ValueError("the margin must not be negative and the alert cap must be positive")


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Promote or not, and every reason why."""

    promote: bool
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        """The reasons as one sentence."""
        return "; ".join(self.reasons)

    @property
    def label(self) -> str:
        """``promoted`` or ``rejected``."""
        return "promoted" if self.promote else "rejected"


def decide(
    candidate: EvalMetrics,
    champion: EvalMetrics | None,
    config: GateConfig,
    champion_name: str | None = None,
    champion_problem: str | None = None,
) -> GateDecision:
    """The gate. ``champion`` is the current model re-scored on the candidate's evaluation rows;
    None when there is no champion (``champion_name`` None) or it could not be re-scored
    (``champion_problem`` says why)."""
    reasons: list[str] = []
    within_cap = candidate.alerts_per_1000 <= config.max_alerts_per_1000
    if not within_cap:
        reasons.append(
            f"{candidate.alerts_per_1000:.2f} alerts per 1,000 at threshold "
            f"{candidate.alert_threshold:g} exceed the cap of {config.max_alerts_per_1000:g}"
        )
    if champion is None:
        if champion_name is None:
            reasons.append("no champion yet")
        else:
            reasons.append(
                f"champion {champion_name} cannot be re-scored on this week ({champion_problem})"
            )
        if within_cap:
            reasons.append(
                f"{candidate.alerts_per_1000:.2f} alerts per 1,000 within the cap of "
                f"{config.max_alerts_per_1000:g}"
            )
        return GateDecision(within_cap, tuple(reasons))
    gain = candidate.average_precision - champion.average_precision
    beats = gain > 0 and gain >= config.margin - 1e-12
    name = champion_name or "champion"
    if beats:
        reasons.append(
            f"AP {candidate.average_precision:.4f} beats champion {name}'s "
            f"{champion.average_precision:.4f} on the same week by {gain:+.4f} "
            f"(margin {config.margin:g})"
        )
    else:
        reasons.append(
            f"AP {candidate.average_precision:.4f} does not beat champion {name}'s "
            f"{champion.average_precision:.4f} on the same week by the margin {config.margin:g} "
            f"(gain {gain:+.4f})"
        )
    if within_cap and beats:
        reasons.append(
            f"{candidate.alerts_per_1000:.2f} alerts per 1,000 within the cap of "
            f"{config.max_alerts_per_1000:g}"
        )
    return GateDecision(within_cap and beats, tuple(reasons))
