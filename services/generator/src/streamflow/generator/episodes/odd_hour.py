"""odd_hour: a skimmed card used in its home city from the small hours, large amounts (FR-004).

The first payment falls between 00:00 and 04:00 local time; ``amount`` times the mean (FR-001).
"""

from __future__ import annotations

from streamflow.generator.batch import Rows
from streamflow.generator.clock import HOUR_MS, MINUTE_MS
from streamflow.generator.episodes.builder import EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams


def episode(b: EpisodeBuilder, p: ScenarioParams, day_start: int, rows: Rows) -> None:
    """``count`` in-store payments ``gap_min`` apart, starting in the small hours."""
    ref = b.ref
    cust = b.victim()
    card = b.card(cust)
    t = int(day_start + b.rng.uniform(0.0, 4.0) * HOUR_MS)
    for _ in range(b.n(p.count)):
        store = b.city_store(int(ref.cust_city[cust]))
        b.add_in_store(
            rows, t=t, cust=cust, card=card, store=store, cents=b.cents(cust, b.u(p.amount)),
            label=1, scen=Scenario.ODD_HOUR,
        )  # fmt: skip
        t += int(b.u(p.gap_min) * MINUTE_MS)
