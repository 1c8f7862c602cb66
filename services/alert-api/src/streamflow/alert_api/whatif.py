"""The rule what-if's replay (pure): the rule set in force and a candidate over the same rows.

Rows come in event-time order from the API's projection (``app.scored_transactions``). Both rule
sets score every row with the job's step through :class:`~streamflow.scoring.comparison.RuleSetRun`
(customer state, merchant risk fed by the analysts' verdicts when they were given). Rows before
``window_start`` only warm the customers' state up and are left out of every number. Rules only:
the API holds no model, so both sides score without the anomaly and supervised models (ADR 0104).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streamflow.events import RuleSet
from streamflow.scoring.comparison import Comparison, RuleSetRun
from streamflow.scoring.rules_io import rules_diff
from streamflow.scoring.scoring import Evaluation
from streamflow.scoring.view import TxnView

FRAUD = "confirmed_fraud"
LEGIT = "false_positive"
UNLABELLED = "unlabelled"
"""A row's label: the analysts' verdict on the transaction's alert, if any (the scenario field)."""

_K = 100
"""Card precision@k's k (not reported; RuleSetRun needs one)."""


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One stored transaction with its known label (1: confirmed fraud, else 0)."""

    view: TxnView
    label: int
    scenario: str


@dataclass(frozen=True, slots=True)
class LabelEvent:
    """A verdict on a merchant's transaction, applied to merchant risk from ``at`` on."""

    at: float
    merchant_id: str
    fraud: bool


def row_view(  # noqa: PLR0917 - one stored row's columns, positional for speed
    transaction_id: str,
    epoch: float,
    customer_id: str,
    card_id: str | None,
    merchant_id: str,
    amount: float | None,
    currency: str | None,
    channel: str | None,
    lat: float | None,
    lon: float | None,
) -> TxnView:
    """The job's view of a projected row (NaN for an unknown location, no device: the
    projection keeps none, and only the models read it)."""
    return TxnView(
        transaction_id,
        epoch,
        customer_id,
        card_id or "",
        merchant_id,
        0.0 if amount is None else amount,
        currency or "",
        channel or "",
        math.nan if lat is None else lat,
        math.nan if lon is None else lon,
        -1,
    )


_METADATA = ("created_at:", "version:", "schema_version:")


def setting_changes(old: RuleSet, new: RuleSet) -> list[str]:
    """``path: old -> new`` for every rule setting that differs (not the version stamps)."""
    return [line for line in rules_diff(old, new) if not line.startswith(_METADATA)]


def _fired(ev: Evaluation) -> list[str]:
    return [part.rule_id for part in ev.parts if part.triggered]


class WhatIf:
    """Feeds rows to both rule sets and collects what changes."""

    def __init__(
        self,
        base: RuleSet,
        candidate: RuleSet,
        window_start: float,
        labels: Sequence[LabelEvent] = (),
    ) -> None:
        self.base_rules, self.candidate_rules = base, candidate
        self.base = RuleSetRun(base, _K)
        self.candidate = RuleSetRun(candidate, _K)
        self.comparison = Comparison()
        self.window_start = window_start
        self._labels = sorted(labels, key=lambda label: label.at)
        self._next_label = 0
        self.warmup_rows = 0
        self.rows = 0
        self.examples: list[dict[str, Any]] = []

    def feed(self, row: StoredRow) -> None:
        """Score one row (in event-time order) with both rule sets."""
        view = row.view
        now = view.epoch
        labels = self._labels
        while self._next_label < len(labels) and labels[self._next_label].at <= now:
            label = labels[self._next_label]
            self.base.learn(label.merchant_id, label.fraud, label.at)
            self.candidate.learn(label.merchant_id, label.fraud, label.at)
            self._next_label += 1
        before = self.base.score(view, None)
        after = self.candidate.score(view, None)
        if now < self.window_start:
            self.warmup_rows += 1
            return
        self.rows += 1
        base_alert = self.base.record(row, before)
        other_alert = self.candidate.record(row, after)
        if base_alert == other_alert:
            return
        comparison = self.comparison
        shown = len(comparison.examples_only_base) + len(comparison.examples_only_other)
        comparison.add(view.transaction_id, row.label, base_alert, other_alert)
        if len(comparison.examples_only_base) + len(comparison.examples_only_other) > shown:
            self.examples.append(_example(row, before, after, added=other_alert))

    def result(self) -> dict[str, Any]:
        """The numbers of the window (JSON-ready; ``WhatIfResult`` in rules_models.py)."""
        before, after = self.base.report(), self.candidate.report()
        rule_ids = sorted(set(before["per_rule"]) | set(after["per_rule"]))
        frauds = before["frauds"]
        legit = before["per_scenario"].get(LEGIT, {}).get("rows", 0)
        comparison = self.comparison
        return {
            "rows": self.rows,
            "warmup_rows": self.warmup_rows,
            "labels": {
                "fraud": frauds,
                "legit": legit,
                "unlabelled": self.rows - frauds - legit,
            },
            "changes": setting_changes(self.base_rules, self.candidate_rules),
            "before": _summary(before, self.base.totals.caught),
            "after": _summary(after, self.candidate.totals.caught),
            "alerts_added": comparison.only_other,
            "alerts_removed": comparison.only_base,
            "frauds_added": comparison.frauds_only_other,
            "frauds_removed": comparison.frauds_only_base,
            "per_rule": [
                {
                    "rule_id": rule_id,
                    "before": _rule(before["per_rule"].get(rule_id)),
                    "after": _rule(after["per_rule"].get(rule_id)),
                }
                for rule_id in rule_ids
            ],
            "examples": self.examples,
        }


def _summary(report: dict[str, Any], caught: int) -> dict[str, Any]:
    return {
        "rules_version": report["rules_version"],
        "alert_threshold": report["alert_threshold"],
        "alerts": report["alerts"],
        "caught": caught,
        "precision": report["precision"],
        "recall": report["recall"],
        "alerts_per_1000": report["alerts_per_1000"],
    }


def _rule(report: dict[str, Any] | None) -> dict[str, Any]:
    if report is None:
        return {"fired": 0, "fired_on_fraud": 0, "precision": None, "recall": None}
    return {
        "fired": report["fired"],
        "fired_on_fraud": report["fired_on_fraud"],
        "precision": report["precision"],
        "recall": report["fraud_coverage"],
    }


def _example(
    row: StoredRow, before: Evaluation, after: Evaluation, *, added: bool
) -> dict[str, Any]:
    view = row.view
    return {
        "transaction_id": view.transaction_id,
        "customer_id": view.customer_id,
        "merchant_id": view.merchant_id,
        "amount": view.amount,
        "event_time": datetime.fromtimestamp(view.epoch, UTC).isoformat(),
        "change": "added" if added else "removed",
        "label": row.scenario,
        "score_before": before.score,
        "score_after": after.score,
        "rules_before": _fired(before),
        "rules_after": _fired(after),
    }
