"""``/v1/alerts``: the list (routes/alert_list.py), detail, analyst feedback."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import ValidationError

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey, WriteKey
from streamflow.alert_api.deps import Db, Publisher
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
from streamflow.alert_api.routes import alert_list
from streamflow.events import Feedback, FeedbackSource

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

AlertId = Annotated[uuid.UUID, Path(description="The alert id (uuid).")]


router.add_api_route(
    "",
    alert_list.list_alerts,
    methods=["GET"],
    response_model=AlertPage,
    summary="List alerts",
    responses=responses(400, 401, 403, 422, 429, 503),
    route_class_override=alert_list.AlertListRoute,
)


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
