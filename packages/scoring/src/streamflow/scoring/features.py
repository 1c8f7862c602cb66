"""The ML feature vector, built from the customer's state before the transaction, and geometry.

The features use fixed windows (not the rules' run-time thresholds) so a trained model keeps its
meaning whatever rules are published.
"""

from __future__ import annotations

import math

from streamflow.events import Transaction
from streamflow.scoring.customer_state import CustomerState
from streamflow.scoring.state_config import MIN_TRAVEL_HOURS, NO_HISTORY_GAP_SECONDS
from streamflow.scoring.view import TxnView, make_view

EARTH_RADIUS_KM = 6_371.0088

FEATURE_NAMES: tuple[str, ...] = (
    "log_amount",
    "log_ratio_to_mean",
    "amount_z",
    "log_history",
    "hour_z",
    "log_gap_seconds",
    "log_speed_kmh",
    "log_distance_km",
    "count_10m",
    "count_1h",
    "new_device",
    "remote_channel",
    "same_merchant_as_last",
)
"""Names of :func:`feature_vector`'s entries, in order (stored in the model file and checked)."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2.0) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def travel(state: CustomerState | None, txn: TxnView) -> tuple[float, float]:
    """Distance (km) and hours since the customer's last located payment; (0, nan) if unknown."""
    if state is None or math.isnan(state.loc_time) or not txn.has_location:
        return 0.0, math.nan
    km = haversine_km(state.lat, state.lon, txn.lat, txn.lon)
    return km, abs(txn.epoch - state.loc_time) / 3_600.0


def feature_vector(state: CustomerState | None, txn: TxnView) -> list[float]:
    """The model's input for ``txn`` given the state before it (see :data:`FEATURE_NAMES`)."""
    amount = txn.amount
    if state is None or state.count == 0:
        first = [math.log1p(amount), 0.0, 0.0, 0.0, 0.0, math.log1p(NO_HISTORY_GAP_SECONDS)]
        return [
            *first,
            0.0,
            0.0,
            0.0,
            0.0,
            float(txn.device >= 0),
            float(txn.channel != "pos"),
            0.0,
        ]
    mean = state.mean
    ratio = math.log(amount / mean) if mean > 0.0 else 0.0
    std = state.std
    z = min(max((amount - mean) / std, -10.0), 50.0) if std > 0.0 else 0.0
    hour_z = state.hour_z(txn.hour)[0] if state.count > 1 else 0.0
    gap = abs(txn.epoch - state.last_time) if not math.isnan(state.last_time) else 0.0
    km, hours = travel(state, txn)
    speed = km / max(hours, MIN_TRAVEL_HOURS) if not math.isnan(hours) else 0.0
    return [
        math.log1p(amount),
        ratio,
        z,
        math.log1p(state.count),
        hour_z,
        math.log1p(gap),
        math.log1p(speed),
        math.log1p(km),
        float(state.count_in_window(txn.epoch, 600.0)),
        float(state.count_in_window(txn.epoch, 3_600.0)),
        float(txn.device >= 0 and txn.device not in state.devices),
        float(txn.channel != "pos"),
        float(txn.merchant == state.last_merchant),
    ]


def features(state: CustomerState | None, txn: Transaction) -> list[float]:
    """The model's feature vector for a decoded transaction (see :data:`FEATURE_NAMES`)."""
    return feature_vector(state, make_view(txn))
