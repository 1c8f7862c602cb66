"""``/v1/stats`` (alerts per hour, top rules, precision) and ``/v1/metrics/realtime``.

Both read the API's own tables, never bronze (ADR 0101, 0105): ``app.alerts`` and
``app.realtime_metrics``, the projection of the scorer's window metrics that a trigger on
bronze.realtime_metrics writes in the ingestor's landing transaction (migration V042), so the
real-time windows are as fresh as bronze: 0 s behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from streamflow.alert_api.auth import ReadKey
from streamflow.alert_api.deps import Db
from streamflow.alert_api.models import (
    FeedbackStats,
    HourCount,
    MetricsWindow,
    RealtimeMetrics,
    RuleCount,
    Stats,
)
from streamflow.alert_api.problems import responses

router = APIRouter(prefix="/v1", tags=["statistics"])

_PER_HOUR = """
select date_trunc('hour', detected_at) as hour, count(*) as alerts
from app.alerts where detected_at >= $1 group by 1 order by 1
"""
_TOP_RULES = """
select rule_id, count(*) as alerts
from app.alerts, unnest(rule_ids) as rule_id
where detected_at >= $1 group by rule_id order by alerts desc, rule_id limit $2
"""
# Precision counts every verdict ever given (feedback is scarce; a 24 h window would be noise).
_FEEDBACK = """
select count(*) filter (where status = 'confirmed_fraud') as confirmed_fraud,
       count(*) filter (where status = 'false_positive') as false_positive
from app.alerts where status <> 'new'
"""
# The API's projection of bronze.realtime_metrics (V042): one row per (size, store, window), the
# latest landing already picked, written in the ingestor's landing transaction (0 s behind bronze).
_WINDOWS = """
select window_start, max(window_end) as window_end, count(*) as stores,
       sum(txn_count)::bigint as txn_count, sum(amount_sum)::text as amount_sum,
       sum(fraud_count)::bigint as fraud_count
from app.realtime_metrics
where window_seconds = $1
  and window_end > (select max(window_end) from app.realtime_metrics
                    where window_seconds = $1) - make_interval(secs => $1 * $2)
group by window_start order by window_start desc
"""


@router.get(
    "/stats",
    response_model=Stats,
    summary="Alert statistics",
    responses=responses(401, 403, 422, 429, 503),
)
async def stats(
    _key: ReadKey,
    db: Db,
    hours: Annotated[int, Query(ge=1, le=24 * 31, description="Look-back in hours.")] = 24,
    top: Annotated[int, Query(ge=1, le=50, description="How many rules to rank.")] = 10,
) -> Stats:
    """Alerts per hour and top rules over the look-back; precision from all analyst verdicts."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    per_hour = await db.fetch(_PER_HOUR, since)
    rules = await db.fetch(_TOP_RULES, since, top)
    verdicts = await db.fetchrow(_FEEDBACK)
    judged = verdicts["confirmed_fraud"] + verdicts["false_positive"]
    return Stats(
        since=since,
        total_alerts=sum(r["alerts"] for r in per_hour),
        alerts_per_hour=[HourCount(**dict(r)) for r in per_hour],
        top_rules=[RuleCount(**dict(r)) for r in rules],
        feedback=FeedbackStats(
            **dict(verdicts),
            precision=verdicts["confirmed_fraud"] / judged if judged else None,
        ),
    )


@router.get(
    "/metrics/realtime",
    response_model=RealtimeMetrics,
    summary="Latest real-time window aggregates",
    responses=responses(401, 403, 422, 429, 503),
)
async def realtime(
    _key: ReadKey,
    db: Db,
    window_seconds: Annotated[
        int, Query(description="Window size: 60, 300 or 3600.", ge=60, le=3600)
    ] = 60,
    # 120: the windows migration V042's projection keeps per size; raise both together.
    windows: Annotated[int, Query(ge=1, le=120, description="How many latest windows.")] = 15,
) -> RealtimeMetrics:
    """All stores summed per window, newest first (the latest record per store and window).

    Freshness: a window is here as soon as the ingestor lands it in bronze (the projection
    `app.realtime_metrics` is written in the same transaction: 0 s behind bronze); the windows
    are the latest ones the scorer has emitted, ending within `windows` windows of the newest.
    """
    rows = await db.fetch(_WINDOWS, window_seconds, windows)
    return RealtimeMetrics(
        window_seconds=window_seconds, windows=[MetricsWindow(**dict(r)) for r in rows]
    )
