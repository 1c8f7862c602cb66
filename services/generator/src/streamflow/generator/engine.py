"""The simulation: legit behaviour plus fraud episodes, one local day (BRT) at a time.

Each day gets its share of ``count`` (weekly seasonality), fraud episodes are started so that each
scenario's cumulative count follows its configured rate, and legit transactions fill the rest.
Episodes that spill into later days wait in ``pending``. Victims need >= ``MIN_HISTORY`` earlier
transactions so history-based rules (FR-001, FR-004) can see them. Every draw comes from one
seeded generator in a fixed order, so a seed gives the same events; a scenario at rate 0 draws
nothing, so the learning scenarios (off by default) leave a default run's stream unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from streamflow.generator.batch import (
    CREDIT,
    DEBIT,
    FRAUD_DEVICE_BASE,
    MOBILE,
    NO_DEVICE,
    ONLINE,
    PIX,
    POS,
    WALLET,
    Batch,
    Rows,
)
from streamflow.generator.geo import offset_point
from streamflow.generator.reference import Reference, product_for
from streamflow.generator.scenarios import (
    LEARNING_SCENARIOS,
    Scenario,
    ScenarioConfig,
    ScenarioParams,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
LOCAL_OFFSET_MS = 3 * HOUR_MS
"""Brasília time is UTC-3 (no daylight saving since 2019): local midnight is 03:00 UTC."""
WEEKDAY_WEIGHTS = (0.95, 0.95, 1.0, 1.0, 1.15, 1.2, 0.75)
"""Monday..Sunday volume weights (weekly seasonality)."""
HOUR_SHAPE = 1.0
"""Beta(a, a) shape of the hour inside the active window (1 = uniform: max |z| = 1.73 < 2)."""
MIN_HISTORY = 20
NEARBY_KM = 250.0
FAV_SHARE, HOME_CITY_SHARE = 0.80, 0.95
FAV_ONLINE_SHARE = 0.7
MAX_CENTS = 5_000_000
TERMINAL_MIN_LOCALS = 30
"""terminal_days only taps a store in a city with this many locals to victimise (else waits)."""
DRIFT_NOISE = 0.06
"""Card drift: log-normal sd around the linear amount trend (keeps it rising, not a staircase)."""


class NoVictimError(Exception):
    """No customer with enough history is left to victimise (the deficit carries over)."""


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
        self.end_ms = spec.start_ms + spec.days * DAY_MS
        self.history = np.zeros(ref.n_customers, dtype=np.int64)
        self.victimised = np.zeros(ref.n_customers, dtype=bool)
        """A customer is a victim once (then the card would be reissued), so earlier fraud never
        inflates the history that later fraud is judged against."""
        self.pending: dict[int, list[Rows]] = {}
        self.generated = dict.fromkeys(scenarios.params, 0)
        self.next_seq = 0
        self.fraud_devices = 0
        self._cum_activity = np.cumsum(ref.cust_activity)
        dist = ref.cities.distance_km
        self._nearby = tuple(
            np.flatnonzero((dist[c] > 0) & (dist[c] < NEARBY_KM)) for c in range(len(ref.cities))
        )
        self._victims: list[int] = []
        self._tapped_stores: set[int] = set()
        """Stores already used by terminal_days (one compromise per store)."""

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
            self.history += np.bincount(batch.cust, minlength=len(self.history))
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
    def _draw_victims(self) -> list[int]:
        """Up to 256 distinct, not yet victimised customers with history (activity-weighted)."""
        eligible = np.flatnonzero((self.history >= MIN_HISTORY) & ~self.victimised)
        if not len(eligible):
            return []
        weights = self.ref.cust_activity[eligible]
        size = min(256, len(eligible))
        drawn = self.rng.choice(eligible, size, replace=False, p=weights / weights.sum())
        return [int(c) for c in drawn]

    def _start_episodes(self, day_start: int, target: int, cumulative: int) -> None:
        if int((self.history >= MIN_HISTORY).sum()) < 20:
            return
        self._victims = self._draw_victims()
        for scenario in sorted(self.cfg.params):
            params = self.cfg.params[scenario]
            expected = params.rate * cumulative
            # catch up after the warm-up, but at most 3x the day's share per day
            budget = self.generated[scenario] + 3 * params.rate * target + 1
            while self.generated[scenario] < min(expected, budget):
                rows = Rows()
                try:
                    self._episode(scenario, params, day_start, rows)
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

    def _episode(self, s: Scenario, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        handlers = {
            Scenario.CARD_TESTING: self._card_testing,
            Scenario.ACCOUNT_TAKEOVER: self._account_takeover,
            Scenario.IMPOSSIBLE_TRAVEL: self._impossible_travel,
            Scenario.ODD_HOUR: self._odd_hour,
            Scenario.COMPROMISED_TERMINAL: self._compromised_terminal,
            Scenario.BLACKLIST: self._blacklist,
            Scenario.RULE_EVASION: self._rule_evasion,
            Scenario.CARD_DRIFT: self._card_drift,
            Scenario.TERMINAL_DAYS: self._terminal_days,
            Scenario.CASH_OUT: self._cash_out,
        }
        handlers[s](p, day_start, rows)

    # helpers
    def _u(self, r: tuple[float, float]) -> float:
        return float(self.rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])

    def _n(self, r: tuple[float, float]) -> int:
        return max(1, round(self._u(r)))

    def _victim(self) -> int:
        while True:
            if not self._victims:
                self._victims = self._draw_victims()
                if not self._victims:
                    raise NoVictimError
            cust = self._victims.pop()
            if not self.victimised[cust]:
                self.victimised[cust] = True
                return cust

    def _card(self, cust: int) -> int:
        ref = self.ref
        return int(ref.cust_card_start[cust] + self.rng.integers(0, ref.cust_active_cards[cust]))

    def _window_time(self, cust: int, day_start: int) -> int:
        ref = self.ref
        hour = ref.cust_win_start[cust] + ref.cust_win_len[cust] * self.rng.beta(
            HOUR_SHAPE, HOUR_SHAPE
        )
        return int(day_start + hour * HOUR_MS)

    def _far_city(self, city: int, km: tuple[float, float]) -> int:
        dist = self.ref.cities.distance_km[city]
        ok = np.flatnonzero((dist >= km[0]) & (dist <= km[1]))
        if not len(ok):
            ok = np.array([int(np.argmax(dist))])
        return int(ok[self.rng.integers(0, len(ok))])

    def _city_store(self, city: int) -> int:
        pool = self.ref.city_stores[city]
        return int(pool[self.rng.integers(0, len(pool))])

    def _new_device(self) -> int:
        self.fraud_devices += 1
        return FRAUD_DEVICE_BASE + self.fraud_devices

    def _cents(self, cust: int, multiplier: float) -> int:
        mean = float(self.ref.mean_amount(cust))
        return int(min(MAX_CENTS, max(100, round(mean * multiplier * 100))))

    def _legit_cents(self, cust: int) -> int:
        ref = self.ref
        value = math.exp(ref.cust_mu[cust] + ref.cust_sigma[cust] * self.rng.standard_normal())
        return int(min(MAX_CENTS, max(200, round(value * 100))))

    def _pos_pm(self, card: int) -> int:
        return CREDIT if self.ref.card_credit[card] else DEBIT

    def _own_device(self, cust: int) -> int:
        """One of the customer's own devices (as legit online payments use)."""
        return int(cust * 4 + self.rng.integers(0, self.ref.cust_devices[cust]))

    def _online_pm(self, card: int) -> int:
        """An online payment method drawn as legit online payments draw it."""
        r = self.rng.random()
        if self.ref.card_credit[card]:
            return CREDIT if r < 0.75 else WALLET
        return DEBIT if r < 0.5 else PIX

    def _add_online_at_home(
        self, rows: Rows, *, t: int, cust: int, card: int, merchant: int, cents: int, scen: int
    ) -> None:
        """A fraudulent online payment from the customer's own device, located at home."""
        ref = self.ref
        lat, lon = self._jitter(float(ref.cust_lat[cust]), float(ref.cust_lon[cust]), 0.01)
        rows.add(
            t=t,
            cust=cust,
            card=card,
            store=int(ref.merchant_web_store[merchant]),
            cents=cents,
            pm=self._online_pm(card),
            chan=ONLINE if self.rng.random() < 0.5 else MOBILE,
            lat=lat,
            lon=lon,
            dev=self._own_device(cust),
            label=1,
            scen=scen,
        )

    def _jitter(self, lat: float, lon: float, sd: float = 0.03) -> tuple[float, float]:
        d = self.rng.normal(0, sd, 2)
        return float(lat + d[0]), float(lon + d[1])

    # scenarios
    def _card_testing(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        ref, rng = self.ref, self.rng
        cust = self._victim()
        card = self._card(cust)
        city = self._far_city(int(ref.cust_city[cust]), p.distance_km)
        lat, lon = self._jitter(float(ref.cities.lat[city]), float(ref.cities.lon[city]))
        merchant = int(ref.legit_online_merchants[rng.integers(0, len(ref.legit_online_merchants))])
        store, dev = int(ref.merchant_web_store[merchant]), self._new_device()
        t = int(day_start + rng.uniform(0, DAY_MS))
        for _ in range(self._n(p.count)):
            cents = max(1, round(self._u(p.amount) * 100))
            rows.add(
                t=t,
                cust=cust,
                card=card,
                store=store,
                cents=cents,
                pm=CREDIT,
                chan=ONLINE,
                lat=lat,
                lon=lon,
                dev=dev,
                label=1,
                scen=Scenario.CARD_TESTING,
            )
            t += int(self._u(p.gap_min) * MINUTE_MS)

    def _account_takeover(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        ref, rng = self.ref, self.rng
        cust = self._victim()
        card = self._card(cust)
        city = self._far_city(int(ref.cust_city[cust]), p.distance_km)
        lat, lon = self._jitter(float(ref.cities.lat[city]), float(ref.cities.lon[city]))
        dev, t = self._new_device(), self._window_time(cust, day_start)
        multiplier, growth = self._u(p.amount), self._u(p.growth)
        for _ in range(self._n(p.count)):
            merchant = int(
                ref.legit_online_merchants[rng.integers(0, len(ref.legit_online_merchants))]
            )
            rows.add(
                t=t,
                cust=cust,
                card=card,
                store=int(ref.merchant_web_store[merchant]),
                cents=self._cents(cust, multiplier),
                pm=CREDIT,
                chan=MOBILE,
                lat=lat,
                lon=lon,
                dev=dev,
                label=1,
                scen=Scenario.ACCOUNT_TAKEOVER,
            )
            multiplier *= growth
            t += int(self._u(p.gap_min) * MINUTE_MS)

    def _impossible_travel(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        ref = self.ref
        cust = self._victim()
        card = self._card(cust)
        t = self._window_time(cust, day_start)
        store = int(ref.cust_fav_stores[cust, self.rng.integers(0, ref.cust_fav_stores.shape[1])])
        self._add_in_store(
            rows,
            t=t,
            cust=cust,
            card=card,
            store=store,
            cents=self._legit_cents(cust),
            label=0,
            scen=0,
        )
        city = int(ref.cust_city[cust])
        for _ in range(self._n(p.count)):
            city = self._far_city(city, p.distance_km)
            store = self._city_store(city)
            t += int(self._u(p.gap_min) * MINUTE_MS)
            self._add_in_store(
                rows,
                t=t,
                cust=cust,
                card=card,
                store=store,
                cents=self._cents(cust, self._u(p.amount)),
                label=1,
                scen=Scenario.IMPOSSIBLE_TRAVEL,
            )

    def _add_in_store(
        self,
        rows: Rows,
        *,
        t: int,
        cust: int,
        card: int,
        store: int,
        cents: int,
        label: int,
        scen: int,
    ) -> None:
        """Add an in-store (POS) payment at ``store``; the card picks its POS payment method."""
        rows.add(
            t=t,
            cust=cust,
            card=card,
            store=store,
            cents=cents,
            pm=self._pos_pm(card),
            chan=POS,
            lat=float(self.ref.store_lat[store]),
            lon=float(self.ref.store_lon[store]),
            dev=NO_DEVICE,
            label=label,
            scen=scen,
        )

    def _odd_hour(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        ref = self.ref
        cust = self._victim()
        card = self._card(cust)
        t = int(day_start + self.rng.uniform(0.0, 4.0) * HOUR_MS)
        for _ in range(self._n(p.count)):
            store = self._city_store(int(ref.cust_city[cust]))
            self._add_in_store(
                rows,
                t=t,
                cust=cust,
                card=card,
                store=store,
                cents=self._cents(cust, self._u(p.amount)),
                label=1,
                scen=Scenario.ODD_HOUR,
            )
            t += int(self._u(p.gap_min) * MINUTE_MS)

    def _compromised_terminal(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        ref, rng = self.ref, self.rng
        fresh = (self.history >= MIN_HISTORY) & ~self.victimised
        for store in rng.permutation(ref.weak_stores).tolist():
            locals_ = np.flatnonzero(fresh & (ref.cust_city == ref.store_city[store]))
            if len(locals_):
                break
        else:
            raise NoVictimError
        locals_ = rng.permutation(locals_)
        period_days = rng.uniform(3.0, 8.0)
        lat, lon = float(ref.store_lat[store]), float(ref.store_lon[store])
        for k in range(min(self._n(p.count), len(locals_))):
            cust = int(locals_[k])
            self.victimised[cust] = True
            card = self._card(cust)
            day = int(rng.uniform(0, period_days))
            t = self._window_time(cust, day_start + day * DAY_MS)
            rows.add(
                t=t,
                cust=cust,
                card=card,
                store=store,
                cents=self._legit_cents(cust),
                pm=self._pos_pm(card),
                chan=POS,
                lat=lat,
                lon=lon,
                dev=NO_DEVICE,
                label=0,
                scen=0,
            )
            t += int(self._u(p.gap_min) * MINUTE_MS)
            rows.add(
                t=t,
                cust=cust,
                card=card,
                store=store,
                cents=self._cents(cust, self._u(p.amount)),
                pm=self._pos_pm(card),
                chan=POS,
                lat=lat,
                lon=lon,
                dev=NO_DEVICE,
                label=1,
                scen=Scenario.COMPROMISED_TERMINAL,
            )

    def _blacklist(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        ref, rng = self.ref, self.rng
        blocked = ref.blacklisted_card_indices()
        stolen_card = len(blocked) > 0 and rng.random() < 0.5
        if stolen_card:
            card = int(blocked[rng.integers(0, len(blocked))])
            cust, n = int(ref.card_cust[card]), self._n(p.count)
            pool = ref.legit_online_merchants
        else:
            cust = self._victim()
            card, n = self._card(cust), 1
            pool = ref.blacklisted_merchants
        city = self._far_city(int(ref.cust_city[cust]), (500.0, 4000.0))
        lat, lon = self._jitter(float(ref.cities.lat[city]), float(ref.cities.lon[city]))
        dev, t = self._new_device(), int(day_start + rng.uniform(0, DAY_MS))
        for _ in range(n):
            merchant = int(pool[rng.integers(0, len(pool))])
            rows.add(
                t=t,
                cust=cust,
                card=card,
                store=int(ref.merchant_web_store[merchant]),
                cents=self._cents(cust, self._u(p.amount)),
                pm=CREDIT,
                chan=ONLINE,
                lat=lat,
                lon=lon,
                dev=dev,
                label=1,
                scen=Scenario.BLACKLIST,
            )
            t += int(rng.uniform(5, 90) * MINUTE_MS)

    def _rule_evasion(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        ref, rng = self.ref, self.rng
        cust = self._victim()
        card = self._card(cust)
        # hour z in [1.4, 1.85] of the customer's own hour distribution (FR-004 fires above 2)
        sd = ref.cust_win_len[cust] / (2 * math.sqrt(2 * HOUR_SHAPE + 1))
        hour = ref.cust_win_start[cust] + ref.cust_win_len[cust] / 2 + rng.uniform(1.4, 1.85) * sd
        t = int(day_start + hour * HOUR_MS)
        lat, lon = offset_point(
            float(ref.cust_lat[cust]),
            float(ref.cust_lon[cust]),
            self._u(p.distance_km),
            float(rng.uniform(0, 2 * math.pi)),
        )
        dev = self._new_device()
        for _ in range(min(5, self._n(p.count))):
            merchant = int(ref.ring_merchants[rng.integers(0, len(ref.ring_merchants))])
            rows.add(
                t=t,
                cust=cust,
                card=card,
                store=int(ref.merchant_web_store[merchant]),
                cents=self._cents(cust, self._u(p.amount)),
                pm=CREDIT,
                chan=MOBILE,
                lat=lat,
                lon=lon,
                dev=dev,
                label=1,
                scen=Scenario.RULE_EVASION,
            )
            t += int(self._u(p.gap_min) * MINUTE_MS)

    # --- learning scenarios (docs/adr/0032): not rule-shaped, off by default
    def _card_drift(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        """A card compromised for ``period_days``: one payment every ``gap_min`` (1-3 days).

        Everything looks like the victim (home-city stores or usual online merchants, own device,
        usual hours, home location) except the amount, which drifts linearly from ``amount`` to
        ``amount_end`` times the mean (under FR-001's 3x for most of the period). The victim's
        own spending goes on meanwhile (legit traffic keeps drawing them).
        """
        ref, rng = self.ref, self.rng
        cust = self._victim()
        card = self._card(cust)
        period = self._u(p.period_days)
        first, last = self._u(p.amount), self._u(p.amount_end)
        offsets = [0.0]
        while offsets[-1] < period:
            offsets.append(offsets[-1] + max(self._u(p.gap_min), 60.0) / (24 * 60))
        # rescale the gaps so the last payment falls on the period's last day
        scale = period / offsets[-1] if offsets[-1] > 0 else 1.0
        home = int(ref.cust_city[cust])
        for offset in offsets:
            progress = offset * scale / period if period > 0 else 1.0
            multiplier = (first + (last - first) * progress) * math.exp(
                rng.normal(0.0, DRIFT_NOISE)
            )
            t = self._window_time(cust, day_start + round(offset * scale) * DAY_MS)
            cents = self._cents(cust, multiplier)
            if rng.random() < ref.cust_online[cust]:
                # one of the victim's usual online merchants, else one of the legit pool
                usual, pool = ref.cust_fav_online[cust], ref.legit_online_merchants
                merchant = int(
                    usual[rng.integers(0, len(usual))]
                    if rng.random() < FAV_ONLINE_SHARE
                    else pool[rng.integers(0, len(pool))]
                )
                self._add_online_at_home(
                    rows, t=t, cust=cust, card=card, merchant=merchant, cents=cents,
                    scen=Scenario.CARD_DRIFT,
                )  # fmt: skip
            else:
                self._add_in_store(
                    rows, t=t, cust=cust, card=card, store=self._city_store(home), cents=cents,
                    label=1, scen=Scenario.CARD_DRIFT,
                )  # fmt: skip

    def _terminal_days(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        """A store's terminal compromised for ``period_days``: ``count`` locals charged a day.

        The store is an ordinary one (not a weak store, never tapped before) of a city with at
        least ``TERMINAL_MIN_LOCALS`` possible victims; each victim (a local with history, not yet
        victimised) is charged once there, an amount drawn like their own legit ones (times
        ``amount``, 1 by default), in their usual hours. Nothing per payment is unusual: only
        the store's fraud count over days (known from delayed labels) gives it away.
        """
        ref, rng = self.ref, self.rng
        fresh = (self.history >= MIN_HISTORY) & ~self.victimised
        per_city = np.bincount(ref.cust_city[fresh], minlength=len(ref.cities))
        cities = np.flatnonzero(per_city >= TERMINAL_MIN_LOCALS)
        if not len(cities):
            raise NoVictimError
        # a city as likely as its share of possible victims (as if picked through a customer)
        city = int(rng.choice(cities, p=per_city[cities] / per_city[cities].sum()))
        pool = np.setdiff1d(ref.city_stores[city], ref.weak_stores)
        pool = pool[~np.isin(pool, np.fromiter(self._tapped_stores, np.int64))]
        if not len(pool):
            raise NoVictimError
        store = int(pool[rng.integers(0, len(pool))])
        self._tapped_stores.add(store)
        locals_ = np.flatnonzero(fresh & (ref.cust_city == city))
        w = ref.cust_activity[locals_]
        locals_ = rng.choice(locals_, len(locals_), replace=False, p=w / w.sum())
        taken = 0
        for day in range(max(1, math.ceil(self._u(p.period_days)))):
            for _ in range(self._n(p.count)):
                if taken >= len(locals_):
                    return
                cust = int(locals_[taken])
                taken += 1
                self.victimised[cust] = True
                cents = int(min(MAX_CENTS, round(self._legit_cents(cust) * self._u(p.amount))))
                self._add_in_store(
                    rows, t=self._window_time(cust, day_start + day * DAY_MS), cust=cust,
                    card=self._card(cust), store=store, cents=cents, label=1,
                    scen=Scenario.TERMINAL_DAYS,
                )  # fmt: skip

    def _cash_out(self, p: ScenarioParams, day_start: int, rows: Rows) -> None:
        """A card cashed out in one day at fence merchants (kept out of feature design).

        ``count`` online payments ``gap_min`` apart at :attr:`Reference.fence_merchants`,
        ``amount`` times the mean, from the victim's own device, located at home, inside the
        victim's usual hours. Signal: the fence merchants' delayed labels and an online day busier
        than the victim's usual.
        """
        ref, rng = self.ref, self.rng
        cust = self._victim()
        card = self._card(cust)
        gaps = [self._u(p.gap_min) * MINUTE_MS for _ in range(self._n(p.count) - 1)]
        spare_h = max(0.0, float(ref.cust_win_len[cust]) - sum(gaps) / HOUR_MS)
        t = int(day_start + (ref.cust_win_start[cust] + rng.uniform(0.0, spare_h)) * HOUR_MS)
        fence = ref.fence_merchants
        for gap in [0.0, *gaps]:
            t += int(gap)
            self._add_online_at_home(
                rows, t=t, cust=cust, card=card, merchant=int(fence[rng.integers(0, len(fence))]),
                cents=self._cents(cust, self._u(p.amount)), scen=Scenario.CASH_OUT,
            )  # fmt: skip
