"""``/v1/alerts``: the list (routes/alert_list.py), detail, analyst feedback (via the outbox)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import ValidationError

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import ReadKey, WriteKey
from streamflow.alert_api.deps import AppSettings, Db, Relay
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
from streamflow.alert_api.routes import alert_list
from streamflow.events import Feedback, FeedbackSource, Topic, encode, encode_key

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
select n.verdict, n.previous_verdict, n.note, k.name as key_name, n.created_at
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


_LOCK_SQL = """
select transaction_id, customer_id, merchant_id, status, status_updated_at, verdict_changes
from app.alerts where alert_id = $1 for update
"""
# The verdict, the status change and the outbox row: one statement, one transaction (ADR 0057).
_VERDICT_SQL = """
with alert as (
    update app.alerts
    set status = $2, status_updated_at = $3, status_updated_by = $4,
        verdict_changes = verdict_changes + $5
    where alert_id = $1
), note as (
    insert into app.analyst_notes (alert_id, verdict, previous_verdict, note, key_id, created_at)
    values ($1, $2, $6, $7, $4, $3)
)
insert into app.feedback_outbox (
    alert_id, transaction_id, source, label, kafka_key, payload, created_at
) values ($1, $8, $9, $10, $11, $12, $3)
"""


@router.post(
    "/{alert_id}/feedback",
    response_model=FeedbackOut,
    summary="Record an analyst verdict",
    responses=responses(400, 401, 403, 404, 409, 413, 422, 429, 503),
)
async def post_feedback(
    *,
    alert_id: AlertId,
    body: FeedbackIn,
    key: WriteKey,
    db: Db,
    settings: AppSettings,
    relay: Relay,
) -> FeedbackOut:
    """Set the alert's status, keep the verdict in its audit trail, and queue the label.

    The verdict, the status and the label for ``fraud.feedback`` commit in one transaction; the
    outbox relay publishes the label after the commit (ADR 0057), so a Kafka outage never fails
    or slows this request. The alert's current verdict again is a no-op (200, ``repeated``, no
    new label). A changed verdict is a re-label: recorded with the verdict it replaced, allowed
    ``max_verdict_changes`` times per alert, then 409.
    """
    status = AlertStatus(body.verdict.value)
    topic = settings.topics.name(Topic.FRAUD_FEEDBACK)
    now = datetime.now(UTC)
    async with db.connection() as conn, conn.transaction():
        row = await conn.fetchrow(_LOCK_SQL, alert_id)
        if row is None:
            raise ProblemError(404, f"no alert {alert_id}", field="path.alert_id")
        changes: int = row["verdict_changes"]
        if row["status"] == status.value:
            return FeedbackOut(
                alert_id=str(alert_id),
                status=status,
                label=body.verdict.label().value,
                topic=topic,
                reported_at=row["status_updated_at"] or now,
                repeated=True,
                verdict_changes=changes,
            )
        relabel = row["status"] != AlertStatus.NEW.value
        if relabel and changes >= settings.max_verdict_changes:
            raise ProblemError(
                409,
                f"the verdict of this alert was already changed {changes} times, the limit; "
                f"it stays {row['status']}",
            )
        feedback = Feedback(
            transaction_id=row["transaction_id"],
            customer_id=row["customer_id"],
            merchant_id=row["merchant_id"],
            label=body.verdict.label(),
            source=FeedbackSource.ANALYST,
            reported_at=now,
            note=body.note,
        )
        await conn.execute(
            _VERDICT_SQL,
            alert_id,
            status.value,
            now,
            key.key_id,
            int(relabel),
            row["status"] if relabel else None,
            body.note,
            feedback.transaction_id,
            feedback.source.value,
            feedback.label.value,
            encode_key(feedback.key()),
            encode(feedback),
        )
    if relay is not None:
        relay.wake()
    return FeedbackOut(
        alert_id=str(alert_id),
        status=status,
        label=feedback.label.value,
        topic=topic,
        reported_at=now,
        verdict_changes=changes + int(relabel),
    )
