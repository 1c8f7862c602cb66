"""The shared row builder of the fraud episodes: the simulation's state and the seeded draws.

Every episode module (one per scenario) draws its victims, cards, places, devices and amounts
through one :class:`EpisodeBuilder` and adds its payments with the three row shapes here: an
in-store (POS) payment, a fraudster's online payment, an online payment from the victim's own
device at home. The builder shares the simulator's one seeded generator, so the order of the
draws (and with it the stream a seed gives) is the order in which the episodes make them.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

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
    Rows,
)
from streamflow.generator.clock import HOUR_MS
from streamflow.generator.reference import Reference

HOUR_SHAPE = 1.0
"""Beta(a, a) shape of the hour inside the active window (1 = uniform: max |z| = 1.73 < 2)."""
MIN_HISTORY = 20
"""Earlier transactions a victim needs, so history-based rules (FR-001, FR-004) can see them."""
MAX_CENTS = 5_000_000
FAV_ONLINE_SHARE = 0.7
"""Share of online payments at one of the customer's usual online merchants."""
VICTIM_DRAW = 256
"""Victims drawn at a time (activity-weighted, without replacement)."""


class NoVictimError(Exception):
    """No customer with enough history is left to victimise (the deficit carries over)."""


class EpisodeBuilder:
    """Seeded draws and row shapes over the simulation's customer state.

    ``history`` (transactions per customer so far) is advanced by the simulator after each day;
    ``victimised`` marks customers already defrauded (a victim once: then the card would be
    reissued), so earlier fraud never inflates the history that later fraud is judged against.
    """

    def __init__(self, ref: Reference, rng: np.random.Generator) -> None:
        self.ref = ref
        self.rng = rng
        self.history: npt.NDArray[np.int64] = np.zeros(ref.n_customers, dtype=np.int64)
        self.victimised = np.zeros(ref.n_customers, dtype=bool)
        self.victims: list[int] = []
        """The current draw of victims, used from the end."""
        self.fraud_devices = 0
        self.tapped_stores: set[int] = set()
        """Stores already used by terminal_days (one compromise per store)."""

    # ------------------------------------------------------------------ victims
    def draw_victims(self) -> list[int]:
        """Up to 256 distinct, not yet victimised customers with history (activity-weighted)."""
        eligible = np.flatnonzero((self.history >= MIN_HISTORY) & ~self.victimised)
        if not len(eligible):
            return []
        weights = self.ref.cust_activity[eligible]
        size = min(VICTIM_DRAW, len(eligible))
        drawn = self.rng.choice(eligible, size, replace=False, p=weights / weights.sum())
        return [int(c) for c in drawn]

    def victim(self) -> int:
        """The next victim (marked victimised), drawing a new set when the current one is used."""
        while True:
            if not self.victims:
                self.victims = self.draw_victims()
                if not self.victims:
                    raise NoVictimError
            cust = self.victims.pop()
            if not self.victimised[cust]:
                self.victimised[cust] = True
                return cust

    def fresh(self) -> npt.NDArray[np.bool_]:
        """Customers with enough history who were never victimised."""
        result: npt.NDArray[np.bool_] = (self.history >= MIN_HISTORY) & ~self.victimised
        return result

    # ------------------------------------------------------------------ draws
    def u(self, r: tuple[float, float]) -> float:
        """A uniform draw in the range (its low end, without a draw, when it is a point)."""
        return float(self.rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])

    def n(self, r: tuple[float, float]) -> int:
        """A count drawn from the range, at least 1."""
        return max(1, round(self.u(r)))

    def card(self, cust: int) -> int:
        """One of the customer's active cards."""
        ref = self.ref
        return int(ref.cust_card_start[cust] + self.rng.integers(0, ref.cust_active_cards[cust]))

    def window_time(self, cust: int, day_start: int) -> int:
        """A time inside the customer's usual hours on the day starting at ``day_start``."""
        ref = self.ref
        hour = ref.cust_win_start[cust] + ref.cust_win_len[cust] * self.rng.beta(
            HOUR_SHAPE, HOUR_SHAPE
        )
        return int(day_start + hour * HOUR_MS)

    def far_city(self, city: int, km: tuple[float, float]) -> int:
        """A city ``km`` away from ``city`` (the farthest one when none is)."""
        dist = self.ref.cities.distance_km[city]
        ok = np.flatnonzero((dist >= km[0]) & (dist <= km[1]))
        if not len(ok):
            ok = np.array([int(np.argmax(dist))])
        return int(ok[self.rng.integers(0, len(ok))])

    def city_store(self, city: int) -> int:
        """A physical store in ``city``."""
        pool = self.ref.city_stores[city]
        return int(pool[self.rng.integers(0, len(pool))])

    def new_device(self) -> int:
        """A fraudster's device, never seen before."""
        self.fraud_devices += 1
        return FRAUD_DEVICE_BASE + self.fraud_devices

    def own_device(self, cust: int) -> int:
        """One of the customer's own devices (as legit online payments use)."""
        return int(cust * 4 + self.rng.integers(0, self.ref.cust_devices[cust]))

    def cents(self, cust: int, multiplier: float) -> int:
        """``multiplier`` times the customer's mean amount, in cents."""
        mean = float(self.ref.mean_amount(cust))
        return int(min(MAX_CENTS, max(100, round(mean * multiplier * 100))))

    def legit_cents(self, cust: int) -> int:
        """An amount drawn as the customer's legit payments draw theirs."""
        ref = self.ref
        value = math.exp(ref.cust_mu[cust] + ref.cust_sigma[cust] * self.rng.standard_normal())
        return int(min(MAX_CENTS, max(200, round(value * 100))))

    def pos_pm(self, card: int) -> int:
        """The card's in-store payment method."""
        return CREDIT if self.ref.card_credit[card] else DEBIT

    def online_pm(self, card: int) -> int:
        """An online payment method drawn as legit online payments draw it."""
        r = self.rng.random()
        if self.ref.card_credit[card]:
            return CREDIT if r < 0.75 else WALLET
        return DEBIT if r < 0.5 else PIX

    def jitter(self, lat: float, lon: float, sd: float = 0.03) -> tuple[float, float]:
        """A point near (lat, lon)."""
        d = self.rng.normal(0, sd, 2)
        return float(lat + d[0]), float(lon + d[1])

    # ------------------------------------------------------------------ rows
    def add_in_store(
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
            pm=self.pos_pm(card),
            chan=POS,
            lat=float(self.ref.store_lat[store]),
            lon=float(self.ref.store_lon[store]),
            dev=NO_DEVICE,
            label=label,
            scen=scen,
        )

    def add_remote(
        self,
        rows: Rows,
        *,
        t: int,
        cust: int,
        card: int,
        store: int,
        cents: int,
        chan: int,
        lat: float,
        lon: float,
        dev: int,
        scen: int,
    ) -> None:
        """Add a fraudster's online payment by credit card from their device and location."""
        rows.add(
            t=t,
            cust=cust,
            card=card,
            store=store,
            cents=cents,
            pm=CREDIT,
            chan=chan,
            lat=lat,
            lon=lon,
            dev=dev,
            label=1,
            scen=scen,
        )

    def add_online_at_home(
        self, rows: Rows, *, t: int, cust: int, card: int, merchant: int, cents: int, scen: int
    ) -> None:
        """Add a fraudulent online payment from the customer's own device, located at home."""
        ref = self.ref
        lat, lon = self.jitter(float(ref.cust_lat[cust]), float(ref.cust_lon[cust]), 0.01)
        rows.add(
            t=t,
            cust=cust,
            card=card,
            store=int(ref.merchant_web_store[merchant]),
            cents=cents,
            pm=self.online_pm(card),
            chan=ONLINE if self.rng.random() < 0.5 else MOBILE,
            lat=lat,
            lon=lon,
            dev=self.own_device(cust),
            label=1,
            scen=scen,
        )
