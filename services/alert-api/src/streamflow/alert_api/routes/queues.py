"""``GET /v1/queues``: how many alerts wait in each queue (analyst status) under a filter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey
from streamflow.alert_api.deps import AppSettings, Db
from streamflow.alert_api.models import AlertStatus, QueueCounts
from streamflow.alert_api.problems import responses
from streamflow.alert_api.routes.alert_list import FilterParams

router = APIRouter(prefix="/v1", tags=["alerts"])


@router.get(
    "/queues",
    response_model=QueueCounts,
    summary="Alerts per queue",
    responses=responses(401, 403, 422, 429, 503),
)
async def queue_counts(
    _key: ReadKey, db: Db, settings: AppSettings, params: Annotated[FilterParams, Query()]
) -> QueueCounts:
    """The number of alerts per status (new, confirmed_fraud, false_positive) matching the same
    filters as ``GET /v1/alerts`` (all but ``status``, which is what it counts by).

    Exact with no filter or only ``severity`` / ``rule_id``; with any other filter each status
    is counted up to ``queue_count_cap`` alerts and a status beyond it is listed in ``capped``.
    """
    query = q.build_count_query(params.filters(), settings.queue_count_cap)
    counts = dict.fromkeys(AlertStatus, 0)
    capped: list[AlertStatus] = []
    for row in await db.fetch(query.sql, *query.args):
        status, alerts = AlertStatus(row["status"]), int(row["alerts"])
        if query.cap is not None and alerts > query.cap:
            alerts = query.cap
            capped.append(status)
        counts[status] = alerts
    return QueueCounts(
        counts=counts,
        total=sum(counts.values()),
        exact=not capped,
        capped=[status for status in AlertStatus if status in capped],
    )
