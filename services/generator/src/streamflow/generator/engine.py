"""The simulation: legit behaviour plus fraud episodes, one local day (BRT) at a time.

Each day gets its share of ``count`` (weekly seasonality), fraud episodes are started so that each
scenario's cumulative count follows its configured rate, and legit transactions fill the rest.
Each scenario's episode is a module of ``streamflow.generator.episodes`` that draws through one
shared row builder (``episodes.builder.EpisodeBuilder``); episodes that spill into later days wait
in ``pending``. Victims need >= ``MIN_HISTORY`` earlier transactions so history-based rules
(FR-001, FR-004) can see them. Every draw comes from one seeded generator in a fixed order, so a
seed gives the same events; a scenario at rate 0 draws nothing, so the learning scenarios (off by
default) leave a default run's stream unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from streamflow.generator.batch import (
    CREDIT,
    DEBIT,
    MOBILE,
    NO_DEVICE,
    ONLINE,
    PIX,
    POS,
    WALLET,
    Batch,
    Rows,
)
from streamflow.generator.clock import DAY_MS, HOUR_MS
from streamflow.generator.episodes import EPISODES
from streamflow.generator.episodes.builder import (
    FAV_ONLINE_SHARE,
    HOUR_SHAPE,
    MAX_CENTS,
    MIN_HISTORY,
    EpisodeBuilder,
    NoVictimError,
)
from streamflow.generator.reference import Reference, product_for
from streamflow.generator.scenarios import LEARNING_SCENARIOS, Scenario, ScenarioConfig

LOCAL_OFFSET_MS = 3 * HOUR_MS
"""Brasília time is UTC-3 (no daylight saving since 2019): local midnight is 03:00 UTC."""
WEEKDAY_WEIGHTS = (0.95, 0.95, 1.0, 1.0, 1.15, 1.2, 0.75)
"""Monday..Sunday volume weights (weekly seasonality)."""
NEARBY_KM = 250.0
FAV_SHARE, HOME_CITY_SHARE = 0.80, 0.95


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What to simulate."""

    seed: int
    count: int
    days: int
    start_ms: int
    """UTC ms of local midnight of the first day."""
    late_rate: float = 0.005
    late_max_s: float = 900.0


def local_midnight_ms(day: str) -> int:
    """UTC ms of 00:00 Brasília time on ``day`` (YYYY-MM-DD)."""
    d = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return int(d.timestamp() * 1000) + LOCAL_OFFSET_MS


def day_targets(count: int, days: int, start_ms: int) -> list[int]:
    """Split ``count`` over the days by weekday weight (largest remainder, sums exactly)."""
    weekday0 = datetime.fromtimestamp((start_ms - LOCAL_OFFSET_MS) / 1000, tz=UTC).weekday()
    w = np.array([WEEKDAY_WEIGHTS[(weekday0 + d) % 7] for d in range(days)])
    raw = count * w / w.sum()
    base = np.floor(raw).astype(np.int64)
    rest = count - int(base.sum())
    base[np.argsort(-(raw - base), kind="stable")[:rest]] += 1
    return [int(x) for x in base]


class Simulator:
    """Yields :class:`Batch` chunks (one per day) in emission order with sequence numbers."""

    def __init__(self, ref: Reference, scenarios: ScenarioConfig, spec: RunSpec) -> None:
        if scenarios.params[Scenario.CASH_OUT].rate > 0 and not len(ref.fence_merchants):
            raise ValueError(
                "cash_out needs fence merchants: build_reference(..., fence_merchants=N > 0)"
            )
        self.ref = ref
        self.cfg = scenarios
        self.spec = spec
        self.rng = np.random.default_rng([spec.seed, 2])
        self.draw = EpisodeBuilder(ref, self.rng)
        """The episodes' row builder; it holds the per-customer history and victims."""
        self.end_ms = spec.start_ms + spec.days * DAY_MS
        self.pending: dict[int, list[Rows]] = {}
        self.generated = dict.fromkeys(scenarios.params, 0)
        self.next_seq = 0
        self._cum_activity = np.cumsum(ref.cust_activity)
        dist = ref.cities.distance_km
        self._nearby = tuple(
            np.flatnonzero((dist[c] > 0) & (dist[c] < NEARBY_KM)) for c in range(len(ref.cities))
        )

    # ------------------------------------------------------------------ driving
    def chunks(self) -> Iterator[Batch]:
        targets = day_targets(self.spec.count, self.spec.days, self.spec.start_ms)
        cumulative = 0
        for day, target in enumerate(targets):
            cumulative += target
            day_start = self.spec.start_ms + day * DAY_MS
            self._start_episodes(day_start, target, cumulative)
            rows = self.pending.pop(day, [])
            scenario_batch = Batch.concat([self._finish(r) for r in rows if len(r)])
            n_legit = max(0, target - len(scenario_batch))
            batch = Batch.concat([self._legit(day_start, n_legit), scenario_batch])
            self.draw.history += np.bincount(batch.cust, minlength=len(self.draw.history))
            yield self._order(batch)

    def _order(self, batch: Batch) -> Batch:
        """Number in event-time order, then delay a share of events (late/out-of-order)."""
        batch = batch.take(np.argsort(batch.t, kind="stable"))
        batch.seq = np.arange(self.next_seq, self.next_seq + len(batch), dtype=np.int64)
        self.next_seq += len(batch)
        late = self.rng.random(len(batch)) < self.spec.late_rate
        delay = self.rng.uniform(1_000, self.spec.late_max_s * 1000, len(batch)) * late
        return batch.take(np.argsort(batch.t + delay, kind="stable"))

    def _finish(self, rows: Rows) -> Batch:
        store = np.asarray(rows.cols["store"], dtype=np.int64)
        cents = np.asarray(rows.cols["cents"], dtype=np.int64)
        category = self.ref.merchant_category[self.ref.store_merchant[store]]
        return rows.to_batch(product_for(category, cents))

    # ------------------------------------------------------------------ legit
    def _legit(self, day_start: int, n: int) -> Batch:
        ref, rng = self.ref, self.rng
        cust = np.searchsorted(self._cum_activity, rng.random(n) * self._cum_activity[-1])
        cust = np.minimum(cust, ref.n_customers - 1)
        card = ref.cust_card_start[cust] + (rng.random(n) * ref.cust_active_cards[cust]).astype(
            np.int64
        )
        hour = ref.cust_win_start[cust] + ref.cust_win_len[cust] * rng.beta(
            HOUR_SHAPE, HOUR_SHAPE, n
        )
        t = day_start + (hour * HOUR_MS).astype(np.int64)
        online = rng.random(n) < ref.cust_online[cust]
        # physical: favourite store, else a store in the home city, else a nearby city
        v = rng.random(n)
        store = ref.cust_fav_stores[cust, rng.integers(0, ref.cust_fav_stores.shape[1], n)]
        other = ~online & (v >= FAV_SHARE)
        home = ref.cust_city[cust]
        city = home.copy()
        travel = other & (v >= HOME_CITY_SHARE)
        for c in np.unique(home[travel]):
            sel = np.flatnonzero(travel & (home == c))
            near = self._nearby[c]
            if len(near):
                city[sel] = near[rng.integers(0, len(near), len(sel))]
        for c in np.unique(city[other]):
            sel = np.flatnonzero(other & (city == c))
            pool = ref.city_stores[c]
            store[sel] = pool[rng.integers(0, len(pool), len(sel))]
        lat = ref.store_lat[store].copy()
        lon = ref.store_lon[store].copy()
        # online: usual online merchants mostly; located at home (device geolocation)
        fav_online = ref.cust_fav_online[cust, rng.integers(0, ref.cust_fav_online.shape[1], n)]
        pool = ref.legit_online_merchants
        any_online = pool[rng.integers(0, len(pool), n)]
        merchant = np.where(rng.random(n) < FAV_ONLINE_SHARE, fav_online, any_online)
        store = np.where(online, ref.merchant_web_store[merchant], store)
        jitter = rng.normal(0, 0.01, (2, n))
        lat = np.where(online, ref.cust_lat[cust] + jitter[0], lat)
        lon = np.where(online, ref.cust_lon[cust] + jitter[1], lon)
        chan = np.where(online, np.where(rng.random(n) < 0.5, ONLINE, MOBILE), POS)
        dev = np.where(
            online, cust * 4 + (rng.random(n) * ref.cust_devices[cust]).astype(np.int64), NO_DEVICE
        )
        z = rng.standard_normal(n)
        cents = np.rint(np.exp(ref.cust_mu[cust] + ref.cust_sigma[cust] * z) * 100).astype(np.int64)
        cents = np.clip(cents, 200, MAX_CENTS)
        credit = ref.card_credit[card]
        r = rng.random(n)
        pm_online = np.where(
            credit, np.where(r < 0.75, CREDIT, WALLET), np.where(r < 0.5, DEBIT, PIX)
        )
        pm = np.where(online, pm_online, np.where(credit, CREDIT, DEBIT))
        category = ref.merchant_category[ref.store_merchant[store]]
        zeros = np.zeros(n, dtype=np.int64)
        return Batch(
            t=t,
            cust=cust.astype(np.int64),
            card=card,
            store=store,
            product=product_for(category, cents),
            cents=cents,
            pm=pm.astype(np.int64),
            chan=chan.astype(np.int64),
            lat=lat,
            lon=lon,
            dev=dev.astype(np.int64),
            label=zeros,
            scen=zeros.copy(),
            seq=zeros.copy(),
        )

    # ------------------------------------------------------------------ fraud
    def _start_episodes(self, day_start: int, target: int, cumulative: int) -> None:
        draw = self.draw
        if int((draw.history >= MIN_HISTORY).sum()) < 20:
            return
        draw.victims = draw.draw_victims()
        for scenario in sorted(self.cfg.params):
            params = self.cfg.params[scenario]
            expected = params.rate * cumulative
            # catch up after the warm-up, but at most 3x the day's share per day
            budget = self.generated[scenario] + 3 * params.rate * target + 1
            while self.generated[scenario] < min(expected, budget):
                rows = Rows()
                try:
                    EPISODES[scenario](draw, params, day_start, rows)
                except NoVictimError:
                    break
                self._file(rows, scenario)

    def _file(self, rows: Rows, scenario: Scenario) -> None:
        """Drop events past the horizon, count fraud, and park the rest by day."""
        by_day: dict[int, Rows] = {}
        fraud = 0
        for i, t in enumerate(rows.cols["t"]):
            if t >= self.end_ms:
                continue
            target = by_day.setdefault((t - self.spec.start_ms) // DAY_MS, Rows())
            for name, values in rows.cols.items():
                target.cols[name].append(values[i])
            fraud += rows.cols["label"][i]
        for day, r in by_day.items():
            self.pending.setdefault(day, []).append(r)
        if scenario in LEARNING_SCENARIOS:
            # weeks-long episodes: count every planned fraud, also past the horizon, so episodes
            # start at a steady pace instead of piling up (cut short) in the last weeks
            fraud = sum(rows.cols["label"])
        # an episode cut off entirely by the horizon still counts once, so the loop ends
        self.generated[scenario] += max(fraud, 1)
