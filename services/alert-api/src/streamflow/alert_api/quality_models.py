"""Bodies of the quality dashboard's endpoints (``/v1/quality/*``, ADR 0102), with examples."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

MART: Literal["gold.agg_detection_quality"] = "gold.agg_detection_quality"

_RULES_EXAMPLE: JsonDict = {
    "source": MART,
    "available": True,
    "detail": None,
    "since": "2026-11-01",
    "until": "2026-11-03",
    "days": ["2026-11-01", "2026-11-02", "2026-11-03"],
    "fraud_total": [4, 0, 2],
    "rules": [
        {
            "rule_id": "ALL",
            "alerts": 31,
            "confirmed_fraud": 5,
            "false_positives": 3,
            "unlabelled": 23,
            "precision": 0.625,
            "recall": 0.8333,
            "daily": {
                "alerts": [12, 9, 10],
                "confirmed_fraud": [3, 0, 2],
                "false_positives": [1, 1, 1],
                "precision": [0.75, 0.0, 0.6667],
                "recall": [0.75, None, 1.0],
            },
        },
        {
            "rule_id": "FR-001",
            "alerts": 7,
            "confirmed_fraud": 2,
            "false_positives": 0,
            "unlabelled": 5,
            "precision": 1.0,
            "recall": 0.3333,
            "daily": {
                "alerts": [4, 0, 3],
                "confirmed_fraud": [2, 0, 0],
                "false_positives": [0, 0, 0],
                "precision": [1.0, None, None],
                "recall": [0.5, None, 0.0],
            },
        },
    ],
    "truncated": False,
}


class RuleDaily(BaseModel):
    """One rule's numbers per day, aligned with the response's ``days`` (null: undefined)."""

    alerts: list[int] = Field(description="Alerts the rule fired on, per day.")
    confirmed_fraud: list[int] = Field(description="Of them, confirmed fraud by feedback.")
    false_positives: list[int] = Field(description="Of them, labelled legit by feedback.")
    precision: list[float | None] = Field(
        description="confirmed / (confirmed + false positives); null without a labelled alert."
    )
    recall: list[float | None] = Field(
        description="confirmed / all fraud confirmed that day; null on a day without fraud."
    )


class RuleQuality(BaseModel):
    """Detection quality of one rule (``ALL``: the alert as a whole) over the period."""

    rule_id: str = Field(description="Rule id, or ALL for every alert.")
    alerts: int = Field(ge=0, description="Alerts over the period.")
    confirmed_fraud: int = Field(ge=0, description="Alerts confirmed as fraud by feedback.")
    false_positives: int = Field(ge=0, description="Alerts labelled legit by feedback.")
    unlabelled: int = Field(ge=0, description="Alerts without feedback yet.")
    precision: float | None = Field(
        ge=0, le=1, description="Over the period's labelled alerts; null if none."
    )
    recall: float | None = Field(
        ge=0,
        le=1,
        description="Confirmed fraud caught / all fraud confirmed on the period's days with "
        "alerts; null if none.",
    )
    daily: RuleDaily


class DetectionQuality(BaseModel):
    """Alert volume, precision and recall per rule and per day, from the warehouse's mart."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RULES_EXAMPLE]})

    source: Literal["gold.agg_detection_quality"] = Field(
        description="Where the numbers come from (built by dbt; as fresh as its last run)."
    )
    available: bool = Field(description="False when the mart is not built yet (no dbt run).")
    detail: str | None = Field(description="Why the numbers are missing, if they are.")
    since: date = Field(description="First event day (UTC) of the period.")
    until: date = Field(description="Last event day (UTC) of the period.")
    days: list[date] = Field(description="Every day of the period, oldest first (the x axis).")
    fraud_total: list[int] = Field(
        description="Fraud confirmed by feedback per day (recall's denominator)."
    )
    rules: list[RuleQuality] = Field(description="ALL first, then rules by alerts, descending.")
    truncated: bool = Field(description="True if the period held more mart rows than read.")


_VERDICT_EXAMPLE: JsonDict = {
    "since": "2026-11-01T00:00:00Z",
    "until": "2026-11-03T10:00:00Z",
    "days": [
        {
            "day": "2026-11-01",
            "alerts": 12,
            "judged": 10,
            "pending": 2,
            "p50_seconds": 540.0,
            "p90_seconds": 3600.0,
            "mean_seconds": 1210.5,
        },
        {
            "day": "2026-11-02",
            "alerts": 0,
            "judged": 0,
            "pending": 0,
            "p50_seconds": None,
            "p90_seconds": None,
            "mean_seconds": None,
        },
    ],
    "overall": {
        "alerts": 12,
        "judged": 10,
        "pending": 2,
        "p50_seconds": 540.0,
        "p90_seconds": 3600.0,
        "mean_seconds": 1210.5,
        "oldest_pending_seconds": 86400.0,
    },
}


class VerdictDay(BaseModel):
    """Time from an alert to its first verdict, for alerts detected on one day (UTC)."""

    day: date
    alerts: int = Field(ge=0, description="Alerts detected that day.")
    judged: int = Field(ge=0, description="Of them, with a verdict.")
    pending: int = Field(ge=0, description="Of them, still without a verdict.")
    p50_seconds: float | None = Field(description="Median seconds to the first verdict.")
    p90_seconds: float | None = Field(description="90th percentile.")
    mean_seconds: float | None = Field(description="Mean.")


class VerdictSummary(BaseModel):
    """The same over the whole period."""

    alerts: int = Field(ge=0)
    judged: int = Field(ge=0)
    pending: int = Field(ge=0)
    p50_seconds: float | None
    p90_seconds: float | None
    mean_seconds: float | None
    oldest_pending_seconds: float | None = Field(
        description="Age of the oldest alert of the period still without a verdict."
    )


class TimeToVerdict(BaseModel):
    """Time to verdict from the API's own tables (app.alerts, app.analyst_notes)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_VERDICT_EXAMPLE]})

    since: datetime = Field(description="Start of the period (midnight UTC).")
    until: datetime = Field(description="End of the period (now).")
    days: list[VerdictDay] = Field(description="Every day of the period, oldest first.")
    overall: VerdictSummary


_SCORER_EXAMPLE: JsonDict = {
    "source": "prometheus",
    "available": True,
    "detail": None,
    "queried_at": "2026-11-03T10:00:00Z",
    "minutes": 15,
    "step_seconds": 15,
    "rate_per_second": 4980.5,
    "latency_seconds": 0.42,
    "series": {
        "t": [1793700000.0, 1793700015.0, 1793700030.0],
        "rate_per_second": [4990.1, 5002.3, 4980.5],
        "latency_seconds": [0.38, 0.51, 0.42],
    },
}
_SCORER_DOWN_EXAMPLE: JsonDict = {
    "source": "prometheus",
    "available": False,
    "detail": "Prometheus unreachable: [Errno 111] Connection refused",
    "queried_at": "2026-11-03T10:00:00Z",
    "minutes": 15,
    "step_seconds": 15,
    "rate_per_second": None,
    "latency_seconds": None,
    "series": {"t": [], "rate_per_second": [], "latency_seconds": []},
}


class ScorerSeries(BaseModel):
    """Samples at ``t`` (Unix seconds); null where Prometheus had no sample."""

    t: list[float]
    rate_per_second: list[float | None]
    latency_seconds: list[float | None]


class ScorerLive(BaseModel):
    """The scorer's live rate and latency, read from Prometheus's HTTP API."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_SCORER_EXAMPLE, _SCORER_DOWN_EXAMPLE]}
    )

    source: Literal["prometheus"]
    available: bool = Field(
        description="False when Prometheus is unreachable or refused the queries (see detail); "
        "the response is still 200 so the dashboard can say so."
    )
    detail: str | None = Field(
        description="Why there are no numbers, or that the scorer exports none."
    )
    queried_at: datetime
    minutes: int = Field(description="Look-back of the series.")
    step_seconds: int = Field(description="Spacing of the samples.")
    rate_per_second: float | None = Field(description="Latest rate: transactions per second.")
    latency_seconds: float | None = Field(description="Latest latency in seconds.")
    series: ScorerSeries
