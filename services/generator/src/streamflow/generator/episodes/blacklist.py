"""blacklist: a stolen (blacklisted) card, or a victim's card at a blacklisted merchant (FR-005).

Half the episodes (when there are blacklisted cards) use a stolen card ``count`` times at legit
online merchants; the others charge a victim's card once at a blacklisted merchant. Both from a
fraudster's device 500-4,000 km from the card holder's home.
"""

from __future__ import annotations

from streamflow.generator.batch import ONLINE, Rows
from streamflow.generator.clock import DAY_MS, MINUTE_MS
from streamflow.generator.episodes.builder import EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """A stolen card's online payments, or one payment at a blacklisted merchant."""
    ref, rng = b.ref, b.rng
    blocked = ref.blacklisted_card_indices()
    stolen_card = len(blocked) > 0 and rng.random() < 0.5
    if stolen_card:
        card = int(blocked[rng.integers(0, len(blocked))])
        cust, n = int(ref.card_cust[card]), b.n(p.count)
        pool = ref.legit_online_merchants
    else:
        cust = b.victim()
        card, n = b.card(cust), 1
        pool = ref.blacklisted_merchants
    city = b.far_city(int(ref.cust_city[cust]), (500.0, 4000.0))
    lat, lon = b.jitter(float(ref.cities.lat[city]), float(ref.cities.lon[city]))
    dev, t = b.new_device(), int(day_start + rng.uniform(0, DAY_MS))
    for _ in range(n):
        merchant = int(pool[rng.integers(0, len(pool))])
        b.add_remote(
            rows, t=t, cust=cust, card=card, store=int(ref.merchant_web_store[merchant]),
            cents=b.cents(cust, b.u(p.amount)), chan=ONLINE, lat=lat, lon=lon, dev=dev,
            scen=Scenario.BLACKLIST,
        )  # fmt: skip
        t += int(rng.uniform(5, 90) * MINUTE_MS)
