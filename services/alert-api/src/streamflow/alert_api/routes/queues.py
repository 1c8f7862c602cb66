"""``GET /v1/queues``: how many alerts wait in each queue (analyst status) under a filter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey
from streamflow.alert_api.deps import Db
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
    _key: ReadKey, db: Db, params: Annotated[FilterParams, Query()]
) -> QueueCounts:
    """The number of alerts per status (new, confirmed_fraud, false_positive) matching the same
    filters as ``GET /v1/alerts`` (all but ``status``, which is what it counts by)."""
    sql, args = q.build_count_query(params.filters())
    counts = dict.fromkeys(AlertStatus, 0)
    for row in await db.fetch(sql, *args):
        counts[AlertStatus(row["status"])] = row["alerts"]
    return QueueCounts(counts=counts, total=sum(counts.values()))
