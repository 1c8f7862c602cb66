"""``/v1/customers/{id}/risk``: a customer's profile, statistics and recent alerts.

Reads only the API's own schema and the reference data: ``app.alerts`` and
``app.scored_transactions`` (ADR 0101), never bronze. The timeline is routes/timeline.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey
from streamflow.alert_api.deps import Db
from streamflow.alert_api.models import (
    AlertSummary,
    CustomerProfile,
    CustomerRisk,
    CustomerStats,
)
from streamflow.alert_api.problems import ProblemError, responses

router = APIRouter(prefix="/v1/customers", tags=["customers"])

_ALERT_STATS = """
select count(*) as alert_count,
       count(*) filter (where status = 'new') as open_alerts,
       count(*) filter (where status = 'confirmed_fraud') as confirmed_fraud,
       count(*) filter (where status = 'false_positive') as false_positive,
       max(score) as max_score, avg(score) as avg_score, max(detected_at) as last_alert_at
from app.alerts where customer_id = $1
"""
# The API's projection (ADR 0101): one row per scored transaction, within the retention.
_TXN_STATS = """
select count(*) as transaction_count, coalesce(sum(amount), 0)::text as transaction_amount
from app.scored_transactions where customer_id = $1
"""
_PROFILE = """
select name, home_city, home_state, spending_profile from ref.customers where customer_id = $1
"""
_RECENT = f"""
select {q.SUMMARY_COLUMNS} from app.alerts where customer_id = $1
order by detected_at desc, alert_id desc limit 10
"""  # noqa: S608 - a constant column list only


@router.get(
    "/{customer_id}/risk",
    response_model=CustomerRisk,
    summary="A customer's risk picture",
    responses=responses(401, 403, 404, 422, 429, 503),
)
async def customer_risk(
    customer_id: Annotated[
        str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    ],
    _key: ReadKey,
    db: Db,
) -> CustomerRisk:
    """Profile (reference data), alert and transaction statistics, the 10 latest alerts."""
    alerts = await db.fetchrow(_ALERT_STATS, customer_id)
    txns = await db.fetchrow(_TXN_STATS, customer_id)
    profile = await db.fetchrow(_PROFILE, customer_id)
    if profile is None and alerts["alert_count"] == 0 and txns["transaction_count"] == 0:
        raise ProblemError(
            404, f"nothing known about customer {customer_id}", field="path.customer_id"
        )
    recent = await db.fetch(_RECENT, customer_id)
    return CustomerRisk(
        customer_id=customer_id,
        profile=CustomerProfile(**dict(profile)) if profile is not None else None,
        statistics=CustomerStats(**dict(alerts), **dict(txns)),
        recent_alerts=[AlertSummary.model_validate(q.summary(r)) for r in recent],
    )
