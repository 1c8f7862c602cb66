"""``fraud.rules`` (compacted): the versioned rule configuration the scorer applies at run time.

Defaults are the design's thresholds (seeds): 3x the customer's average after 5 prior
transactions; more than 5 transactions in 10 minutes; 500 km within 1 hour; outside 2 sigma of the
customer's usual hours; exact-match blacklists. The default weights were tuned by backtest on
generator data (docs/adr/0041): any one clear rule hit alerts, weaker signals need company.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field, model_validator

from streamflow.events.base import Contract, Key
from streamflow.events.types import Identifier


class _Rule(Contract):
    enabled: bool = Field(default=True, description="Whether the rule is evaluated.")
    weight: float = Field(ge=0.0, le=1.0, description="Weight of the rule's score in the blend.")


class HighValueRule(_Rule):
    """FR-001: amount high compared with the customer's own history."""

    weight: float = Field(default=0.75, ge=0.0, le=1.0, description="Blend weight.")
    multiplier: float = Field(default=3.0, gt=1.0, description="Fires above this x the mean.")
    min_history: int = Field(default=5, ge=1, description="Prior transactions needed first.")


class VelocityRule(_Rule):
    """FR-002: too many transactions in a sliding window."""

    weight: float = Field(default=0.85, ge=0.0, le=1.0, description="Blend weight.")
    max_count: int = Field(default=5, ge=1, description="Fires when the count exceeds this.")
    window_seconds: int = Field(default=600, gt=0, le=86_400, description="Sliding window.")


class ImpossibleTravelRule(_Rule):
    """FR-003: two consecutive payments too far apart for the time between them."""

    weight: float = Field(default=0.85, ge=0.0, le=1.0, description="Blend weight.")
    max_distance_km: float = Field(default=500.0, gt=0, description="Distance threshold.")
    max_time_hours: float = Field(default=1.0, gt=0, description="Within this many hours.")


class TimeOfDayRule(_Rule):
    """FR-004: payment at an hour unusual for the customer (z-score of the hour)."""

    weight: float = Field(default=0.35, ge=0.0, le=1.0, description="Blend weight.")
    z_threshold: float = Field(default=2.0, gt=0, description="Fires beyond this many sigma.")
    min_history: int = Field(default=10, ge=1, description="Prior transactions needed first.")


class BlacklistRule(_Rule):
    """FR-005: customer, card or merchant on a blacklist."""

    weight: float = Field(default=1.0, ge=0.0, le=1.0, description="Blend weight.")
    customer_ids: frozenset[Identifier] = Field(default=frozenset(), description="Customers.")
    card_ids: frozenset[Identifier] = Field(default=frozenset(), description="Cards.")
    merchant_ids: frozenset[Identifier] = Field(default=frozenset(), description="Merchants.")


class MlConfig(_Rule):
    """The anomaly model's share of the score."""

    weight: float = Field(default=0.5, ge=0.0, le=1.0, description="Blend weight.")


class MerchantRiskConfig(_Rule):
    """Risk learned from confirmed feedback on a merchant, decaying over time."""

    weight: float = Field(default=0.6, ge=0.0, le=1.0, description="Blend weight.")
    half_life_days: float = Field(default=7.0, gt=0, description="Decay half-life of the risk.")


class RuleSetKey(Key):
    """Key of ``fraud.rules``: the rule set id (compaction keeps the latest per id)."""

    rule_set_id: Identifier = Field(description="Rule set id; the scorer follows 'default'.")


class RuleSet(Contract):
    """A complete, versioned rule configuration; a newer version replaces the older one whole."""

    rule_set_id: Identifier = Field(default="default", description="Which rule set this is.")
    version: int = Field(ge=1, description="Monotonic version; older versions are ignored.")
    created_at: AwareDatetime = Field(description="When this version was published.")
    alert_threshold: float = Field(
        default=0.5, gt=0.0, le=1.0, description="Scores at or above this raise an alert."
    )
    high_value: HighValueRule = Field(default_factory=HighValueRule, description="FR-001.")
    velocity: VelocityRule = Field(default_factory=VelocityRule, description="FR-002.")
    impossible_travel: ImpossibleTravelRule = Field(
        default_factory=ImpossibleTravelRule, description="FR-003."
    )
    time_of_day: TimeOfDayRule = Field(default_factory=TimeOfDayRule, description="FR-004.")
    blacklist: BlacklistRule = Field(default_factory=BlacklistRule, description="FR-005.")
    ml: MlConfig = Field(default_factory=MlConfig, description="Anomaly model.")
    merchant_risk: MerchantRiskConfig = Field(
        default_factory=MerchantRiskConfig, description="Feedback-learned merchant risk."
    )

    @model_validator(mode="after")
    def _something_enabled(self) -> RuleSet:
        parts = (
            self.high_value,
            self.velocity,
            self.impossible_travel,
            self.time_of_day,
            self.blacklist,
            self.ml,
            self.merchant_risk,
        )
        if not any(p.enabled and p.weight > 0 for p in parts):
            raise ValueError("a rule set must enable at least one rule with a positive weight")
        return self

    def key(self) -> RuleSetKey:
        """The Kafka key this rule set is produced with."""
        return RuleSetKey(rule_set_id=self.rule_set_id)
