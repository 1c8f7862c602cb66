"""The scorer's default rules re-computed offline on a generated file, per transaction.

A reference for the distribution tests and for tuning scenarios: FR-001 amount > 3x the mean of
the customer's earlier amounts (>= 5 earlier); FR-002 > 5 transactions of the customer in the
10 minutes up to and including this one; FR-003 > 500 km from the previous transaction within
1 h; FR-004 |hour-of-day z-score| > 2 against earlier hours (>= 10 earlier); FR-005 blacklisted
card or merchant. Event-time order per customer, hours in UTC as the scorer sees them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamflow.generator.geo import haversine_km

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class RuleHits:
    """One boolean array per rule, aligned with the input rows."""

    fr001: BoolArray
    fr002: BoolArray
    fr003: BoolArray
    fr004: BoolArray
    fr005: BoolArray

    def any_rule(self) -> BoolArray:
        return np.asarray(self.fr001 | self.fr002 | self.fr003 | self.fr004 | self.fr005)

    def as_dict(self) -> dict[str, BoolArray]:
        return {
            "FR-001": self.fr001, "FR-002": self.fr002, "FR-003": self.fr003,
            "FR-004": self.fr004, "FR-005": self.fr005,
        }  # fmt: skip


def rule_hits(
    *,
    customer: list[str],
    event_ms: npt.NDArray[np.int64],
    amount: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    blacklisted: BoolArray,
) -> RuleHits:
    """Evaluate the default rules on rows given in any order."""
    n = len(customer)
    order = sorted(range(n), key=lambda i: (customer[i], int(event_ms[i]), i))
    fr1, fr2, fr3, fr4 = (np.zeros(n, dtype=bool) for _ in range(4))
    hours = (event_ms // 60_000 % 1440) / 60.0
    current = None
    for i in order:
        if customer[i] != current:
            current = customer[i]
            count, total, h_sum, h_sq = 0, 0.0, 0.0, 0.0
            window: deque[int] = deque()
            prev = -1
        if count >= 5 and amount[i] > 3.0 * total / count:
            fr1[i] = True
        window.append(int(event_ms[i]))
        while window[0] <= event_ms[i] - 600_000:
            window.popleft()
        fr2[i] = len(window) > 5
        if prev >= 0 and event_ms[i] - event_ms[prev] <= 3_600_000:
            fr3[i] = bool(haversine_km(lat[prev], lon[prev], lat[i], lon[i]) > 500.0)
        if count >= 10:
            mean = h_sum / count
            sd = max((h_sq / count - mean * mean), 0.0) ** 0.5
            fr4[i] = sd > 0 and abs(hours[i] - mean) / sd > 2.0
        count += 1
        total += float(amount[i])
        h_sum += hours[i]
        h_sq += hours[i] ** 2
        prev = i
    return RuleHits(fr1, fr2, fr3, fr4, np.asarray(blacklisted, dtype=bool))
