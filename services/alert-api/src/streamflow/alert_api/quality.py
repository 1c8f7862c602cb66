"""The quality dashboard's pure aggregation (ADR 0102), no I/O: the detection-quality mart's rows
pivoted into per-rule series and totals, time-to-verdict days filled in, Prometheus answers
aligned on one time axis. The routes (routes/quality.py) fetch; this module computes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from streamflow.alert_api.quality_models import (
    RuleDaily,
    RuleQuality,
    VerdictDay,
    VerdictSummary,
)

ALL = "ALL"


def day_axis(since: date, until: date) -> list[date]:
    """Every day from ``since`` to ``until``, both included (empty if until < since)."""
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded to 4 places, None when the denominator is 0."""
    return round(numerator / denominator, 4) if denominator else None


def rule_quality(
    rows: Iterable[Mapping[str, Any]], days: Sequence[date]
) -> tuple[list[int], list[RuleQuality]]:
    """Pivot mart rows (event_date, rule_id, alerts, confirmed_fraud, false_positives,
    fraud_total) into the fraud per day and one :class:`RuleQuality` per rule.

    Precision over the period is recomputed from the counts (not an average of daily ratios).
    Recall's denominator is each day's confirmed fraud, counted once per day (the mart repeats it
    on every rule's row), summed over the period: a day on which a rule did not fire but fraud was
    confirmed counts as recall 0 for it. A day's fraud with no alert at all has no row in the mart
    and so is not counted (the mart's grain, ADR 0102).
    """
    index = {d: i for i, d in enumerate(days)}
    fraud_total = [0] * len(days)
    per_rule: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        i = index.get(row["event_date"])
        if i is None:
            continue
        fraud_total[i] = max(fraud_total[i], int(row["fraud_total"] or 0))
        series = per_rule.setdefault(
            str(row["rule_id"]),
            {k: [0] * len(days) for k in ("alerts", "confirmed_fraud", "false_positives")},
        )
        for k in ("alerts", "confirmed_fraud", "false_positives"):
            series[k][i] += int(row[k] or 0)

    rules = []
    for rule_id, s in per_rule.items():
        confirmed, false_pos, alerts = s["confirmed_fraud"], s["false_positives"], s["alerts"]
        rules.append(
            RuleQuality(
                rule_id=rule_id,
                alerts=sum(alerts),
                confirmed_fraud=sum(confirmed),
                false_positives=sum(false_pos),
                unlabelled=max(0, sum(alerts) - sum(confirmed) - sum(false_pos)),
                precision=ratio(sum(confirmed), sum(confirmed) + sum(false_pos)),
                recall=ratio(sum(confirmed), sum(fraud_total)),
                daily=RuleDaily(
                    alerts=alerts,
                    confirmed_fraud=confirmed,
                    false_positives=false_pos,
                    precision=[ratio(c, c + f) for c, f in zip(confirmed, false_pos, strict=True)],
                    recall=[ratio(c, t) for c, t in zip(confirmed, fraud_total, strict=True)],
                ),
            )
        )
    rules.sort(key=lambda r: (r.rule_id != ALL, -r.alerts, r.rule_id))
    return fraud_total, rules


def verdict_days(
    rows: Iterable[Mapping[str, Any]], days: Sequence[date]
) -> tuple[list[VerdictDay], VerdictSummary]:
    """Per-day rows (day None: the whole period, SQL's grouping set ``()``) into every day of
    ``days`` (a day without alerts is zeros and nulls) and the period's summary."""
    by_day: dict[date, Mapping[str, Any]] = {}
    overall: Mapping[str, Any] = {}
    for row in rows:
        if row["day"] is None:
            overall = row
        else:
            by_day[row["day"]] = row

    def seconds(row: Mapping[str, Any], key: str) -> float | None:
        value = row.get(key)
        return None if value is None else round(float(value), 1)

    def counts(row: Mapping[str, Any]) -> dict[str, int]:
        alerts, judged = int(row.get("alerts") or 0), int(row.get("judged") or 0)
        return {"alerts": alerts, "judged": judged, "pending": alerts - judged}

    out = [
        VerdictDay(
            day=d,
            **counts(by_day.get(d, {})),
            p50_seconds=seconds(by_day.get(d, {}), "p50"),
            p90_seconds=seconds(by_day.get(d, {}), "p90"),
            mean_seconds=seconds(by_day.get(d, {}), "mean"),
        )
        for d in days
    ]
    summary = VerdictSummary(
        **counts(overall),
        p50_seconds=seconds(overall, "p50"),
        p90_seconds=seconds(overall, "p90"),
        mean_seconds=seconds(overall, "mean"),
        oldest_pending_seconds=seconds(overall, "oldest_pending"),
    )
    return out, summary


class PrometheusAnswerError(ValueError):
    """Prometheus answered, but not with a successful matrix."""


def matrix_points(
    body: Mapping[str, Any], combine: Callable[[Sequence[float]], float]
) -> dict[float, float]:
    """A ``query_range`` answer as {unix time: value}; several series are combined per time
    (``sum`` for a rate, ``max`` for a latency). NaN and infinite samples are dropped."""
    if body.get("status") != "success":
        raise PrometheusAnswerError(str(body.get("error") or "query failed"))
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusAnswerError(f"expected a matrix, got {data.get('resultType')!r}")
    samples: dict[float, list[float]] = {}
    for series in data.get("result") or []:
        for t, raw in series.get("values") or []:
            value = float(raw)
            if math.isfinite(value):
                samples.setdefault(float(t), []).append(value)
    return {t: combine(values) for t, values in samples.items()}


def align(points: Mapping[float, float], axis: Sequence[float]) -> list[float | None]:
    """The values at each time of ``axis`` (None where there is no sample), rounded."""
    return [None if (v := points.get(t)) is None else round(v, 6) for t in axis]


def time_axis(end: float, minutes: int, step: int) -> list[float]:
    """The sample times of a range query over the last ``minutes`` that ends at ``end`` (whole
    seconds, so the times Prometheus answers with are exactly these): the newest sample is
    the live value, the others go back by ``step``."""
    last = math.floor(end)
    count = minutes * 60 // step + 1
    return [float(last - (count - 1 - i) * step) for i in range(count)]


def latest(values: Sequence[float | None]) -> float | None:
    """The last sample that exists."""
    return next((v for v in reversed(values) if v is not None), None)
