"""Per-merchant compromise risk learned from ``fraud.feedback``, decaying over time.

Each label adds one unit of weight (fraud or legit) that halves every ``half_life_days``. The
weights are stored relative to a reference time, so feedback arriving out of order adds the same
amount as in order. The risk is the decayed fraud share, shrunk towards zero by a prior of
:data:`PRIOR_WEIGHT` legit-like units, so one chargeback alone does not mark a merchant.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from datetime import datetime

from streamflow.events import Feedback, Label
from streamflow.scorer.customer_state import StateFormatError

PRIOR_WEIGHT = 3.0
"""Pseudo-count of legit weight: 1 fresh fraud -> risk 0.25, 3 -> 0.5, 9 -> 0.75."""

_FORMAT = struct.Struct("<Bddd")
_FORMAT_VERSION = 1
_LN2 = math.log(2.0)


@dataclass(frozen=True, slots=True)
class MerchantRisk:
    """Decayed fraud and legit label weights of one merchant, as of ``ref_time``."""

    fraud: float
    legit: float
    ref_time: float
    """POSIX seconds the weights refer to (the latest feedback time seen)."""

    def to_bytes(self) -> bytes:
        """Compact serialised form."""
        return _FORMAT.pack(_FORMAT_VERSION, self.fraud, self.legit, self.ref_time)

    @classmethod
    def from_bytes(cls, data: bytes) -> MerchantRisk:
        """Parse :meth:`to_bytes` output."""
        if len(data) != _FORMAT.size or data[0] != _FORMAT_VERSION:
            raise StateFormatError("not a merchant risk of format version 1")
        _, fraud, legit, ref_time = _FORMAT.unpack(data)
        return cls(fraud, legit, ref_time)


def _decay(seconds: float, half_life_days: float) -> float:
    return math.exp(-_LN2 * seconds / (half_life_days * 86_400.0))


def apply_label(
    risk: MerchantRisk | None, is_fraud: bool, when: float, half_life_days: float
) -> MerchantRisk:
    """Add one label observed at ``when`` (POSIX seconds)."""
    if risk is None:
        risk = MerchantRisk(0.0, 0.0, when)
    if when >= risk.ref_time:
        factor = _decay(when - risk.ref_time, half_life_days)
        fraud, legit, ref = risk.fraud * factor, risk.legit * factor, when
        unit = 1.0
    else:
        fraud, legit, ref = risk.fraud, risk.legit, risk.ref_time
        unit = _decay(risk.ref_time - when, half_life_days)
    if is_fraud:
        fraud += unit
    else:
        legit += unit
    return MerchantRisk(fraud, legit, ref)


def apply_feedback(
    risk: MerchantRisk | None, feedback: Feedback, half_life_days: float
) -> MerchantRisk:
    """Fold one ``fraud.feedback`` record into the merchant's risk."""
    return apply_label(
        risk, feedback.label is Label.FRAUD, feedback.reported_at.timestamp(), half_life_days
    )


def risk_value(risk: MerchantRisk | None, when: float, half_life_days: float) -> float:
    """The risk in [0, 1] at ``when`` (POSIX seconds)."""
    if risk is None or risk.fraud <= 0.0:
        return 0.0
    factor = _decay(when - risk.ref_time, half_life_days) if when > risk.ref_time else 1.0
    fraud = risk.fraud * factor
    return fraud / (fraud + risk.legit * factor + PRIOR_WEIGHT)


def risk_at(risk: MerchantRisk | None, when: datetime, half_life_days: float) -> float:
    """The risk in [0, 1] of a merchant at ``when`` (e.g. a transaction's event time)."""
    return risk_value(risk, when.timestamp(), half_life_days)
