"""compromised_terminal: a tampered terminal charges a card again, larger, after a real purchase.

Each victim (a local with history) pays a legit amount at one weak store on some day of a 3-8 day
period; ``gap_min`` later the terminal charges the card a multiple of their mean (FR-001).
"""

from __future__ import annotations

import numpy as np

from streamflow.generator.batch import Rows
from streamflow.generator.clock import DAY_MS, MINUTE_MS
from streamflow.generator.episodes.builder import EpisodeBuilder, NoVictimError
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """Up to ``count`` locals: a legit payment then a fraud each, at one weak store."""
    ref, rng = b.ref, b.rng
    fresh = b.fresh()
    for store in rng.permutation(ref.weak_stores).tolist():
        locals_ = np.flatnonzero(fresh & (ref.cust_city == ref.store_city[store]))
        if len(locals_):
            break
    else:
        raise NoVictimError
    locals_ = rng.permutation(locals_)
    period_days = rng.uniform(3.0, 8.0)
    for k in range(min(b.n(p.count), len(locals_))):
        cust = int(locals_[k])
        b.victimised[cust] = True
        card = b.card(cust)
        day = int(rng.uniform(0, period_days))
        t = b.window_time(cust, day_start + day * DAY_MS)
        b.add_in_store(
            rows, t=t, cust=cust, card=card, store=store, cents=b.legit_cents(cust), label=0,
            scen=0,
        )  # fmt: skip
        t += int(b.u(p.gap_min) * MINUTE_MS)
        b.add_in_store(
            rows, t=t, cust=cust, card=card, store=store, cents=b.cents(cust, b.u(p.amount)),
            label=1, scen=Scenario.COMPROMISED_TERMINAL,
        )  # fmt: skip
