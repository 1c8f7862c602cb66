"""account_takeover: leaked credentials, escalating online spend from a new device (FR-001).

From a far city on a fraudster's mobile device, starting inside the victim's usual hours, hours
apart; each amount is ``growth`` times the previous multiple of the victim's mean.
"""

from __future__ import annotations

from streamflow.generator.batch import MOBILE, Rows
from streamflow.generator.clock import MINUTE_MS
from streamflow.generator.episodes.builder import EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """A burst of ``count`` online payments with growing amounts."""
    ref, rng = b.ref, b.rng
    cust = b.victim()
    card = b.card(cust)
    city = b.far_city(int(ref.cust_city[cust]), p.distance_km)
    lat, lon = b.jitter(float(ref.cities.lat[city]), float(ref.cities.lon[city]))
    dev, t = b.new_device(), b.window_time(cust, day_start)
    multiplier, growth = b.u(p.amount), b.u(p.growth)
    for _ in range(b.n(p.count)):
        merchant = int(ref.legit_online_merchants[rng.integers(0, len(ref.legit_online_merchants))])
        b.add_remote(
            rows, t=t, cust=cust, card=card, store=int(ref.merchant_web_store[merchant]),
            cents=b.cents(cust, multiplier), chan=MOBILE, lat=lat, lon=lon, dev=dev,
            scen=Scenario.ACCOUNT_TAKEOVER,
        )  # fmt: skip
        multiplier *= growth
        t += int(b.u(p.gap_min) * MINUTE_MS)
