"""``/v1/quality/*``: the quality dashboard's data (issue #21 item 5, ADR 0102).

- ``rules``: alert volume, precision and recall per rule and per day from the warehouse's
  detection-quality mart, read through ``app.detection_quality()`` (V037: the API role may run
  exactly that read of gold, nothing else of it); never bronze.
- ``verdict-time``: time from an alert to its first verdict, from the API's own tables.
- ``scorer``: the scorer's live rate and latency from Prometheus's HTTP API.

A dependency that is not there (no dbt run yet, Prometheus down) is stated in the body
(``available: false`` and ``detail``) with a 200, never a 5xx: the dashboard draws what it has and
says what it lacks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query

from streamflow.alert_api import quality
from streamflow.alert_api.auth import ReadKey
from streamflow.alert_api.deps import AppSettings, Db
from streamflow.alert_api.problems import responses
from streamflow.alert_api.prometheus_api import PrometheusUnavailableError, query_range
from streamflow.alert_api.quality_models import (
    MART,
    DetectionQuality,
    ScorerLive,
    ScorerSeries,
    TimeToVerdict,
)

router = APIRouter(prefix="/v1/quality", tags=["quality"])
log = logging.getLogger(__name__)

_MART_SQL = "select * from app.detection_quality($1, $2, $3)"

# One row per day of detection (UTC) and one for the whole period (day null). The first verdict is
# the alert's oldest analyst note with a verdict (every verdict writes one, verdicts.py), kept on
# the alert as first_verdict_at by V046's triggers on the notes; an alert judged before notes
# carried verdicts falls back to status_updated_at. At a million alerts in a period the former
# statement (the period's notes grouped and hash-joined with the alerts' heap rows, every alert
# sorted by day for GROUPING SETS, numeric epochs) neared the 5 s statement timeout (ADR 0102).
# Now the alerts are read by index-only scans of alerts_verdict_time_idx, whose leading key is
# the UTC day, so the per-day groups come out in index order (no sort of the period's alerts);
# the period's row sums the days and sorts only the judged alerts' seconds for its percentiles.
_VERDICT_SQL = """
with s as not materialized (
    select (x.detected_at at time zone 'UTC')::date as day, x.detected_at,
           case when x.first_verdict_at is not null or x.status <> 'new' then
               greatest(0, date_part('epoch',
                   coalesce(x.first_verdict_at, x.status_updated_at) - x.detected_at))
           end as seconds
    from app.alerts as x
    where (x.detected_at at time zone 'UTC')::date between $3 and $4
      and x.detected_at >= $1 and x.detected_at <= $2
),
d as (
    select day, count(*) as alerts, count(seconds) as judged,
           percentile_cont(0.5) within group (order by seconds) as p50,
           percentile_cont(0.9) within group (order by seconds) as p90,
           sum(seconds) as total,
           min(detected_at) filter (where seconds is null) as oldest
    from s group by day
)
select day, alerts, judged, p50, p90, total / nullif(judged, 0) as mean,
       extract(epoch from ($2 - oldest)) as oldest_pending
from d
union all
select null, sum(alerts), sum(judged), p.p50, p.p90, sum(total) / nullif(sum(judged), 0),
       extract(epoch from ($2 - min(oldest)))
from d, (
    select percentile_cont(0.5) within group (order by seconds) as p50,
           percentile_cont(0.9) within group (order by seconds) as p90
    from s where seconds is not null
) as p
group by p.p50, p.p90
"""
# For that statement only (its transaction): the period's percentile sort in memory (a million
# judged alerts take ~24 MB; the default 4 MB spills to disk), and no JIT compilation, which the
# planner's estimate for a million rows triggers (~0.1-0.2 s of compiling per call).
VERDICT_SETTINGS = "set local work_mem = '32MB'; set local jit = off"


def _days(days: int) -> tuple[date, date]:
    until = datetime.now(UTC).date()
    return until - timedelta(days=days - 1), until


Days = Annotated[int, Query(ge=1, le=90, description="Days back, today (UTC) included.")]


@router.get(
    "/rules",
    response_model=DetectionQuality,
    summary="Detection quality per rule and day (warehouse mart)",
    responses=responses(401, 403, 422, 429, 503),
)
async def rules(_key: ReadKey, db: Db, settings: AppSettings, days: Days = 14) -> DetectionQuality:
    """Alert volume, precision and recall per rule (and ALL) and per event day, from
    ``gold.agg_detection_quality`` (built by dbt, as fresh as its last run). Before the first
    dbt run the mart does not exist: ``available`` is false and ``detail`` says so."""
    since, until = _days(days)
    axis = quality.day_axis(since, until)
    limit = settings.quality_max_rows
    try:
        rows = await db.fetch(_MART_SQL, since, until, limit + 1)
    except asyncpg.UndefinedTableError:
        return DetectionQuality(
            source=MART,
            available=False,
            detail=f"{MART} is not built yet: run the warehouse (dbt) first",
            since=since,
            until=until,
            days=axis,
            fraud_total=[0] * len(axis),
            rules=[],
            truncated=False,
        )
    fraud_total, per_rule = quality.rule_quality(rows[:limit], axis)
    return DetectionQuality(
        source=MART,
        available=True,
        detail=None if rows else "no alerts in the mart for this period",
        since=since,
        until=until,
        days=axis,
        fraud_total=fraud_total,
        rules=per_rule,
        truncated=len(rows) > limit,
    )


@router.get(
    "/verdict-time",
    response_model=TimeToVerdict,
    summary="Time from alert to verdict per day",
    responses=responses(401, 403, 422, 429, 503),
)
async def verdict_time(_key: ReadKey, db: Db, days: Days = 14) -> TimeToVerdict:
    """For the alerts detected on each day (UTC): how many got a verdict, how long the first
    verdict took (median, p90, mean seconds), how many wait; from app.alerts and
    app.analyst_notes."""
    since_day, until_day = _days(days)
    since = datetime(since_day.year, since_day.month, since_day.day, tzinfo=UTC)
    until = datetime.now(UTC)
    async with db.connection() as conn, conn.transaction():
        await conn.execute(VERDICT_SETTINGS)
        rows = await conn.fetch(_VERDICT_SQL, since, until, since_day, until_day)
    per_day, overall = quality.verdict_days(rows, quality.day_axis(since_day, until_day))
    return TimeToVerdict(since=since, until=until, days=per_day, overall=overall)


@router.get(
    "/scorer",
    response_model=ScorerLive,
    summary="The scorer's live rate and latency (Prometheus)",
    responses=responses(401, 403, 422, 429),
)
async def scorer(
    _key: ReadKey,
    settings: AppSettings,
    minutes: Annotated[int, Query(ge=5, le=360, description="Look-back in minutes.")] = 15,
) -> ScorerLive:
    """The scorer's throughput (transactions/s) and latency (s) over the look-back, from
    Prometheus (``STREAMFLOW_API_PROMETHEUS_URL``, queries ``STREAMFLOW_API_SCORER_*_QUERY``).
    Prometheus unreachable or refusing a query: 200 with ``available: false`` and the reason."""
    step = max(5, minutes * 60 // 120)
    axis = quality.time_axis(time.time(), minutes, step)
    now = datetime.now(UTC)
    empty = ScorerSeries(t=[], rate_per_second=[], latency_seconds=[])
    try:
        # The two queries at once: each waits on Prometheus in a worker thread.
        rate_body, latency_body = await asyncio.gather(
            *(
                query_range(
                    settings.prometheus_url,
                    query,
                    start=axis[0],
                    end=axis[-1],
                    step=step,
                    deadline_s=settings.prometheus_timeout_s,
                )
                for query in (settings.scorer_rate_query, settings.scorer_latency_query)
            )
        )
        rate = quality.align(quality.matrix_points(rate_body, sum), axis)
        latency = quality.align(quality.matrix_points(latency_body, max), axis)
    except (PrometheusUnavailableError, quality.PrometheusAnswerError) as exc:
        log.warning("quality dashboard: %s (%s)", exc, settings.prometheus_url)
        return ScorerLive(
            source="prometheus",
            available=False,
            detail=str(exc),
            queried_at=now,
            minutes=minutes,
            step_seconds=step,
            rate_per_second=None,
            latency_seconds=None,
            series=empty,
        )
    current_rate, current_latency = quality.latest(rate), quality.latest(latency)
    missing = [
        name
        for name, value in (("rate", current_rate), ("latency", current_latency))
        if value is None
    ]
    return ScorerLive(
        source="prometheus",
        available=True,
        detail=(
            f"Prometheus has no scorer {' or '.join(missing)} samples in the last {minutes} "
            "minutes (is the scorer running and scraped?)"
            if missing
            else None
        ),
        queried_at=now,
        minutes=minutes,
        step_seconds=step,
        rate_per_second=current_rate,
        latency_seconds=current_latency,
        series=ScorerSeries(t=axis, rate_per_second=rate, latency_seconds=latency),
    )
