"""Fraud scenarios: ids, default rates and parameters, and the seeded ``--perturb`` shift.

Rates are shares of all transactions (default total 1.5%). Ranges are (low, high) uniform draws.
``perturb`` multiplies every rate by a factor in [0.7, 1.3], every amount range by [0.8, 1.25],
every timing range by [0.7, 1.4] and every burst/count range by [0.75, 1.3], one factor per
scenario and kind, drawn from ``--perturb-seed`` (documented in docs/adr/0031).
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

    @property
    def label(self) -> str:
        return self.name.lower()


FRAUD_SCENARIOS = tuple(s for s in Scenario if s is not Scenario.LEGIT)


@dataclass(frozen=True, slots=True)
class ScenarioParams:
    """One scenario's knobs: amounts as multiples of the customer's mean, times in minutes."""

    rate: float
    count: Range = (1.0, 1.0)
    """Fraudulent transactions per episode."""
    amount: Range = (1.0, 1.0)
    """Amount multiplier of the customer's mean (card testing: absolute BRL)."""
    gap_min: Range = (1.0, 1.0)
    """Minutes between consecutive fraudulent transactions of an episode."""
    growth: Range = (1.0, 1.0)
    """Account takeover: amount growth per step."""
    distance_km: Range = (0.0, 0.0)
    """Distance from home (or previous transaction) of the fraudster's location."""


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
                gap_min=_scale(p.gap_min, f_time),
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
