"""cash_out (learning, docs/adr/0032): a card cashed out in one day at fence merchants.

``count`` online payments ``gap_min`` apart at :attr:`Reference.fence_merchants`, ``amount`` times
the mean, from the victim's own device, located at home, inside the victim's usual hours. Kept
out of feature design; the signal is the fence merchants' delayed labels and an online day busier
than the victim's usual.
"""

from __future__ import annotations

from streamflow.generator.batch import Rows
from streamflow.generator.clock import HOUR_MS, MINUTE_MS
from streamflow.generator.episodes.builder import EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """``count`` fence-merchant payments fitted inside the victim's usual hours."""
    ref, rng = b.ref, b.rng
    cust = b.victim()
    card = b.card(cust)
    gaps = [b.u(p.gap_min) * MINUTE_MS for _ in range(b.n(p.count) - 1)]
    spare_h = max(0.0, float(ref.cust_win_len[cust]) - sum(gaps) / HOUR_MS)
    t = int(day_start + (ref.cust_win_start[cust] + rng.uniform(0.0, spare_h)) * HOUR_MS)
    fence = ref.fence_merchants
    for gap in [0.0, *gaps]:
        t += int(gap)
        b.add_online_at_home(
            rows, t=t, cust=cust, card=card, merchant=int(fence[rng.integers(0, len(fence))]),
            cents=b.cents(cust, b.u(p.amount)), scen=Scenario.CASH_OUT,
        )  # fmt: skip
