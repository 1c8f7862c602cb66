"""Realism and signatures of the simulated stream (one 60k-event, 30-day data set)."""

from datetime import UTC, datetime
from typing import Any

import numpy as np

from streamflow.generator.batch import POS
from streamflow.generator.clock import DAY_MS, HOUR_MS
from streamflow.generator.engine import LOCAL_OFFSET_MS
from streamflow.generator.geo import haversine_km
from streamflow.generator.reference import PROFILES
from streamflow.generator.scenarios import Scenario, ScenarioConfig
from streamflow.generator.signatures import rule_hits


def _local_hour(t: Any) -> Any:
    return ((t - LOCAL_OFFSET_MS) // HOUR_MS) % 24


def _hits(sim: Any) -> Any:
    b, ref = sim.batch, sim.ref
    blacklisted = ref.card_blocked[b.card] | np.isin(
        ref.store_merchant[b.store], ref.blacklisted_merchants
    )
    return rule_hits(
        customer=b.cust.tolist(),
        event_ms=b.t,
        amount=b.cents / 100.0,
        lat=np.round(b.lat, 5),
        lon=np.round(b.lon, 5),
        blacklisted=blacklisted,
    )


def test_exact_count_and_scenario_rates(simulated: Any) -> None:
    b = simulated.batch
    assert len(b) == 60_000
    assert len(np.unique(b.seq)) == len(b)
    counts = np.bincount(b.scen, minlength=len(Scenario))
    for scenario, params in ScenarioConfig().params.items():
        expected = params.rate * len(b)
        # card testing comes in bursts of 50-100, so its count is coarser
        slack = 100 if scenario is Scenario.CARD_TESTING else max(10, 0.15 * expected)
        assert abs(counts[scenario] - expected) <= slack, (scenario, counts[scenario], expected)
    assert 0.01 <= b.label.mean() <= 0.02
    assert np.array_equal(b.label == 1, b.scen > 0)


def test_amount_quantiles_follow_each_profile(simulated: Any) -> None:
    b, ref = simulated.batch, simulated.ref
    legit = b.label == 0
    medians = []
    for p, (_name, _share, median, _sigma, _online) in enumerate(PROFILES):
        amounts = b.cents[legit & (ref.cust_profile[b.cust] == p)] / 100
        q10, q50, q90 = np.quantile(amounts, [0.1, 0.5, 0.9])
        assert 0.75 * median < q50 < 1.3 * median
        # spread = within-customer log-normal sigma plus the customers' own medians
        assert 1.5 < q90 / q10 < 3.5
        medians.append(q50)
    assert medians == sorted(medians)
    assert (b.cents[legit] >= 200).all()


def test_hour_of_day_histogram_is_diurnal(simulated: Any) -> None:
    b = simulated.batch
    hours = _local_hour(b.t[b.label == 0])
    hist = np.bincount(hours, minlength=24) / len(hours)
    assert hist[0:6].sum() == 0  # legit customers sleep (windows 06:00-21:00 local)
    assert hist[21:].sum() == 0
    assert hist[12:18].sum() > 2 * hist[6:9].sum()  # afternoon peak, quiet early morning
    odd = _local_hour(b.t[b.scen == Scenario.ODD_HOUR])
    assert (odd < 7).all()


def test_weekly_seasonality(simulated: Any) -> None:
    b = simulated.batch
    day = (b.t - simulated.start_ms) // DAY_MS
    weekday0 = datetime.fromtimestamp((simulated.start_ms - LOCAL_OFFSET_MS) / 1000, UTC).weekday()
    per_weekday = np.bincount((day + weekday0) % 7, minlength=7) / np.bincount(
        (np.arange(30) + weekday0) % 7, minlength=7
    )
    assert per_weekday[5] > 1.3 * per_weekday[6]  # Saturday busier than Sunday


def test_merchant_affinity_and_locality(simulated: Any) -> None:
    b, ref = simulated.batch, simulated.ref
    pos = (b.label == 0) & (b.chan == POS)
    favourite = (ref.cust_fav_stores[b.cust[pos]] == b.store[pos][:, None]).any(axis=1)
    assert 0.75 < favourite.mean() < 0.9
    km = haversine_km(ref.cust_lat[b.cust[pos]], ref.cust_lon[b.cust[pos]], b.lat[pos], b.lon[pos])
    assert np.quantile(km, 0.9) < 30
    assert km.max() < 300
    assert not np.isin(ref.store_merchant[b.store[b.label == 0]], ref.blacklisted_merchants).any()
    assert not ref.card_blocked[b.card[b.label == 0]].any()


def test_late_events_are_out_of_order(simulated: Any) -> None:
    out_of_order = 0
    for chunk in simulated.chunks:
        out_of_order += int((np.diff(chunk.t) < 0).sum())
    assert 0.002 * 60_000 < out_of_order < 0.03 * 60_000


def test_each_scenario_shows_its_signature(simulated: Any) -> None:
    b = simulated.batch
    hits = _hits(simulated)

    def share(rule: Any, scenario: Scenario) -> float:
        return float(rule[b.scen == scenario].mean())

    assert share(hits.fr002, Scenario.CARD_TESTING) > 0.85
    assert (b.cents[b.scen == Scenario.CARD_TESTING] <= 600).all()
    assert share(hits.fr001, Scenario.ACCOUNT_TAKEOVER) > 0.9
    assert share(hits.fr003, Scenario.IMPOSSIBLE_TRAVEL) > 0.95
    assert share(hits.fr004, Scenario.ODD_HOUR) > 0.7
    assert share(hits.fr001, Scenario.ODD_HOUR) > 0.85
    assert share(hits.fr001, Scenario.COMPROMISED_TERMINAL) > 0.9
    assert np.isin(
        b.store[b.scen == Scenario.COMPROMISED_TERMINAL], simulated.ref.weak_stores
    ).all()
    assert share(hits.fr005, Scenario.BLACKLIST) == 1.0
    # the evasive scenario stays under every single rule ...
    assert share(hits.any_rule(), Scenario.RULE_EVASION) < 0.3
    # ... and legit customers rarely trip any rule (and never two at once)
    legit = b.label == 0
    for rule in (hits.fr001, hits.fr002, hits.fr003, hits.fr005):
        assert rule[legit].mean() < 0.003
    assert hits.fr004[legit].mean() < 0.03
    together = sum(r.astype(int) for r in hits.as_dict().values())
    assert (together[legit] >= 2).mean() < 0.001


def test_same_seed_same_stream(simulated: Any) -> None:
    from streamflow.generator.engine import RunSpec, Simulator

    spec = RunSpec(seed=simulated.seed, count=60_000, days=30, start_ms=simulated.start_ms,
                   late_rate=0.01)  # fmt: skip
    first = next(iter(Simulator(simulated.ref, ScenarioConfig(), spec).chunks()))
    assert np.array_equal(first.t, simulated.chunks[0].t)
    assert np.array_equal(first.cents, simulated.chunks[0].cents)


def test_perturb_is_seeded_and_shifts_every_scenario() -> None:
    base = ScenarioConfig()
    a, b, c = base.perturbed(1), base.perturbed(1), base.perturbed(2)
    assert a == b
    assert a != c
    for scenario, params in base.params.items():
        shifted = a.params[scenario]
        # the learning scenarios are off (rate 0) by default; perturbing keeps them off
        assert shifted.rate != params.rate or params.rate == 0.0
        assert 0.7 * params.rate <= shifted.rate <= 1.3 * params.rate
        assert shifted.amount != params.amount
    assert abs(base.scaled(0.01).total_rate - 0.01) < 1e-12
    assert base.describe()["card_testing"]["rate"] == 0.003
