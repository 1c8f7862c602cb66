"""``/v1/alerts``: list with filters and keyset pagination, detail, analyst feedback."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Response
from pydantic import ValidationError

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey, WriteKey
from streamflow.alert_api.deps import AppSettings, Db, Publisher
from streamflow.alert_api.models import (
    AlertDetail,
    AlertPage,
    AlertStatus,
    Explanation,
    FeedbackIn,
    FeedbackOut,
    Note,
    TransactionView,
)
from streamflow.alert_api.problems import ProblemError, responses
from streamflow.alert_api.publisher import PublishError
from streamflow.events import Feedback, FeedbackSource

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
AlertId = Annotated[uuid.UUID, Path(description="The alert id (uuid).")]


@router.get(
    "",
    response_model=AlertPage,
    summary="List alerts",
    responses=responses(400, 401, 403, 422, 429, 503),
)
async def list_alerts(  # noqa: PLR0917 - one parameter per documented filter
    _key: ReadKey,
    db: Db,
    settings: AppSettings,
    since: Annotated[datetime | None, Query(description="detected_at >= this (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="detected_at < this (ISO 8601).")] = None,
    customer_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=IDENT, description="Customer.")
    ] = None,
    merchant_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=IDENT, description="Merchant.")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1, description="score >= this.")] = None,
    rule_id: Annotated[
        str | None, Query(min_length=1, max_length=32, pattern=IDENT, description="Rule fired.")
    ] = None,
    status: Annotated[AlertStatus | None, Query(description="Analyst status.")] = None,
    severity: Annotated[
        str | None, Query(pattern="^(low|medium|high|critical)$", description="Severity band.")
    ] = None,
    sort: Annotated[q.SortOrder, Query(description="Order (- = descending).")] = (
        q.SortOrder.NEWEST
    ),
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Page size (capped).")] = None,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page.")
    ] = None,
) -> Response:
    """Alerts, deduplicated by alert id, filtered and paged with an opaque keyset cursor."""
    size = settings.page_size_default if limit is None else limit
    if size > settings.page_size_max:
        raise ProblemError(422, f"limit must be <= {settings.page_size_max}", field="query.limit")
    _check_naive(since, "query.since")
    _check_naive(until, "query.until")
    filters = q.AlertFilters(
        since=since,
        until=until,
        customer_id=customer_id,
        merchant_id=merchant_id,
        min_score=min_score,
        rule_id=rule_id,
        status=status.value if status else None,
        severity=severity,
    )
    after = q.Cursor.decode(cursor, sort) if cursor is not None else None
    sql, args = q.build_list_query(filters, sort, after, size)
    rows = await db.fetch(sql, *args)
    # The hot path: rows straight to JSON bytes (the schema is AlertPage; tests check it).
    body = {
        "items": [q.summary(row) for row in rows[:size]],
        "next_cursor": q.next_cursor(rows, sort, size),
        "limit": size,
    }
    return Response(orjson.dumps(body), media_type="application/json")


def _check_naive(value: datetime | None, field: str) -> None:
    if value is not None and value.tzinfo is None:
        raise ProblemError(422, "timestamp needs a timezone (e.g. Z)", field=field)


_DETAIL_SQL = f"""
select {q.SUMMARY_COLUMNS}, payload::text as payload, status_updated_at,
       (select t.payload::text from bronze.transactions t
         where t.transaction_id = a.transaction_id order by t.ingested_at limit 1) as txn
from app.alerts a where alert_id = $1
"""  # noqa: S608 - a constant column list only
_NOTES_SQL = """
select n.verdict, n.note, k.name as key_name, n.created_at
from app.analyst_notes n left join app.api_keys k on k.key_id = n.key_id
where n.alert_id = $1 order by n.created_at, n.note_id
"""


@router.get(
    "/{alert_id}",
    response_model=AlertDetail,
    summary="One alert with its explanations",
    responses=responses(401, 403, 404, 422, 429, 503),
)
async def get_alert(alert_id: AlertId, _key: ReadKey, db: Db) -> AlertDetail:
    """The alert, why each rule fired, the transaction and the analysts' notes."""
    row = await db.fetchrow(_DETAIL_SQL, alert_id)
    if row is None:
        raise ProblemError(404, f"no alert {alert_id}", field="path.alert_id")
    notes = await db.fetch(_NOTES_SQL, alert_id)
    payload: dict[str, Any] = json.loads(row["payload"])
    return AlertDetail(
        **q.summary(row[: len(q.SUMMARY_FIELDS)]),
        model_version=_str_or_none(payload.get("model_version")),
        explanations=_explanations(payload),
        transaction=_transaction(row["txn"]),
        notes=[Note(**dict(n)) for n in notes],
        status_updated_at=row["status_updated_at"],
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _explanations(payload: dict[str, Any]) -> list[Explanation]:
    out = []
    for rule in payload.get("triggered_rules") or []:
        try:
            out.append(Explanation.model_validate(rule))
        except ValidationError:
            continue  # a malformed entry in bronze is skipped, not a 500
    return out


def _transaction(raw: str | None) -> TransactionView | None:
    if raw is None:
        return None
    try:
        return TransactionView.model_validate_json(raw)
    except ValidationError:
        return None


@router.post(
    "/{alert_id}/feedback",
    response_model=FeedbackOut,
    summary="Record an analyst verdict",
    responses=responses(400, 401, 403, 404, 422, 429, 503),
)
async def post_feedback(
    alert_id: AlertId, body: FeedbackIn, key: WriteKey, db: Db, publisher: Publisher
) -> FeedbackOut:
    """Set the alert's status, keep the note, and publish the label to ``fraud.feedback``.

    The database change commits only after the broker acknowledged the record, so a Kafka outage
    leaves nothing half-done (503); a retry after a lost reply may publish the label twice.
    """
    status = AlertStatus(body.verdict.value)
    reported_at = datetime.now(UTC)
    async with db.connection() as conn, conn.transaction():
        row = await conn.fetchrow(
            "select transaction_id, customer_id, merchant_id from app.alerts "
            "where alert_id = $1 for update",
            alert_id,
        )
        if row is None:
            raise ProblemError(404, f"no alert {alert_id}", field="path.alert_id")
        await conn.execute(
            "update app.alerts set status = $2, status_updated_at = $3, status_updated_by = $4 "
            "where alert_id = $1",
            alert_id,
            status.value,
            reported_at,
            key.key_id,
        )
        await conn.execute(
            "insert into app.analyst_notes (alert_id, verdict, note, key_id, created_at) "
            "values ($1, $2, $3, $4, $5)",
            alert_id,
            body.verdict.value,
            body.note,
            key.key_id,
            reported_at,
        )
        feedback = Feedback(
            transaction_id=row["transaction_id"],
            customer_id=row["customer_id"],
            merchant_id=row["merchant_id"],
            label=body.verdict.label(),
            source=FeedbackSource.ANALYST,
            reported_at=reported_at,
            note=body.note,
        )
        try:
            await publisher.publish(feedback)
        except PublishError as exc:
            raise ProblemError(
                503, "could not publish the feedback; nothing was stored, retry later"
            ) from exc
    return FeedbackOut(
        alert_id=str(alert_id),
        status=status,
        label=feedback.label.value,
        topic=publisher.topic,
        reported_at=reported_at,
    )
