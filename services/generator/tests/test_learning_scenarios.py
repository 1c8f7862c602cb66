"""The learning scenarios (docs/adr/0032): off by default, their signatures when on, no rule fires.

One 60k-event, 30-day data set with ``--scenarios learning`` (seed 11, 2,500 customers). Episodes
that the 30-day horizon may have cut short are left out of the span checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from streamflow.generator import cli
from streamflow.generator.batch import MOBILE, NO_DEVICE, ONLINE, POS, Batch
from streamflow.generator.clock import DAY_MS, HOUR_MS
from streamflow.generator.engine import RunSpec, Simulator, local_midnight_ms
from streamflow.generator.episodes.builder import MIN_HISTORY
from streamflow.generator.geo import haversine_km
from streamflow.generator.reference import (
    FENCE_MERCHANTS,
    Reference,
    build_reference,
    merchant_id,
)
from streamflow.generator.scenarios import (
    LEARNING_RATES,
    LEARNING_SCENARIOS,
    Scenario,
    ScenarioConfig,
)
from streamflow.generator.signatures import rule_hits

SEED, COUNT, DAYS = 11, 60_000, 30
DEFAULT_JSONL_SHA256 = "13e0693c2507339d69dfdabfa56debc8127076a4d26af213a932057cdc589dd6"
"""sha256 of the labelled JSONL of ``DEFAULT_ARGS`` written by the generator before the learning
scenarios existed: a default run must stay byte-identical (docs/adr/0032)."""
DEFAULT_ARGS = ["--seed", "7", "--count", "4000", "--days", "20", "--customers", "400", "--quiet"]


@dataclass
class Learning:
    ref: Reference
    batch: Batch
    start_ms: int
    ratio: Any
    """Each row's amount over its customer's expected amount (the FR-001 baseline)."""
    day: Any
    """Each row's local day number since the start."""


@pytest.fixture(scope="module")
def learning() -> Learning:
    ref = build_reference(SEED, 2_500, fence_merchants=FENCE_MERCHANTS)
    start = local_midnight_ms("2026-10-01")
    spec = RunSpec(seed=SEED, count=COUNT, days=DAYS, start_ms=start)
    batch = Batch.concat(list(Simulator(ref, ScenarioConfig().with_learning(), spec).chunks()))
    batch = batch.take(np.argsort(batch.seq, kind="stable"))
    ratio = batch.cents / 100.0 / ref.mean_amount(batch.cust)
    return Learning(ref, batch, start, ratio, (batch.t - start) // DAY_MS)


def _in_usual_hours(sim: Learning, rows: Any) -> Any:
    ref, b = sim.ref, sim.batch
    hour = ((b.t[rows] - sim.start_ms) % DAY_MS) / HOUR_MS
    start = ref.cust_win_start[b.cust[rows]]
    return (hour >= start) & (hour <= start + ref.cust_win_len[b.cust[rows]])


def _earlier_count(b: Batch, rows: Any) -> Any:
    return np.array([int(((b.cust == b.cust[i]) & (b.t < b.t[i])).sum()) for i in rows])


def test_learning_scenarios_are_off_by_default() -> None:
    base = ScenarioConfig()
    for scenario in LEARNING_SCENARIOS:
        assert base.params[scenario].rate == 0.0
    on = base.with_learning()
    assert {s: on.params[s].rate for s in LEARNING_SCENARIOS} == LEARNING_RATES
    assert abs(on.total_rate - base.total_rate - sum(LEARNING_RATES.values())) < 1e-12
    ref = build_reference(SEED, 300)
    spec = RunSpec(seed=SEED, count=100, days=1, start_ms=local_midnight_ms("2026-10-01"))
    with pytest.raises(ValueError, match="fence merchants"):
        Simulator(ref, on, spec)


def test_default_run_is_byte_identical_to_before(tmp_path: Path) -> None:
    default, explicit = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert cli.main([*DEFAULT_ARGS, "--labelled-out", str(default)]) == 0
    assert cli.main([*DEFAULT_ARGS, "--scenarios", "default", "--labelled-out", str(explicit)]) == 0
    assert hashlib.sha256(default.read_bytes()).hexdigest() == DEFAULT_JSONL_SHA256
    assert explicit.read_bytes() == default.read_bytes()


def test_fence_merchants_are_appended_without_moving_anything() -> None:
    plain = build_reference(5, 500)
    fenced = build_reference(5, 500, fence_merchants=FENCE_MERCHANTS)
    assert len(plain.fence_merchants) == 0
    assert len(fenced.fence_merchants) == FENCE_MERCHANTS
    for name in ("merchant_category", "merchant_web_store", "store_merchant", "store_city"):
        before, after = getattr(plain, name), getattr(fenced, name)
        assert np.array_equal(after[: len(before)], before), name
    assert np.array_equal(fenced.cust_fav_online, plain.cust_fav_online)
    fence = set(fenced.fence_merchants.tolist())
    assert fenced.merchant_online[fenced.fence_merchants].all()
    for other in (fenced.ring_merchants, fenced.blacklisted_merchants,
                  fenced.legit_online_merchants):  # fmt: skip
        assert not fence & set(other.tolist())
    assert (fenced.store_number[fenced.merchant_web_store[fenced.fence_merchants]] == 0).all()


def test_no_rule_is_designed_to_fire(learning: Learning) -> None:
    ref, b = learning.ref, learning.batch
    blacklisted = ref.card_blocked[b.card] | np.isin(
        ref.store_merchant[b.store], ref.blacklisted_merchants
    )
    hits = rule_hits(customer=b.cust.tolist(), event_ms=b.t, amount=b.cents / 100.0,
                     lat=np.round(b.lat, 5), lon=np.round(b.lon, 5),
                     blacklisted=blacklisted)  # fmt: skip
    for scenario in LEARNING_SCENARIOS:
        rows = b.scen == scenario
        # every planned fraud counts toward the rate, the horizon cuts some: at most the rate
        assert 20 <= rows.sum() <= 1.1 * LEARNING_RATES[scenario] * COUNT, scenario
        for rule in (hits.fr001, hits.fr002, hits.fr003, hits.fr005):
            assert rule[rows].mean() < 0.02, scenario
        assert hits.fr004[rows].mean() < 0.1, scenario  # legit customers sit at ~2%
        assert _in_usual_hours(learning, np.flatnonzero(rows)).all(), scenario
    # the victims' (and everyone's) legit spending still never reaches a fence merchant
    assert not np.isin(ref.store_merchant[b.store[b.label == 0]], ref.fence_merchants).any()
    assert np.array_equal(b.label == 1, b.scen > 0)


def test_card_drift_signature(learning: Learning) -> None:
    ref, b, ratio, day = learning.ref, learning.batch, learning.ratio, learning.day
    rows = np.flatnonzero(b.scen == Scenario.CARD_DRIFT)
    # ordinary-looking: home city or the usual online pool, own device, near home, under 3x
    pos = rows[b.chan[rows] == POS]
    online = rows[b.chan[rows] != POS]
    assert len(pos) > len(online) > 0
    assert (ref.store_city[b.store[pos]] == ref.cust_city[b.cust[pos]]).all()
    assert (b.dev[pos] == NO_DEVICE).all()
    assert np.isin(ref.store_merchant[b.store[online]], ref.legit_online_merchants).all()
    assert (b.dev[online] // 4 == b.cust[online]).all()
    assert (b.dev[online] % 4 < ref.cust_devices[b.cust[online]]).all()
    km = haversine_km(ref.cust_lat[b.cust[rows]], ref.cust_lon[b.cust[rows]], b.lat[rows],
                      b.lon[rows])  # fmt: skip
    assert km.max() < 40
    assert (ratio[rows] < 3.0).mean() > 0.9
    assert (_earlier_count(b, rows[:40]) >= MIN_HISTORY).all()
    long_ones = 0
    for card in np.unique(b.card[rows]):
        ep = rows[b.card[rows] == card]
        ep = ep[np.argsort(b.t[ep], kind="stable")]
        first, span = day[ep[0]], day[ep[-1]] - day[ep[0]]
        assert len(np.unique(b.cust[ep])) == 1
        assert (np.diff(day[ep]) <= 4).all()  # about one payment every 1-3 days
        # 14-28 days, unless the horizon cut it (then it runs to within 4 days of the end)
        assert min(14, DAYS - 5 - first) <= span <= 29
        assert 0.85 < ratio[ep[0]] < 1.55  # starts around 1.0-1.3x the mean
        if span < 14:
            continue
        long_ones += 1
        # ... and drifts up (at least half-way through), to around 2.0-2.8x by the end
        assert np.corrcoef(b.t[ep], ratio[ep])[0, 1] > 0.7
        assert ratio[ep[-1]] > 1.15 * ratio[ep[0]]
        if day[ep[-1]] <= DAYS - 6:  # surely not cut by the horizon
            assert 1.7 < ratio[ep[-1]] < 3.3
        # the victim's own spending goes on during the compromise
        cust = b.cust[ep[0]]
        during = (b.cust == cust) & (b.label == 0) & (b.t > b.t[ep[0]]) & (b.t < b.t[ep[-1]])
        assert during.sum() >= 3
    assert long_ones >= 3


def test_terminal_days_signature(learning: Learning) -> None:
    ref, b, ratio, day = learning.ref, learning.batch, learning.ratio, learning.day
    rows = np.flatnonzero(b.scen == Scenario.TERMINAL_DAYS)
    assert (b.chan[rows] == POS).all()
    assert not np.isin(b.store[rows], ref.weak_stores).any()
    # local customers, each charged once, with history, at amounts like their own
    assert (ref.store_city[b.store[rows]] == ref.cust_city[b.cust[rows]]).all()
    assert len(np.unique(b.cust[rows])) == len(rows)
    assert (_earlier_count(b, rows[:40]) >= MIN_HISTORY).all()
    assert 0.75 < np.median(ratio[rows]) < 1.2
    assert (ratio[rows] < 2.5).mean() > 0.97
    long_ones = 0
    for store in np.unique(b.store[rows]):
        ep = rows[b.store[rows] == store]
        days = np.unique(day[ep])
        assert (np.diff(days) == 1).all()  # charged every day of the compromise
        assert np.bincount(day[ep]).max() <= 4
        if len(days) >= 10 and len(ep) >= 15:
            long_ones += 1
    assert long_ones >= 1


def test_cash_out_signature(learning: Learning) -> None:
    ref, b, ratio = learning.ref, learning.batch, learning.ratio
    rows = np.flatnonzero(b.scen == Scenario.CASH_OUT)
    assert np.isin(ref.store_merchant[b.store[rows]], ref.fence_merchants).all()
    assert np.isin(b.chan[rows], (ONLINE, MOBILE)).all()
    # the customer's own, known device: one they also use for legit payments or could
    assert (b.dev[rows] // 4 == b.cust[rows]).all()
    assert (b.dev[rows] % 4 < ref.cust_devices[b.cust[rows]]).all()
    km = haversine_km(ref.cust_lat[b.cust[rows]], ref.cust_lon[b.cust[rows]], b.lat[rows],
                      b.lon[rows])  # fmt: skip
    assert km.max() < 10
    assert (ratio[rows] > 1.19).all()
    assert (ratio[rows] < 2.01).all()
    for card in np.unique(b.card[rows]):
        ep = rows[b.card[rows] == card]
        t = np.sort(b.t[ep])
        assert 1 <= len(ep) <= 5
        assert len(np.unique(learning.day[ep])) == 1
        gaps_min = np.diff(t) / 60_000
        assert ((gaps_min >= 20) & (gaps_min <= 90)).all()


def test_perturb_covers_the_learning_parameters() -> None:
    base = ScenarioConfig().with_learning()
    shifted = base.perturbed(3)
    for scenario in LEARNING_SCENARIOS:
        p, q = base.params[scenario], shifted.params[scenario]
        assert q.rate != p.rate
        assert q.amount != p.amount
    drift, terminal = Scenario.CARD_DRIFT, Scenario.TERMINAL_DAYS
    assert shifted.params[drift].amount_end != base.params[drift].amount_end
    assert shifted.params[drift].period_days != base.params[drift].period_days
    assert shifted.params[drift].gap_min != base.params[drift].gap_min
    assert shifted.params[terminal].period_days != base.params[terminal].period_days
    assert shifted.params[terminal].count != base.params[terminal].count
    # the rule-shaped scenarios perturb exactly as before the learning ones existed
    old = ScenarioConfig().perturbed(3)
    for scenario in Scenario:
        if scenario is not Scenario.LEGIT and scenario not in LEARNING_SCENARIOS:
            assert shifted.params[scenario] == old.params[scenario]


def test_cli_learning_option_writes_the_new_scenarios(tmp_path: Path) -> None:
    labelled = tmp_path / "learn.parquet"
    args = ["--seed", "5", "--count", "30000", "--days", "30", "--customers", "1500", "--quiet",
            "--scenarios", "learning", "--labelled-out", str(labelled)]  # fmt: skip
    assert cli.main(args) == 0
    table = pq.read_table(labelled).to_pylist()
    scenarios = {row["scenario"] for row in table}
    assert {s.label for s in LEARNING_SCENARIOS} <= scenarios
    ref = build_reference(5, 1500, fence_merchants=FENCE_MERCHANTS)
    fence = {merchant_id(int(m)) for m in ref.fence_merchants}
    for row in table:
        assert (row["merchant_id"] in fence) == (row["scenario"] == "cash_out")
        assert row["label"] == (row["scenario"] != "legit")
    # --fraud-rate scales the learning scenarios with the others
    ns = cli.build_parser().parse_args(["--scenarios", "learning", "--fraud-rate", "0.01"])
    cfg = cli.scenario_config(ns)
    assert abs(cfg.total_rate - 0.01) < 1e-12
    assert cfg.params[Scenario.CARD_DRIFT].rate > 0
