"""rule_evasion: a fraud ring that stays just under every rule's threshold.

At most five mobile payments at ring merchants minutes apart, at an hour z of 1.4-1.85 of the
victim's own hour distribution (FR-004 fires above 2), ``distance_km`` from home, amounts under
FR-001's bar: no single rule fires (left to the model and merchant risk).
"""

from __future__ import annotations

import math

from streamflow.generator.batch import MOBILE, Rows
from streamflow.generator.clock import HOUR_MS, MINUTE_MS
from streamflow.generator.episodes.builder import HOUR_SHAPE, EpisodeBuilder
from streamflow.generator.geo import offset_point
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """Up to five ring-merchant payments, each under the rules' bars."""
    ref, rng = b.ref, b.rng
    cust = b.victim()
    card = b.card(cust)
    # hour z in [1.4, 1.85] of the customer's own hour distribution (FR-004 fires above 2)
    sd = ref.cust_win_len[cust] / (2 * math.sqrt(2 * HOUR_SHAPE + 1))
    hour = ref.cust_win_start[cust] + ref.cust_win_len[cust] / 2 + rng.uniform(1.4, 1.85) * sd
    t = int(day_start + hour * HOUR_MS)
    lat, lon = offset_point(
        float(ref.cust_lat[cust]),
        float(ref.cust_lon[cust]),
        b.u(p.distance_km),
        float(rng.uniform(0, 2 * math.pi)),
    )
    dev = b.new_device()
    for _ in range(min(5, b.n(p.count))):
        merchant = int(ref.ring_merchants[rng.integers(0, len(ref.ring_merchants))])
        b.add_remote(
            rows, t=t, cust=cust, card=card, store=int(ref.merchant_web_store[merchant]),
            cents=b.cents(cust, b.u(p.amount)), chan=MOBILE, lat=lat, lon=lon, dev=dev,
            scen=Scenario.RULE_EVASION,
        )  # fmt: skip
        t += int(b.u(p.gap_min) * MINUTE_MS)
