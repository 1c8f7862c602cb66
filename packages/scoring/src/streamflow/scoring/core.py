"""The scoring core the PyFlink job, the backtest and training share: no Flink, no I/O.

One step, :func:`score_view`: the customer's state before a transaction, the rules, the merchant
risk, the models and the labels known at its event time -> the evaluation and the state after.
:func:`score_transaction_json` renders its verdict as contract JSON without pydantic (the job's
path, ADR 0070); :func:`score_transaction` is that JSON decoded strictly into the contracts. Given
the same inputs they return the same outputs: the only clock is the ``scored_at`` they are given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from streamflow.events import (
    ContractError,
    FieldError,
    FraudAlert,
    RuleContribution,
    RuleSet,
    ScoredTransaction,
    Severity,
    Transaction,
    TriggeredRule,
    alert_id_for,
    decode,
    policy,
)
from streamflow.scoring.context import NO_LABELS, LabelContext
from streamflow.scoring.customer_state import CustomerState, StateFormatError
from streamflow.scoring.features import FEATURE_NAMES, feature_vector, features
from streamflow.scoring.gbdt import GbdtModel
from streamflow.scoring.merchant_risk import MerchantLabels, MerchantRisk, apply_feedback, risk_at
from streamflow.scoring.model import AnomalyModel, ModelFormatError, load_model
from streamflow.scoring.rulesets import RuleUpdateRejected, apply_rule_update, default_rules
from streamflow.scoring.scoring import ML_TRIGGER, MODEL, Evaluation, PartResult, evaluate
from streamflow.scoring.supervised_features import FEATURE_SET, supervised_vector
from streamflow.scoring.view import TxnView, make_view

__all__ = [
    "FEATURE_NAMES",
    "NO_SUPERVISED",
    "AnomalyModel",
    "CustomerState",
    "EventTimeInFuture",
    "EventTimeTooOld",
    "JsonVerdict",
    "MerchantLabels",
    "MerchantRisk",
    "ModelFormatError",
    "RuleUpdateRejected",
    "StateFormatError",
    "Supervised",
    "apply_feedback",
    "apply_rule_update",
    "default_rules",
    "features",
    "load_model",
    "risk_at",
    "score_transaction",
    "score_transaction_json",
    "score_view",
    "supervised_blend",
    "validate_transaction",
]

EVENT_TIME_IN_FUTURE = policy.EVENT_TIME_IN_FUTURE
EVENT_TIME_TOO_OLD = policy.EVENT_TIME_TOO_OLD


class EventTimeInFuture(ContractError):  # noqa: N818 - the contract's name
    """A transaction whose event time is further in the future than the scorer tolerates."""


class EventTimeTooOld(ContractError):  # noqa: N818 - the contract's name
    """A transaction whose event time is before the policy's earliest event time."""


def validate_transaction(
    raw: bytes | str, now: datetime, max_future: timedelta = policy.MAX_FUTURE_SKEW
) -> Transaction:
    """Decode a ``transactions.raw`` value; raises ContractError (dead-letter it with why).

    The contract's rules plus the event-time rules of :mod:`streamflow.events.policy`, judged
    against ``now`` (the scorer's clock); ``max_future`` overrides the policy's skew.
    """
    txn = decode(Transaction, raw)
    if txn.event_time > now + max_future:
        ahead = txn.event_time - now
        error = FieldError(
            path="event_time",
            message=f"event time {txn.event_time.isoformat()} is {ahead} ahead of the scorer's "
            f"clock (tolerance {max_future})",
            error_type=EVENT_TIME_IN_FUTURE,
        )
        raise EventTimeInFuture("Transaction", [error])
    if txn.event_time < policy.EARLIEST_EVENT_TIME:
        error = FieldError(
            path="event_time",
            message=f"event time {txn.event_time.isoformat()} is before "
            f"{policy.EARLIEST_EVENT_TIME.isoformat()}",
            error_type=EVENT_TIME_TOO_OLD,
        )
        raise EventTimeTooOld("Transaction", [error])
    return txn


@dataclass(slots=True, init=False)
class Supervised:
    """The supervised models in force and the labels known at the transaction's event time.

    ``current`` scores and alerts (blended by :func:`supervised_blend`); ``shadow`` is scored on
    the same features and recorded, never alerting; ``labels`` are the merchant's and the card's
    confirmed frauds known at the event time (docs/adr/0058, 0062). The job makes one per event:
    a class with its own (compiled) ``__init__`` (docs/adr/0127). Read-only by convention.
    """

    current: GbdtModel | None
    shadow: GbdtModel | None
    labels: LabelContext
    want_features: bool
    """Compute the vector even without a model (the lab's training rows)."""

    def __init__(
        self,
        current: GbdtModel | None = None,
        shadow: GbdtModel | None = None,
        labels: LabelContext = NO_LABELS,
        want_features: bool = False,
    ) -> None:
        self.current = current
        self.shadow = shadow
        self.labels = labels
        self.want_features = want_features

    @property
    def active(self) -> bool:
        """Whether the feature vector is needed."""
        return self.want_features or self.current is not None or self.shadow is not None


NO_SUPERVISED = Supervised()


def supervised_blend(ev: Evaluation, probability: float | None) -> float:
    """The final score with a current supervised model: ``max(rule blend, p)``. Every rule and
    the anomaly model still alert on their own (the scenarios they were built for keep their
    recall); the model adds what they do not foresee (docs/adr/0058)."""
    if probability is None:
        return ev.score
    return round(max(ev.score, probability), 6)


def _model_text(model: GbdtModel, p: float, vector: list[float], alerting: bool) -> str:
    head = f"model {model.version} gives a fraud probability of {p:.2f}"
    if not alerting:
        return head
    reasons = model.reasons(vector)
    return head + (": " + "; ".join(r.text for r in reasons) if reasons else "")


def score_view(  # noqa: PLR0917 - the step's inputs
    state: CustomerState | None,
    view: TxnView,
    rules: RuleSet,
    merchant_risk: float,
    model: AnomalyModel | None,
    supervised: Supervised = NO_SUPERVISED,
    explain: bool = True,
    reuse_state: bool = False,
) -> tuple[CustomerState, Evaluation]:
    """The one scoring step: evaluate, then the state after it.

    ``state`` is untouched unless ``reuse_state``: then it is updated in place and returned as
    the state after (the job's path, where ``state`` was just read from bytes and is not used
    again; it saves a copy per event).

    With a current supervised model the final score is :func:`supervised_blend`; the model's part
    (``MODEL``) names its top features in words when the transaction alerts. A shadow model is
    scored on the same features and only recorded.
    """
    current = supervised.current
    base = feature_vector(state, view) if supervised.active else None
    evaluation = evaluate(state, view, rules, merchant_risk, model, explain, base)
    if supervised.active:
        vector = supervised_vector(state, supervised.labels, view, base)
        p = current.score(vector) if current is not None else None
        shadow = supervised.shadow.score(vector) if supervised.shadow is not None else None
        score = supervised_blend(evaluation, p)
        parts = evaluation.parts
        if current is not None and p is not None:
            alerting = score >= rules.alert_threshold and p >= ML_TRIGGER
            text = _model_text(current, p, vector, alerting) if explain else ""
            parts = [*parts, PartResult(MODEL, p >= ML_TRIGGER, p, 1.0, p, text[:500])]
        evaluation = Evaluation(score, parts, evaluation.ml_score, p, shadow, vector)
    if state is None:
        after = CustomerState()
    elif reuse_state:
        after = state
    else:
        after = state.copy()
    after.update(view, baseline=evaluation.score < rules.alert_threshold)
    return after, evaluation


def score_transaction(  # noqa: PLR0917 - the contract with the Flink job
    state: CustomerState | None,
    txn: Transaction,
    rules: RuleSet,
    merchant_risk: float,
    model: AnomalyModel | None,
    scored_at: datetime,
    supervised: Supervised = NO_SUPERVISED,
) -> tuple[CustomerState, ScoredTransaction, FraudAlert | None]:
    """Score one transaction: (state after it, the scored record, the alert or None).

    The job's path (:func:`score_transaction_json`) decoded strictly into the contracts: there is
    one scoring path, and this proves its JSON is valid (tests, the backtest's examples).
    """
    after, out = score_transaction_json(
        state, txn, rules, merchant_risk, model, scored_at, supervised
    )
    scored = decode(ScoredTransaction, out.scored)
    alert = decode(FraudAlert, out.alert) if out.alert is not None else None
    return after, scored, alert


@dataclass(slots=True, init=False)
class _Verdict:
    is_alert: bool
    fired: list[PartResult]
    listed: list[PartResult]
    model_version: str | None
    shadow_version: str | None

    def __init__(
        self,
        is_alert: bool,
        fired: list[PartResult],
        listed: list[PartResult],
        model_version: str | None,
        shadow_version: str | None,
    ) -> None:
        self.is_alert = is_alert
        self.fired = fired
        self.listed = listed
        self.model_version = model_version
        self.shadow_version = shadow_version


def _strongest_first(part: PartResult) -> tuple[float, str]:
    return -part.contribution, part.rule_id


def _verdict(  # noqa: PLR0917 - the step's inputs
    state: CustomerState | None,
    txn: Transaction,
    rules: RuleSet,
    merchant_risk: float,
    model: AnomalyModel | None,
    supervised: Supervised,
    reuse_state: bool = False,
    view: TxnView | None = None,
) -> tuple[CustomerState, Evaluation, _Verdict]:
    """What both output paths share: the state after, the evaluation and what it concludes."""
    if view is None:
        view = make_view(txn)
    after, ev = score_view(
        state, view, rules, merchant_risk, model, supervised, reuse_state=reuse_state
    )
    is_alert = ev.score >= rules.alert_threshold
    # Filtering before a stable sort gives the same list as sorting all parts and filtering;
    # most events have no part that fired, so this sorts nothing.
    fired = sorted(
        [p for p in ev.parts if p.triggered and p.contribution > 0.0], key=_strongest_first
    )
    listed = (
        (fired or sorted([p for p in ev.parts if p.contribution > 0.0], key=_strongest_first))
        if is_alert
        else []
    )
    current, shadow = supervised.current, supervised.shadow
    if current is not None:
        model_version: str | None = current.version
    else:
        model_version = model.version if model is not None and ev.ml_score is not None else None
    shadow_version = shadow.version if shadow is not None else None
    return after, ev, _Verdict(is_alert, fired, listed, model_version, shadow_version)


@dataclass(slots=True, init=False)
class JsonVerdict:
    """The job's outputs for one transaction, as contract JSON (``encode(...)`` decoded).

    A native class with its own ``__init__``, like :class:`~streamflow.scoring.scoring.PartResult`
    (one per event, docs/adr/0127).
    """

    scored: str
    """The ``transactions.scored`` value (a :class:`ScoredTransaction`)."""
    alert_id: str | None
    """The alert's id (its Kafka key), None if no alert."""
    alert: str | None
    """The ``fraud.alerts`` value (a :class:`FraudAlert`), None if no alert."""

    def __init__(self, scored: str, alert_id: str | None, alert: str | None) -> None:
        self.scored = scored
        self.alert_id = alert_id
        self.alert = alert

    def __reduce__(self) -> tuple[type[JsonVerdict], tuple[Any, ...]]:
        """Pickled as its constructor call (compiled, the default calls ``__init__()`` bare)."""
        return JsonVerdict, (self.scored, self.alert_id, self.alert)

    @property
    def is_alert(self) -> bool:
        """Whether the transaction raised an alert."""
        return self.alert is not None


def _json_default(value: object) -> str:
    """What orjson cannot write itself: decimals, as pydantic writes them (strings)."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _dumps(value: Any) -> str:
    # orjson writes datetimes as ISO 8601 like pydantic does (fraction only when non-zero, the
    # offset as +HH:MM); OPT_UTC_Z gives pydantic's "Z" for UTC. test_golden_outputs.py holds it.
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_UTC_Z).decode("utf-8")


_RC_VERSION = RuleContribution.SCHEMA_VERSION
_TR_VERSION = TriggeredRule.SCHEMA_VERSION
_ALERT_VERSION = FraudAlert.SCHEMA_VERSION


def score_transaction_json(  # noqa: PLR0917 - mirrors score_transaction
    state: CustomerState | None,
    txn: Transaction,
    rules: RuleSet,
    merchant_risk: float,
    model: AnomalyModel | None,
    scored_at: datetime,
    supervised: Supervised = NO_SUPERVISED,
    reuse_state: bool = False,
    view: TxnView | None = None,
) -> tuple[CustomerState, JsonVerdict]:
    """:func:`score_transaction` with the records as JSON built from plain values (the job's path).

    ``reuse_state``: update ``state`` in place and return it as the state after (see
    :func:`score_view`); the job passes True for the state it has just read from bytes.
    ``view``: :func:`make_view` of ``txn`` when the caller has made it already (the job reads
    the event time from it: converting an aware datetime costs ~0.6 µs).

    No pydantic model is built per event: the values are made by this package from a validated
    Transaction and RuleSet, so validating them again only costs time. tests/test_fast_path.py
    proves the JSON decodes strictly to what :func:`score_transaction` returns (docs/adr/0070).
    """
    after, ev, v = _verdict(state, txn, rules, merchant_risk, model, supervised, reuse_state, view)
    body = {
        "schema_version": ScoredTransaction.SCHEMA_VERSION,
        # The validated model's own field values: orjson writes them as pydantic would.
        "transaction": txn.__dict__,
        "fraud_score": ev.score,
        "is_alert": v.is_alert,
        "rule_contributions": [
            {
                "schema_version": _RC_VERSION,
                "rule_id": p.rule_id,
                "triggered": p.triggered,
                "score": p.score,
                "weight": p.weight,
                "contribution": p.contribution,
                "explanation": p.explanation,
            }
            for p in ev.parts
        ],
        "ml_score": ev.ml_score,
        "reasons": [p.explanation for p in v.fired],
        "rules_version": rules.version,
        "model_version": v.model_version,
        "scored_at": scored_at,
        "model_score": ev.model_score,
        "shadow_model_version": v.shadow_version,
        "shadow_score": ev.shadow_score,
        "feature_set": FEATURE_SET if ev.features is not None else None,
        "features": ev.features,
    }
    scored = _dumps(body)
    if not v.is_alert:
        return after, JsonVerdict(scored, None, None)
    alert_id = alert_id_for(txn.transaction_id, rules.version)
    alert = {
        "schema_version": _ALERT_VERSION,
        "alert_id": alert_id,
        "transaction_id": txn.transaction_id,
        "customer_id": txn.customer_id,
        "merchant_id": txn.merchant_id,
        "amount": str(txn.amount),
        "score": ev.score,
        "severity": Severity.from_score(ev.score).value,
        "triggered_rules": [
            {
                "schema_version": _TR_VERSION,
                "rule_id": p.rule_id,
                "score": p.score,
                "contribution": p.contribution,
                "explanation": p.explanation,
            }
            for p in v.listed
        ],
        "rules_version": rules.version,
        "model_version": v.model_version,
        "event_time": txn.event_time,
        "detected_at": scored_at,
    }
    return after, JsonVerdict(scored, alert_id, _dumps(alert))
