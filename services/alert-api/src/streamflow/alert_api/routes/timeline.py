"""``GET /v1/customers/{id}/timeline``: a customer's recent transactions, scores, rules, alerts.

Reads the API's own tables only (ADR 0101): ``app.scored_transactions`` (projected from bronze in
the ingestor's transaction, so 0 s behind it), ``app.alerts`` and ``app.case_alerts``. A page is
one index range of ``scored_transactions_customer_idx`` (keyset on event time, then id), the
alerts of its transactions one probe each of ``alerts_transaction_idx``; the previous located
transaction before the page's oldest one is looked up in at most 500 older rows.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey
from streamflow.alert_api.deps import AppSettings, Db
from streamflow.alert_api.models import (
    TIMELINE_CURSOR_MAX_LENGTH,
    TIMELINE_CURSOR_PATTERN,
    TIMELINE_MAX,
    Freshness,
    Hop,
    Location,
    PriorVerdict,
    Timeline,
    TimelineAlert,
    TimelineItem,
    TimelineWindow,
)
from streamflow.alert_api.problems import responses

router = APIRouter(prefix="/v1/customers", tags=["customers"])

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EARTH_RADIUS_KM = 6371.0088
PRIOR_VERDICTS = 20
_LOOKBACK_ROWS = 500

_COLUMNS = """transaction_id, card_id, merchant_id, store_id, amount, currency, channel,
payment_method, event_time, fraud_score, is_alert, rule_ids, rules_version, model_version,
scored_at, latitude, longitude, landed_at"""
# Two statements, not one with "$2 is null or ...": a prepared generic plan keeps the keyset
# condition an index range only when it is unconditional.
_FIRST_PAGE_SQL = f"""
select {_COLUMNS} from app.scored_transactions where customer_id = $1
order by event_time desc, transaction_id desc limit $2
"""  # noqa: S608 - a constant column list only
_NEXT_PAGE_SQL = f"""
select {_COLUMNS} from app.scored_transactions
where customer_id = $1 and (event_time, transaction_id) < ($2, $3)
order by event_time desc, transaction_id desc limit $4
"""  # noqa: S608 - a constant column list only
_PREVIOUS_LOCATED_SQL = f"""
select transaction_id, event_time, latitude, longitude from (
    select transaction_id, event_time, latitude, longitude from app.scored_transactions
    where customer_id = $1 and (event_time, transaction_id) < ($2, $3)
    order by event_time desc, transaction_id desc limit {_LOOKBACK_ROWS}
) older where latitude is not null and longitude is not null
order by event_time desc, transaction_id desc limit 1
"""  # noqa: S608 - a constant only
_ALERTS_SQL = """
select a.transaction_id, a.alert_id::text as alert_id, a.severity, a.score, a.status,
       a.status_updated_at, c.case_id
from app.alerts a left join app.case_alerts c using (alert_id)
where a.transaction_id = any($1::text[])
order by a.detected_at desc, a.alert_id desc
"""
_VERDICTS_SQL = """
select alert_id::text as alert_id, transaction_id, status as verdict, status_updated_at as at
from app.alerts where customer_id = $1 and status <> 'new'
order by status_updated_at desc nulls last, alert_id desc limit $2
"""


def encode_cursor(event_time: datetime, transaction_id: str) -> str:
    """The position after a row: its event time in microseconds since the epoch, and its id."""
    micros = (event_time - EPOCH) // timedelta(microseconds=1)
    return f"{max(micros, 0)}_{transaction_id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Any text of :data:`TIMELINE_CURSOR_PATTERN` (the schema checked it) is a position."""
    micros, transaction_id = cursor.split("_", 1)
    return EPOCH + timedelta(microseconds=int(micros)), transaction_id


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points, in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def hop(older: Any, newer: Any) -> Hop:
    """From ``older`` to ``newer`` (rows with transaction_id, event_time, latitude, longitude)."""
    km = haversine_km(
        (older["latitude"], older["longitude"]), (newer["latitude"], newer["longitude"])
    )
    hours = max((newer["event_time"] - older["event_time"]).total_seconds(), 0.0) / 3600
    return Hop(
        from_transaction_id=older["transaction_id"],
        to_transaction_id=newer["transaction_id"],
        km=round(km, 3),
        hours=round(hours, 4),
        km_per_hour=round(km / hours, 1) if hours > 0 else None,
    )


def _located(row: Any) -> bool:
    return row["latitude"] is not None and row["longitude"] is not None


def _alert(row: Any) -> TimelineAlert:
    judged = row["status"] != "new"
    return TimelineAlert(
        alert_id=row["alert_id"],
        severity=row["severity"],
        score=row["score"],
        status=row["status"],
        verdict=row["status"] if judged else None,
        verdict_at=row["status_updated_at"] if judged else None,
        case_id=row["case_id"],
    )


@router.get(
    "/{customer_id}/timeline",
    response_model=Timeline,
    summary="A customer's transaction timeline",
    responses=responses(401, 403, 422, 429, 503),
)
async def customer_timeline(
    customer_id: Annotated[
        str,
        Path(min_length=1, max_length=64, pattern=q.IDENT, examples=["C0001"]),
    ],
    _key: ReadKey,
    db: Db,
    settings: AppSettings,
    limit: Annotated[
        int,
        Query(ge=1, le=TIMELINE_MAX, description=f"Transactions per page (1 to {TIMELINE_MAX})."),
    ] = 50,
    cursor: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=TIMELINE_CURSOR_MAX_LENGTH,
            pattern=TIMELINE_CURSOR_PATTERN,
            description="``next_cursor`` of the previous page (older transactions).",
            examples=["1793543400000000_tx-000001"],
        ),
    ] = None,
) -> Timeline:
    """The customer's transactions newest first, each with its score, the rules that fired, its
    alerts (status and verdict), its amount against the mean of the returned window and its
    distance from the previous located transaction; the verdicts analysts gave on the
    customer's alerts; and how fresh the data is (the projection is 0 s behind bronze)."""
    if cursor is None:
        rows = await db.fetch(_FIRST_PAGE_SQL, customer_id, limit + 1)
    else:
        after_time, after_id = decode_cursor(cursor)
        rows = await db.fetch(_NEXT_PAGE_SQL, customer_id, after_time, after_id, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    alerts: dict[str, list[TimelineAlert]] = {}
    if page:
        for a in await db.fetch(_ALERTS_SQL, [r["transaction_id"] for r in page]):
            alerts.setdefault(a["transaction_id"], []).append(_alert(a))
    previous = None
    if page:
        oldest = page[-1]
        previous = await db.fetchrow(
            _PREVIOUS_LOCATED_SQL, customer_id, oldest["event_time"], oldest["transaction_id"]
        )
    verdicts = await db.fetch(_VERDICTS_SQL, customer_id, PRIOR_VERDICTS)

    amounts = [r["amount"] for r in page if r["amount"] is not None]
    mean = sum(amounts, Decimal(0)) / len(amounts) if amounts else None
    hops: dict[str, Hop] = {}
    older_located = previous
    for row in reversed(page):  # oldest first: each located row hops from the one before
        if not _located(row):
            continue
        if older_located is not None:
            hops[row["transaction_id"]] = hop(older_located, row)
        older_located = row
    items = [
        TimelineItem(
            transaction_id=r["transaction_id"],
            card_id=r["card_id"],
            merchant_id=r["merchant_id"],
            store_id=r["store_id"],
            amount=str(r["amount"]) if r["amount"] is not None else None,
            currency=r["currency"],
            channel=r["channel"],
            payment_method=r["payment_method"],
            event_time=r["event_time"],
            fraud_score=r["fraud_score"],
            is_alert=r["is_alert"],
            rule_ids=list(r["rule_ids"]),
            rules_version=r["rules_version"],
            model_version=r["model_version"],
            scored_at=r["scored_at"],
            location=Location(latitude=r["latitude"], longitude=r["longitude"])
            if _located(r)
            else None,
            amount_to_mean=round(float(r["amount"] / mean), 3)
            if mean and r["amount"] is not None
            else None,
            from_previous=hops.get(r["transaction_id"]),
            alerts=alerts.get(r["transaction_id"], []),
        )
        for r in page
    ]
    return Timeline(
        customer_id=customer_id,
        items=items,
        window=TimelineWindow(
            transactions=len(page),
            mean_amount=str(mean.quantize(Decimal("0.01"), ROUND_HALF_EVEN))
            if mean is not None
            else None,
            first_event_time=page[-1]["event_time"] if page else None,
            last_event_time=page[0]["event_time"] if page else None,
        ),
        distances=[i.from_previous for i in items if i.from_previous is not None],
        prior_verdicts=[PriorVerdict(**dict(v)) for v in verdicts],
        freshness=Freshness(
            source="app.scored_transactions",
            behind_bronze_seconds=0.0,
            latest_landed_at=max((r["landed_at"] for r in page), default=None),
            as_of=datetime.now(UTC),
            retention_days=settings.timeline_retention_days,
        ),
        next_cursor=encode_cursor(page[-1]["event_time"], page[-1]["transaction_id"])
        if more
        else None,
        limit=limit,
    )
