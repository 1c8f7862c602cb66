"""impossible_travel: a cloned card used far away minutes after a genuine purchase (FR-003).

The first payment (at one of the victim's favourite stores, a legit amount) is not fraud; each
next one is in a city ``distance_km`` from the previous, ``gap_min`` later.
"""

from __future__ import annotations

from streamflow.generator.batch import Rows
from streamflow.generator.clock import MINUTE_MS
from streamflow.generator.episodes.builder import EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """One legit payment, then ``count`` in-store frauds hopping from city to city."""
    ref = b.ref
    cust = b.victim()
    card = b.card(cust)
    t = b.window_time(cust, day_start)
    store = int(ref.cust_fav_stores[cust, b.rng.integers(0, ref.cust_fav_stores.shape[1])])
    b.add_in_store(
        rows, t=t, cust=cust, card=card, store=store, cents=b.legit_cents(cust), label=0, scen=0
    )
    city = int(ref.cust_city[cust])
    for _ in range(b.n(p.count)):
        city = b.far_city(city, p.distance_km)
        store = b.city_store(city)
        t += int(b.u(p.gap_min) * MINUTE_MS)
        b.add_in_store(
            rows, t=t, cust=cust, card=card, store=store, cents=b.cents(cust, b.u(p.amount)),
            label=1, scen=Scenario.IMPOSSIBLE_TRAVEL,
        )  # fmt: skip
