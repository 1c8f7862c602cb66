"""``/v1/stats`` (alerts per hour, top rules, precision) and ``/v1/metrics/realtime``."""

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
_WINDOWS = """
with latest as (
    select distinct on (store_id, window_start) store_id, window_start, window_end, txn_count,
           amount_sum, fraud_count
    from bronze.realtime_metrics
    where window_seconds = $1
      and window_end > (select max(window_end) from bronze.realtime_metrics
                        where window_seconds = $1) - make_interval(secs => $1 * $2)
    order by store_id, window_start, ingested_at desc
)
select window_start, max(window_end) as window_end, count(*) as stores,
       sum(txn_count)::bigint as txn_count, sum(amount_sum)::text as amount_sum,
       sum(fraud_count)::bigint as fraud_count
from latest group by window_start order by window_start desc
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
    windows: Annotated[int, Query(ge=1, le=120, description="How many latest windows.")] = 15,
) -> RealtimeMetrics:
    """All stores summed per window, newest first (deduplicated per store and window)."""
    rows = await db.fetch(_WINDOWS, window_seconds, windows)
    return RealtimeMetrics(
        window_seconds=window_seconds, windows=[MetricsWindow(**dict(r)) for r in rows]
    )
