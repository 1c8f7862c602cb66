"""The rules, the ML score and the blend, on plain values (no pydantic on this path).

Blend (ADR 0041): every part yields a score in [0, 1]; its contribution is ``weight x score``;
the final score is the sum of the contributions, capped at 1. A threshold rule scores 0 below its
threshold, 0.6 at it and rises linearly to 1 at twice the threshold, so a stronger anomaly ranks
higher. Disabled parts are not evaluated and contribute nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from streamflow.events import RuleSet
from streamflow.scoring.customer_state import CustomerState
from streamflow.scoring.features import feature_vector, travel
from streamflow.scoring.model import AnomalyModel
from streamflow.scoring.state_config import MIN_TRAVEL_HOURS, MIN_TRAVEL_SHARE
from streamflow.scoring.view import TxnView

ML_TRIGGER = 0.5
"""The ML part counts as 'fired' (listed as a reason) from this calibrated score up."""

MERCHANT_TRIGGER = 0.2
"""The merchant part counts as 'fired' from this risk up."""

FR_HIGH_VALUE, FR_VELOCITY, FR_TRAVEL, FR_TIME_OF_DAY, FR_BLACKLIST = (
    "FR-001",
    "FR-002",
    "FR-003",
    "FR-004",
    "FR-005",
)
ML, MERCHANT, MODEL = "ML", "MERCHANT", "MODEL"


@dataclass(slots=True, init=False)
class PartResult:
    """One rule's (or the model's, or the merchant risk's) verdict on a transaction.

    Up to eight of these and two :class:`Evaluation` are made per event. A class with its own
    ``__init__``: compiled, that is a native constructor (~0.05 µs), where a named tuple's
    ``__new__`` and a dataclass's generated ``__init__`` run as Python (~0.35 µs) (docs/adr/0127).
    Read-only by convention; not frozen, because a compiled frozen dataclass cannot be unpickled.
    """

    rule_id: str
    triggered: bool
    score: float
    weight: float
    contribution: float
    explanation: str

    def __init__(  # noqa: PLR0917 - the record's fields
        self,
        rule_id: str,
        triggered: bool,
        score: float,
        weight: float,
        contribution: float,
        explanation: str,
    ) -> None:
        self.rule_id = rule_id
        self.triggered = triggered
        self.score = score
        self.weight = weight
        self.contribution = contribution
        self.explanation = explanation

    def __reduce__(self) -> tuple[type[PartResult], tuple[Any, ...]]:
        """Pickled as its constructor call (compiled, the default calls ``__init__()`` bare)."""
        return PartResult, (
            self.rule_id,
            self.triggered,
            self.score,
            self.weight,
            self.contribution,
            self.explanation,
        )


@dataclass(slots=True, init=False)
class Evaluation:
    """Everything the scorer concluded about one transaction (a native class, as
    :class:`PartResult`)."""

    score: float
    parts: list[PartResult]
    ml_score: float | None
    """The anomaly model's score (None without one, or while a supervised model is current)."""
    model_score: float | None
    """The current supervised model's probability, if one is current."""
    shadow_score: float | None
    """The shadow model's probability, if one is scoring."""
    features: list[float] | None
    """The supervised models' input, when either is present."""

    def __init__(  # noqa: PLR0917 - the record's fields
        self,
        score: float,
        parts: list[PartResult],
        ml_score: float | None,
        model_score: float | None = None,
        shadow_score: float | None = None,
        features: list[float] | None = None,
    ) -> None:
        self.score = score
        self.parts = parts
        self.ml_score = ml_score
        self.model_score = model_score
        self.shadow_score = shadow_score
        self.features = features

    def __reduce__(self) -> tuple[type[Evaluation], tuple[Any, ...]]:
        """Pickled as its constructor call (compiled, the default calls ``__init__()`` bare)."""
        return Evaluation, (
            self.score,
            self.parts,
            self.ml_score,
            self.model_score,
            self.shadow_score,
            self.features,
        )


def graded(measure: float, threshold: float) -> float:
    """0 below the threshold, 0.6 at it, rising linearly to 1 at twice the threshold."""
    if not measure >= threshold:
        return 0.0
    return min(1.0, 0.6 + 0.4 * (measure / threshold - 1.0))


def money(amount: float, currency: str) -> str:
    """``R$ 4,800.00`` for BRL, ``USD 12.00`` otherwise."""
    symbol = "R$" if currency == "BRL" else currency
    return f"{symbol} {amount:,.2f}"


def _part(rule_id: str, triggered: bool, score: float, weight: float, text: str) -> PartResult:
    return PartResult(rule_id, triggered, score, weight, weight * score, text[:500])


_QUIET = ""
"""Explanation used when the caller asked for none (the backtest's hot path)."""
_NO_LOCATION = "no earlier location to compare with"
_NOT_LISTED = "no blacklisted customer/card/merchant"


def _high_value(
    state: CustomerState | None, txn: TxnView, rules: RuleSet, explain: bool
) -> PartResult:
    rule = rules.high_value
    prior = state.count if state is not None else 0
    if state is None or prior < rule.min_history or state.mean <= 0.0:
        text = (
            f"only {prior} earlier payments; needs {rule.min_history} to judge the amount"
            if explain
            else _QUIET
        )
        return _part(FR_HIGH_VALUE, False, 0.0, rule.weight, text)
    ratio = txn.amount / state.mean
    score = graded(ratio, rule.multiplier)
    text = (
        f"amount {money(txn.amount, txn.currency)} is {ratio:.1f}x this customer's average "
        f"of {money(state.mean, txn.currency)}"
        if explain
        else _QUIET
    )
    return _part(FR_HIGH_VALUE, score > 0.0, score, rule.weight, text)


def _velocity(
    state: CustomerState | None, txn: TxnView, rules: RuleSet, explain: bool
) -> PartResult:
    rule = rules.velocity
    count = 1 + (state.count_in_window(txn.epoch, rule.window_seconds) if state else 0)
    score = graded(float(count), rule.max_count + 1.0)
    text = (
        f"{count} payments within {_window_text(rule.window_seconds)} "
        f"(more than {rule.max_count} is unusual)"
        if explain
        else _QUIET
    )
    return _part(FR_VELOCITY, score > 0.0, score, rule.weight, text)


def _impossible_travel(
    state: CustomerState | None, txn: TxnView, rules: RuleSet, explain: bool
) -> PartResult:
    rule = rules.impossible_travel
    km, hours = travel(state, txn)
    if math.isnan(hours):
        return _part(FR_TRAVEL, False, 0.0, rule.weight, _NO_LOCATION if explain else _QUIET)
    speed = km / max(hours, MIN_TRAVEL_HOURS)
    limit = rule.max_distance_km / rule.max_time_hours
    far_enough = km >= MIN_TRAVEL_SHARE * rule.max_distance_km
    score = graded(speed, limit) if far_enough else 0.0
    text = (
        f"{km:,.0f} km from the previous payment {_duration(hours * 3600.0)} earlier "
        f"({speed:,.0f} km/h; limit {limit:,.0f} km/h)"
        if explain
        else _QUIET
    )
    return _part(FR_TRAVEL, score > 0.0, score, rule.weight, text)


def _time_of_day(
    state: CustomerState | None, txn: TxnView, rules: RuleSet, explain: bool
) -> PartResult:
    rule = rules.time_of_day
    prior = state.count if state is not None else 0
    if state is None or prior < rule.min_history:
        text = (
            f"only {prior} earlier payments; needs {rule.min_history} to know usual hours"
            if explain
            else _QUIET
        )
        return _part(FR_TIME_OF_DAY, False, 0.0, rule.weight, text)
    z, usual = state.hour_z(txn.hour)
    score = graded(z, rule.z_threshold)
    text = (
        f"payment at {_clock(txn.hour)} UTC is {z:.1f} sigma from this customer's usual "
        f"hour ({_clock(usual)})"
        if explain
        else _QUIET
    )
    return _part(FR_TIME_OF_DAY, score > 0.0, score, rule.weight, text)


def _blacklist(txn: TxnView, rules: RuleSet, explain: bool) -> PartResult:
    rule = rules.blacklist
    hits = [
        f"{kind} {value}"
        for kind, value, listed in (
            ("customer", txn.customer_id, rule.customer_ids),
            ("card", txn.card_id, rule.card_ids),
            ("merchant", txn.merchant_id, rule.merchant_ids),
        )
        if value in listed
    ]
    if not hits:
        return _part(FR_BLACKLIST, False, 0.0, rule.weight, _NOT_LISTED if explain else _QUIET)
    return _part(FR_BLACKLIST, True, 1.0, rule.weight, " and ".join(hits) + " is blacklisted")


def evaluate(  # noqa: PLR0917 - mirrors score_transaction
    state: CustomerState | None,
    txn: TxnView,
    rules: RuleSet,
    merchant_risk: float,
    model: AnomalyModel | None,
    explain: bool = True,
    base_vector: list[float] | None = None,
) -> Evaluation:
    """Score ``txn`` given the customer's state before it (the state is not modified).

    ``explain=False`` skips building the sentences (same scores; the backtest's fast path);
    ``base_vector`` is :func:`feature_vector` of the same inputs when the caller has it already.
    """
    parts: list[PartResult] = []
    if rules.high_value.enabled:
        parts.append(_high_value(state, txn, rules, explain))
    if rules.velocity.enabled:
        parts.append(_velocity(state, txn, rules, explain))
    if rules.impossible_travel.enabled:
        parts.append(_impossible_travel(state, txn, rules, explain))
    if rules.time_of_day.enabled:
        parts.append(_time_of_day(state, txn, rules, explain))
    if rules.blacklist.enabled:
        parts.append(_blacklist(txn, rules, explain))
    ml_score: float | None = None
    if model is not None and rules.ml.enabled:
        vector = base_vector if base_vector is not None else feature_vector(state, txn)
        ml_score = model.score(vector)
        text = (
            f"anomaly model {model.version} scores {ml_score:.2f} for this customer's pattern"
            if explain
            else _QUIET
        )
        parts.append(_part(ML, ml_score >= ML_TRIGGER, ml_score, rules.ml.weight, text))
    if rules.merchant_risk.enabled:
        risk = min(1.0, max(0.0, merchant_risk))
        text = (
            f"merchant {txn.merchant_id} has a confirmed-fraud risk of {risk:.2f} "
            "from recent feedback"
            if explain
            else _QUIET
        )
        parts.append(
            _part(MERCHANT, risk >= MERCHANT_TRIGGER, risk, rules.merchant_risk.weight, text)
        )
    total = min(1.0, sum([p.contribution for p in parts]))
    return Evaluation(round(total, 6), parts, ml_score)


def _duration(seconds: float) -> str:
    if seconds < 60.0:
        return f"{seconds:.0f} seconds"
    if seconds < 5_400.0:
        return f"{seconds / 60.0:.0f} minutes"
    return f"{seconds / 3_600.0:.1f} hours"


_WINDOW_TEXTS: dict[float, str] = {}
""":func:`_duration` of the velocity windows seen (a rule's window is one of a few values)."""


def _window_text(seconds: float) -> str:
    """``_duration(seconds)``, remembered: formatting the float was ~4% of the scoring step."""
    text = _WINDOW_TEXTS.get(seconds)
    if text is None:
        if len(_WINDOW_TEXTS) >= 64:
            _WINDOW_TEXTS.clear()
        text = _WINDOW_TEXTS[seconds] = _duration(seconds)
    return text


def _clock(hour: float) -> str:
    minutes = round(hour * 60.0) % 1_440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
