"""terminal_days (learning, docs/adr/0032): a store's terminal compromised for days.

The store is an ordinary one (not a weak store, never tapped before) of a city with at least
``TERMINAL_MIN_LOCALS`` possible victims; each day ``count`` victims (locals with history, not yet
victimised) are charged once there, an amount drawn like their own legit ones (times ``amount``,
1 by default), in their usual hours. Nothing per payment is unusual: only the store's fraud count
over days (known from delayed labels) gives it away.
"""

from __future__ import annotations

import math

import numpy as np

from streamflow.generator.batch import Rows
from streamflow.generator.clock import DAY_MS
from streamflow.generator.episodes.builder import MAX_CENTS, EpisodeBuilder, NoVictimError
from streamflow.generator.scenarios import Scenario, ScenarioParams

TERMINAL_MIN_LOCALS = 30
"""Only a store in a city with this many locals to victimise is tapped (else the episode waits)."""


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """``count`` locals a day charged at one tapped store over ``period_days``."""
    ref, rng = b.ref, b.rng
    fresh = b.fresh()
    per_city = np.bincount(ref.cust_city[fresh], minlength=len(ref.cities))
    cities = np.flatnonzero(per_city >= TERMINAL_MIN_LOCALS)
    if not len(cities):
        raise NoVictimError
    # a city as likely as its share of possible victims (as if picked through a customer)
    city = int(rng.choice(cities, p=per_city[cities] / per_city[cities].sum()))
    pool = np.setdiff1d(ref.city_stores[city], ref.weak_stores)
    pool = pool[~np.isin(pool, np.fromiter(b.tapped_stores, np.int64))]
    if not len(pool):
        raise NoVictimError
    store = int(pool[rng.integers(0, len(pool))])
    b.tapped_stores.add(store)
    locals_ = np.flatnonzero(fresh & (ref.cust_city == city))
    w = ref.cust_activity[locals_]
    locals_ = rng.choice(locals_, len(locals_), replace=False, p=w / w.sum())
    taken = 0
    for day in range(max(1, math.ceil(b.u(p.period_days)))):
        for _ in range(b.n(p.count)):
            if taken >= len(locals_):
                return
            cust = int(locals_[taken])
            taken += 1
            b.victimised[cust] = True
            cents = int(min(MAX_CENTS, round(b.legit_cents(cust) * b.u(p.amount))))
            b.add_in_store(
                rows, t=b.window_time(cust, day_start + day * DAY_MS), cust=cust,
                card=b.card(cust), store=store, cents=cents, label=1, scen=Scenario.TERMINAL_DAYS,
            )  # fmt: skip
