"""The supervised model's feature vector: the anomaly features plus point-in-time context.

Built from the customer's state and the context *before* the transaction (see
:mod:`streamflow.scoring.context`), so a training row holds exactly what the scorer saw. Every
entry has a sentence (:func:`describe`) so an alert can name its top features in words.
"""

from __future__ import annotations

import math

from streamflow.scoring.context import WINDOW_DAYS, LabelContext
from streamflow.scoring.customer_state import CustomerState
from streamflow.scoring.features import FEATURE_NAMES, feature_vector
from streamflow.scoring.view import TxnView

_W = tuple(f"{d}d" for d in WINDOW_DAYS)
CONTEXT_FEATURE_NAMES: tuple[str, ...] = (
    *(f"customer_count_{w}" for w in _W),
    *(f"customer_log_mean_{w}" for w in _W),
    *(f"log_ratio_to_mean_{w}" for w in _W),
    *(f"merchant_frauds_{w}" for w in _W),
    "card_frauds_90d",
    "card_log_days_since_fraud",
    *(f"merchant_log_payments_{w}" for w in _W),
    *(f"merchant_fraud_share_{w}" for w in _W),
)
SUPERVISED_FEATURE_NAMES: tuple[str, ...] = FEATURE_NAMES + CONTEXT_FEATURE_NAMES
"""Names of :func:`supervised_vector`'s entries, in order (stored in the model and checked)."""
FEATURE_SET = "sf-3"
"""Names this order of features on scored records (bump it with any change to the names)."""

NO_FRAUD_DAYS = 365.0
"""The days-since-fraud feature's value for a card with no confirmed fraud."""


def context_vector(state: CustomerState | None, labels: LabelContext, txn: TxnView) -> list[float]:
    """The context entries for ``txn`` from the customer's state before it and the known labels."""
    now, amount = txn.epoch, txn.amount
    if state is None:
        counts, sums = [0.0] * len(WINDOW_DAYS), [0.0] * len(WINDOW_DAYS)
    else:
        counts, sums = state.spending.at(now)
    means = [s / c if c > 1e-9 else 0.0 for c, s in zip(counts, sums, strict=True)]
    ratios = [math.log(amount / m) if m > 0.0 and amount > 0.0 else 0.0 for m in means]
    last = labels.card_last_fraud
    days_since = NO_FRAUD_DAYS if math.isnan(last) else min((now - last) / 86_400.0, NO_FRAUD_DAYS)
    out = counts  # a fresh list either way: extended in place (once per event)
    out.extend([math.log1p(m) for m in means])
    out.extend(ratios)
    out.extend([float(f) for f in labels.merchant_frauds])
    out.append(float(labels.card_frauds))
    out.append(math.log1p(max(days_since, 0.0)))
    payments = labels.merchant_payments
    out.extend([math.log1p(p) for p in payments])
    out.extend(
        [f / p if p > 0 else 0.0 for f, p in zip(labels.merchant_frauds, payments, strict=True)]
    )
    return out


def supervised_vector(
    state: CustomerState | None,
    labels: LabelContext,
    txn: TxnView,
    base: list[float] | None = None,
) -> list[float]:
    """The supervised model's input for ``txn`` (see :data:`SUPERVISED_FEATURE_NAMES`);
    ``base`` is the anomaly features' :func:`feature_vector` when the caller has it already."""
    head = base if base is not None else feature_vector(state, txn)
    return head + context_vector(state, labels, txn)


def describe(name: str, value: float) -> str:
    """A sentence an analyst reads for one feature's value."""
    if name.startswith("merchant_frauds_"):
        return f"{value:.0f} frauds confirmed at this merchant in the last {name[16:-1]} days"
    if name.startswith("merchant_log_payments_"):
        days = name[22:-1]
        return f"{math.expm1(value):,.0f} payments at this merchant in the {days} days before today"
    if name.startswith("merchant_fraud_share_"):
        return (
            f"frauds confirmed at this merchant in the last {name[21:-1]} days are "
            f"{value:.1%} of its payments"
        )
    if name.startswith("log_ratio_to_mean_"):
        return f"amount {math.exp(value):.1f}x this customer's {name[18:-1]}-day mean"
    if name.startswith("customer_count_"):
        return f"{value:.1f} payments by this customer over ~{name[15:-1]} days (time-weighted)"
    if name.startswith("customer_log_mean_"):
        return f"this customer's {name[18:-1]}-day mean amount is {math.expm1(value):,.2f}"
    return _BASE_TEXT.get(name, name + " = {:.2f}").format(_BASE_SHOWN.get(name, _same)(value))


def _same(value: float) -> float:
    return value


_BASE_SHOWN = {
    "log_amount": math.expm1,
    "log_ratio_to_mean": math.exp,
    "log_history": math.expm1,
    "log_gap_seconds": lambda v: math.expm1(v) / 60.0,
    "log_speed_kmh": math.expm1,
    "log_distance_km": math.expm1,
    "card_log_days_since_fraud": math.expm1,
}
_BASE_TEXT = {
    "log_amount": "amount {:,.2f}",
    "log_ratio_to_mean": "amount {:.1f}x this customer's average",
    "amount_z": "amount {:.1f} standard deviations from this customer's average",
    "log_history": "{:.0f} earlier payments by this customer",
    "hour_z": "hour {:.1f} spreads from this customer's usual hour",
    "log_gap_seconds": "{:,.0f} minutes since this customer's previous payment",
    "log_speed_kmh": "{:,.0f} km/h from the previous located payment",
    "log_distance_km": "{:,.0f} km from the previous located payment",
    "count_10m": "{:.0f} earlier payments in the last 10 minutes",
    "count_1h": "{:.0f} earlier payments in the last hour",
    "new_device": "new device: {:.0f}",
    "remote_channel": "online or mobile payment: {:.0f}",
    "same_merchant_as_last": "same merchant as the previous payment: {:.0f}",
    "card_frauds_90d": "{:.0f} frauds confirmed on this card in the last 90 days",
    "card_log_days_since_fraud": "{:.0f} days since the last confirmed fraud on this card",
}
