"""card_testing: a bot tries one stolen card 50-100 times in minutes with tiny amounts (FR-002).

From a far city, a fraudster's device, one legit online merchant; the amounts are absolute BRL.
"""

from __future__ import annotations

from streamflow.generator.batch import ONLINE, Rows
from streamflow.generator.clock import DAY_MS, MINUTE_MS
from streamflow.generator.episodes.builder import EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """One card tested in a burst starting at a random time of the day."""
    ref, rng = b.ref, b.rng
    cust = b.victim()
    card = b.card(cust)
    city = b.far_city(int(ref.cust_city[cust]), p.distance_km)
    lat, lon = b.jitter(float(ref.cities.lat[city]), float(ref.cities.lon[city]))
    merchant = int(ref.legit_online_merchants[rng.integers(0, len(ref.legit_online_merchants))])
    store, dev = int(ref.merchant_web_store[merchant]), b.new_device()
    t = int(day_start + rng.uniform(0, DAY_MS))
    for _ in range(b.n(p.count)):
        cents = max(1, round(b.u(p.amount) * 100))
        b.add_remote(
            rows, t=t, cust=cust, card=card, store=store, cents=cents, chan=ONLINE,
            lat=lat, lon=lon, dev=dev, scen=Scenario.CARD_TESTING,
        )  # fmt: skip
        t += int(b.u(p.gap_min) * MINUTE_MS)
