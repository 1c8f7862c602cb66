"""card_drift (learning, docs/adr/0032): a card compromised for weeks, its amount drifting up.

Everything looks like the victim (home-city stores or usual online merchants, own device, usual
hours, home location) except the amount, which drifts linearly from ``amount`` to ``amount_end``
times the mean (under FR-001's 3x for most of the period). The victim's own spending goes on
meanwhile (legit traffic keeps drawing them).
"""

from __future__ import annotations

import math

from streamflow.generator.batch import Rows
from streamflow.generator.clock import DAY_MS
from streamflow.generator.episodes.builder import FAV_ONLINE_SHARE, EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams

DRIFT_NOISE = 0.06
"""Log-normal sd around the linear amount trend (keeps it rising, not a staircase)."""


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """One payment every ``gap_min`` (1-3 days) over ``period_days``."""
    ref, rng = b.ref, b.rng
    cust = b.victim()
    card = b.card(cust)
    period = b.u(p.period_days)
    first, last = b.u(p.amount), b.u(p.amount_end)
    offsets = [0.0]
    while offsets[-1] < period:
        offsets.append(offsets[-1] + max(b.u(p.gap_min), 60.0) / (24 * 60))
    # rescale the gaps so the last payment falls on the period's last day
    scale = period / offsets[-1] if offsets[-1] > 0 else 1.0
    home = int(ref.cust_city[cust])
    for offset in offsets:
        progress = offset * scale / period if period > 0 else 1.0
        multiplier = (first + (last - first) * progress) * math.exp(rng.normal(0.0, DRIFT_NOISE))
        t = b.window_time(cust, day_start + round(offset * scale) * DAY_MS)
        cents = b.cents(cust, multiplier)
        if rng.random() < ref.cust_online[cust]:
            # one of the victim's usual online merchants, else one of the legit pool
            usual, pool = ref.cust_fav_online[cust], ref.legit_online_merchants
            merchant = int(
                usual[rng.integers(0, len(usual))]
                if rng.random() < FAV_ONLINE_SHARE
                else pool[rng.integers(0, len(pool))]
            )
            b.add_online_at_home(
                rows, t=t, cust=cust, card=card, merchant=merchant, cents=cents,
                scen=Scenario.CARD_DRIFT,
            )  # fmt: skip
        else:
            b.add_in_store(
                rows, t=t, cust=cust, card=card, store=b.city_store(home), cents=cents,
                label=1, scen=Scenario.CARD_DRIFT,
            )  # fmt: skip
