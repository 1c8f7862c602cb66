"""Bodies of the rule endpoints (``/v1/rules``: the rule set in force, what-ifs, publishing)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_WHATIF_ID = 1
"""The what-if id of the schema's examples."""

_SIDE = {
    "rules_version": 1,
    "alert_threshold": 0.5,
    "alerts": 12,
    "caught": 9,
    "precision": 0.75,
    "recall": 0.6,
    "alerts_per_1000": 4.1,
}
_RESULT_EXAMPLE: dict[str, Any] = {
    "rows": 2930,
    "warmup_rows": 1210,
    "labels": {"fraud": 15, "legit": 3, "unlabelled": 2912},
    "changes": ["velocity.max_count: 5 -> 3"],
    "before": _SIDE,
    "after": {**_SIDE, "rules_version": 2, "alerts": 19, "caught": 13, "precision": 0.684},
    "alerts_added": 7,
    "alerts_removed": 0,
    "frauds_added": 4,
    "frauds_removed": 0,
    "per_rule": [
        {
            "rule_id": "FR-002",
            "before": {"fired": 3, "fired_on_fraud": 3, "precision": 1.0, "recall": 0.2},
            "after": {"fired": 10, "fired_on_fraud": 7, "precision": 0.7, "recall": 0.467},
        }
    ],
    "examples": [
        {
            "transaction_id": "tx-000042",
            "customer_id": "C0001",
            "merchant_id": "M0042",
            "amount": 120.0,
            "event_time": "2026-12-01T10:00:00+00:00",
            "change": "added",
            "label": "confirmed_fraud",
            "score_before": 0.0,
            "score_after": 0.85,
            "rules_before": [],
            "rules_after": ["FR-002"],
        }
    ],
    "window_start": "2026-11-24T10:00:00+00:00",
    "window_end": "2026-12-01T10:00:00+00:00",
    "replay_start": "2026-11-21T10:00:00+00:00",
    "capped": False,
    "seconds": 1.9,
    "cpu_seconds": 0.9,
    "rows_per_second": 2178.9,
}


class RulesInForce(BaseModel):
    """The rule set the scorer applies now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "fraud.rules",
                    "topic": "fraud.rules",
                    "next_version": 2,
                    "rules": {"rule_set_id": "default", "version": 1},
                }
            ]
        }
    )

    source: Literal["fraud.rules", "built-in defaults"] = Field(
        description="Where it comes from: the topic's newest valid record, or the defaults "
        "(nothing published yet)."
    )
    topic: str = Field(description="The rules topic of this deployment.")
    next_version: int = Field(ge=2, description="The version a new rule set must carry.")
    rules: dict[str, Any] = Field(
        description="The rule set (the `fraud.rules` contract, `RuleSet`), every field set."
    )


class WhatIfStatus(StrEnum):
    """Where a what-if stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RuleSide(BaseModel):
    """One rule set's numbers over the window (warm-up excluded)."""

    rules_version: int
    alert_threshold: float
    alerts: int = Field(description="Transactions it alerts on.")
    caught: int = Field(description="Alerted transactions an analyst confirmed as fraud.")
    precision: float | None = Field(description="caught / alerts (null without alerts).")
    recall: float | None = Field(description="caught / confirmed frauds (null without frauds).")
    alerts_per_1000: float


class RuleNumbers(BaseModel):
    """How one rule fired over the window."""

    fired: int
    fired_on_fraud: int
    precision: float | None = Field(description="fired_on_fraud / fired.")
    recall: float | None = Field(description="fired_on_fraud / confirmed frauds.")


class RuleChange(BaseModel):
    """One rule before and after."""

    rule_id: str
    before: RuleNumbers
    after: RuleNumbers


class ChangedTransaction(BaseModel):
    """A transaction whose alert decision the candidate changes."""

    transaction_id: str
    customer_id: str
    merchant_id: str
    amount: float
    event_time: datetime
    change: Literal["added", "removed"] = Field(description="An alert added or removed.")
    label: Literal["confirmed_fraud", "false_positive", "unlabelled"]
    score_before: float
    score_after: float
    rules_before: list[str]
    rules_after: list[str]


class Labels(BaseModel):
    """The window's transactions by known label (the analysts' verdicts on their alerts)."""

    fraud: int
    legit: int
    unlabelled: int = Field(description="No verdict: counted as not fraud.")


class WhatIfResult(BaseModel):
    """What the candidate changes over the window (rules only, no model: ADR 0104)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RESULT_EXAMPLE]})

    rows: int = Field(description="Transactions in the window (counted).")
    warmup_rows: int = Field(description="Transactions before it: state only, not counted.")
    labels: Labels
    changes: list[str] = Field(description="`path: old -> new` per changed setting.")
    before: RuleSide = Field(description="The rule set in force.")
    after: RuleSide = Field(description="The candidate.")
    alerts_added: int
    alerts_removed: int
    frauds_added: int = Field(description="Confirmed frauds among the added alerts.")
    frauds_removed: int = Field(description="Confirmed frauds among the removed alerts.")
    per_rule: list[RuleChange]
    examples: list[ChangedTransaction] = Field(
        description="Up to 20 added and 20 removed alerts, oldest first."
    )
    window_start: datetime
    window_end: datetime
    replay_start: datetime = Field(description="Where the warm-up began.")
    capped: bool = Field(
        description="More rows than STREAMFLOW_API_WHATIF_MAX_ROWS: the newest were replayed "
        "(the warm-up, or even the window, starts later)."
    )
    seconds: float
    cpu_seconds: float
    rows_per_second: float | None


class WhatIfRun(BaseModel):
    """A what-if and its progress; ``result`` once it is done."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "whatif_id": EXAMPLE_WHATIF_ID,
                    "status": "done",
                    "requested_by": "admin",
                    "requested_at": "2026-12-01T10:00:00Z",
                    "days": 7,
                    "warmup_days": 3,
                    "rows_done": 4140,
                    "rows_total": 4140,
                    "progress": 1.0,
                    "started_at": "2026-12-01T10:00:00.2Z",
                    "finished_at": "2026-12-01T10:00:02.1Z",
                    "error": None,
                    "candidate": {"rule_set_id": "default", "version": 2},
                    "result": _RESULT_EXAMPLE,
                }
            ]
        }
    )

    whatif_id: int = Field(ge=1)
    status: WhatIfStatus
    requested_by: str = Field(description="The API key's name.")
    requested_at: datetime
    days: int
    warmup_days: int
    rows_done: int
    rows_total: int | None = Field(description="Known once the worker has counted the rows.")
    progress: float | None = Field(ge=0, le=1, description="rows_done / rows_total.")
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(description="Why it failed.")
    candidate: dict[str, Any] = Field(description="The candidate rule set (`RuleSet`).")
    result: WhatIfResult | None


class Published(BaseModel):
    """A rule set produced to ``fraud.rules``; the running job applies it without a restart."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rule_set_id": "default",
                    "version": 2,
                    "topic": "fraud.rules",
                    "published_at": "2026-12-01T10:05:00Z",
                    "changes": ["velocity.max_count: 5 -> 3"],
                }
            ]
        }
    )

    rule_set_id: str
    version: int
    topic: str
    published_at: datetime
    changes: list[str] = Field(description="Against the rule set that was in force.")
