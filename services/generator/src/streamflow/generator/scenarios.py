"""Fraud scenarios: ids, default rates and parameters, and the seeded ``--perturb`` shift.

Rates are shares of all transactions (default total 1.5%). Ranges are (low, high) uniform draws.
``perturb`` multiplies every rate by a factor in [0.7, 1.3], every amount range by [0.8, 1.25],
every timing range by [0.7, 1.4] and every burst/count range by [0.75, 1.3], one factor per
scenario and kind, drawn from ``--perturb-seed`` (documented in docs/adr/0031).

The three *learning* scenarios (card_drift, terminal_days, cash_out; docs/adr/0032) are not
rule-shaped: they exist to compare a model trained from delayed labels with the rules. They are
off by default (rate 0, so a default run draws exactly what it drew before they existed) and
switched on by ``--scenarios learning`` (:data:`LEARNING_RATES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import IntEnum

import numpy as np

Range = tuple[float, float]


class Scenario(IntEnum):
    """Scenario ids (0 is legit); the labels file carries the lower-case names."""

    LEGIT = 0
    CARD_TESTING = 1
    ACCOUNT_TAKEOVER = 2
    IMPOSSIBLE_TRAVEL = 3
    ODD_HOUR = 4
    COMPROMISED_TERMINAL = 5
    BLACKLIST = 6
    RULE_EVASION = 7
    CARD_DRIFT = 8
    TERMINAL_DAYS = 9
    CASH_OUT = 10

    @property
    def label(self) -> str:
        return self.name.lower()


FRAUD_SCENARIOS = tuple(s for s in Scenario if s is not Scenario.LEGIT)
LEARNING_SCENARIOS = (Scenario.CARD_DRIFT, Scenario.TERMINAL_DAYS, Scenario.CASH_OUT)
LEARNING_RATES: dict[Scenario, float] = {
    Scenario.CARD_DRIFT: 0.002,
    Scenario.TERMINAL_DAYS: 0.0015,
    Scenario.CASH_OUT: 0.001,
}
"""Rates of the learning scenarios under ``--scenarios learning`` (shares of all transactions)."""


@dataclass(frozen=True, slots=True)
class ScenarioParams:
    """One scenario's knobs: amounts as multiples of the customer's mean, times in minutes."""

    rate: float
    count: Range = (1.0, 1.0)
    """Fraudulent transactions per episode (terminal_days: victims per day)."""
    amount: Range = (1.0, 1.0)
    """Amount multiplier of the customer's mean (card testing: absolute BRL)."""
    gap_min: Range = (1.0, 1.0)
    """Minutes between consecutive fraudulent transactions of an episode."""
    growth: Range = (1.0, 1.0)
    """Account takeover: amount growth per step."""
    distance_km: Range = (0.0, 0.0)
    """Distance from home (or previous transaction) of the fraudster's location."""
    amount_end: Range = (0.0, 0.0)
    """Card drift: amount multiplier reached at the end of the compromise (0 = unused)."""
    period_days: Range = (0.0, 0.0)
    """Card drift / terminal days: length of the compromise in days (0 = unused)."""


def default_params() -> dict[Scenario, ScenarioParams]:
    """The defaults; each is designed to show a signature (see docs/adr/0030)."""
    return {
        # bot hits one card 50-100 times in a few minutes with tiny amounts (FR-002)
        Scenario.CARD_TESTING: ScenarioParams(
            rate=0.003, count=(50, 100), amount=(0.5, 5.0), gap_min=(0.03, 0.13),
            distance_km=(800, 3000),
        ),
        # leaked credentials: escalating online spend over days from a new device (FR-001)
        Scenario.ACCOUNT_TAKEOVER: ScenarioParams(
            rate=0.0025, count=(4, 9), amount=(4.0, 6.0), gap_min=(240, 900), growth=(1.15, 1.4),
            distance_km=(800, 3000),
        ),
        # cloned card used far away minutes after a genuine purchase at home (FR-003)
        Scenario.IMPOSSIBLE_TRAVEL: ScenarioParams(
            rate=0.002, count=(1, 2), amount=(1.5, 4.0), gap_min=(8, 50), distance_km=(800, 3500)
        ),
        # skimmed card used locally between 00:00 and 05:00 with large amounts (FR-004 + FR-001)
        Scenario.ODD_HOUR: ScenarioParams(
            rate=0.002, count=(2, 4), amount=(4.0, 7.0), gap_min=(15, 50)
        ),
        # tampered terminal charges a card again, larger, after a real purchase (FR-001, merchant)
        Scenario.COMPROMISED_TERMINAL: ScenarioParams(
            rate=0.002, count=(6, 15), amount=(4.5, 9.0), gap_min=(5, 120)
        ),
        # stolen (blacklisted) card or a blacklisted merchant (FR-005)
        Scenario.BLACKLIST: ScenarioParams(rate=0.0015, count=(1, 3), amount=(1.0, 3.0)),
        # just under every threshold at once: 2-2.8x amounts, 3-5 txns in <10 min, 300-480 km,
        # hour at the window's edge, ring merchants: no single rule fires (ML + merchant risk)
        Scenario.RULE_EVASION: ScenarioParams(
            rate=0.002, count=(3, 5), amount=(2.0, 2.8), gap_min=(1.5, 2.2),
            distance_km=(300, 480),
        ),
        # --- learning scenarios (docs/adr/0032): off by default, no rule is designed to fire
        # a card compromised for 14-28 days, used every 1-3 days (gap_min) at home-city stores or
        # the victim's usual online merchants, on the victim's own device, in usual hours; the
        # amount drifts linearly from 1.0-1.3x to 2.0-2.8x the mean (stays under FR-001's 3x).
        # Signal: the card's amount rising against its own 7/30-day spending, a confirmed fraud
        # on the card once the first chargebacks arrive
        Scenario.CARD_DRIFT: ScenarioParams(
            rate=0.0, amount=(1.0, 1.3), amount_end=(2.0, 2.8), gap_min=(1440, 4320),
            period_days=(14, 28),
        ),
        # a (normal) store's terminal compromised for 10-21 days: each day 1-4 local customers
        # with history are charged once there, amounts drawn like their own legit ones (x amount),
        # in usual hours. Signal: the store's fraud count/share over days of delayed labels
        Scenario.TERMINAL_DAYS: ScenarioParams(
            rate=0.0, count=(1, 4), amount=(1.0, 1.0), period_days=(10, 21),
        ),
        # kept out of feature design: a card cashed out in one day, 2-5 online payments 20-90 min
        # apart at a fixed set of fence merchants, 1.2-2x the mean, from the victim's own device,
        # at home, in usual hours. Signal: fence merchants' delayed labels, a busier-than-usual
        # online day
        Scenario.CASH_OUT: ScenarioParams(
            rate=0.0, count=(2, 5), amount=(1.2, 2.0), gap_min=(20, 90),
        ),
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """The rates and parameters of every scenario for one run."""

    params: dict[Scenario, ScenarioParams] = field(default_factory=default_params)

    @property
    def total_rate(self) -> float:
        return sum(p.rate for p in self.params.values())

    def with_rates(self, rates: dict[Scenario, float]) -> ScenarioConfig:
        """A copy with some rates replaced."""
        params = dict(self.params)
        for scenario, rate in rates.items():
            params[scenario] = replace(params[scenario], rate=rate)
        return ScenarioConfig(params)

    def with_learning(self) -> ScenarioConfig:
        """A copy with the learning scenarios on at :data:`LEARNING_RATES` (``--scenarios``)."""
        return self.with_rates(LEARNING_RATES)

    def scaled(self, fraud_rate: float) -> ScenarioConfig:
        """A copy whose rates keep their proportions but sum to ``fraud_rate``."""
        total = self.total_rate
        factor = fraud_rate / total if total > 0 else 0.0
        return self.with_rates({s: p.rate * factor for s, p in self.params.items()})

    def perturbed(self, seed: int) -> ScenarioConfig:
        """Shift every scenario's parameters by seeded factors (out-of-sample evaluation)."""
        rng = np.random.default_rng([seed, 99])
        out: dict[Scenario, ScenarioParams] = {}
        for scenario in sorted(self.params):
            p = self.params[scenario]
            f_rate, f_amount, f_time, f_count = (
                rng.uniform(0.7, 1.3),
                rng.uniform(0.8, 1.25),
                rng.uniform(0.7, 1.4),
                rng.uniform(0.75, 1.3),
            )
            count = _scale(p.count, f_count)
            out[scenario] = replace(
                p,
                rate=p.rate * f_rate,
                count=(max(1.0, count[0]), max(1.0, count[1])),
                amount=_scale(p.amount, f_amount),
                amount_end=_scale(p.amount_end, f_amount),
                gap_min=_scale(p.gap_min, f_time),
                period_days=_scale(p.period_days, f_time),
            )
        return ScenarioConfig(out)

    def describe(self) -> dict[str, dict[str, object]]:
        """A JSON-friendly view (for logs and the run summary)."""
        return {
            s.label: {f.name: getattr(p, f.name) for f in fields(p)}
            for s, p in sorted(self.params.items())
        }


def _scale(r: Range, factor: float) -> Range:
    return (r[0] * factor, r[1] * factor)
