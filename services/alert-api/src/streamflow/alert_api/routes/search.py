"""``GET /v1/search``: alerts by transaction, customer or merchant id, from the API's own tables.

Only ``app.alerts`` (and ``app.case_alerts``) are read, never bronze: three index lookups
(``alerts_transaction_idx``, ``alerts_customer_idx``, ``alerts_merchant_idx``), each stopped
after ``limit + 1`` rows, merged newest first. Cards are not searchable: an alert carries no card
id, and the API's tables hold none (ADR 0100).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey
from streamflow.alert_api.deps import Db
from streamflow.alert_api.models import SearchField, SearchHit, SearchResult
from streamflow.alert_api.problems import responses

router = APIRouter(prefix="/v1", tags=["search"])

SEARCH_MAX = 50
"""Most hits one search returns (the schema states it)."""

_FIELDS: tuple[SearchField, ...] = ("transaction_id", "customer_id", "merchant_id")
_SEARCH_SQL = f"""
with hits as (
    (select alert_id from app.alerts where transaction_id = $1
     order by detected_at desc, alert_id desc limit $2)
    union
    (select alert_id from app.alerts where customer_id = $1
     order by detected_at desc, alert_id desc limit $2)
    union
    (select alert_id from app.alerts where merchant_id = $1
     order by detected_at desc, alert_id desc limit $2)
)
select {q.SUMMARY_COLUMNS}, c.case_id
from hits h join app.alerts a using (alert_id) left join app.case_alerts c using (alert_id)
order by a.detected_at desc, a.alert_id desc limit $2
"""  # noqa: S608 - a constant column list only


@router.get(
    "/search",
    response_model=SearchResult,
    summary="Find alerts by transaction, customer or merchant id",
    responses=responses(401, 403, 422, 429, 503),
)
async def search(
    _key: ReadKey,
    db: Db,
    text: Annotated[
        str,
        Query(
            alias="q",
            min_length=1,
            max_length=64,
            pattern=q.IDENT,
            description="An exact transaction, customer or merchant id.",
            examples=["C0001"],
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=SEARCH_MAX, description="Most hits.")] = 20,
) -> SearchResult:
    """Alerts whose transaction, customer or merchant id equals ``q``, newest first, each with
    the fields that matched, its link and its case."""
    rows = await db.fetch(_SEARCH_SQL, text, limit + 1)
    items = []
    for row in rows[:limit]:
        summary = q.summary(row)
        items.append(
            SearchHit(
                **summary,
                matched=[f for f in _FIELDS if summary[f] == text],
                link=f"/v1/alerts/{summary['alert_id']}",
                case_id=row["case_id"],
            )
        )
    return SearchResult(query=text, items=items, truncated=len(rows) > limit)
