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
    BulkFeedbackIn,
    BulkFeedbackOut,
    BulkItem,
    Explanation,
    FeedbackIn,
    FeedbackOut,
    Note,
    TransactionView,
)
from streamflow.alert_api.problems import ProblemError, responses
from streamflow.alert_api.routes import alert_list
from streamflow.alert_api.verdicts import record_verdict
from streamflow.events import Topic

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
bulk_router = APIRouter(prefix="/v1/feedback", tags=["alerts"])

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
       (select c.case_id from app.case_alerts c where c.alert_id = a.alert_id) as case_id,
       t.*
from app.alerts a left join lateral (
    select s.transaction_id as t_transaction_id, s.customer_id as t_customer_id,
           s.card_id as t_card_id, s.merchant_id as t_merchant_id, s.store_id as t_store_id,
           s.amount as t_amount, s.currency as t_currency, s.event_time as t_event_time,
           s.payment_method as t_payment_method, s.channel as t_channel,
           s.latitude as t_latitude, s.longitude as t_longitude
    from app.scored_transactions s where s.transaction_id = a.transaction_id
) t on true
where a.alert_id = $1
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
        transaction=_transaction(row),
        notes=[Note(**dict(n)) for n in notes],
        status_updated_at=row["status_updated_at"],
        case_id=row["case_id"],
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


def _transaction(row: Any) -> TransactionView | None:
    """The alert's transaction from the projection (ADR 0101); null until it is landed."""
    if row["t_transaction_id"] is None or row["t_amount"] is None:
        return None
    try:
        return TransactionView(
            transaction_id=row["t_transaction_id"],
            customer_id=row["t_customer_id"],
            card_id=row["t_card_id"] or "",
            merchant_id=row["t_merchant_id"],
            store_id=row["t_store_id"] or "",
            amount=str(row["t_amount"]),
            currency=row["t_currency"] or "",
            event_time=row["t_event_time"],
            payment_method=row["t_payment_method"],
            channel=row["t_channel"],
            latitude=row["t_latitude"],
            longitude=row["t_longitude"],
        )
    except ValidationError:
        return None


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
    topic = settings.topics.name(Topic.FRAUD_FEEDBACK)
    async with db.connection() as conn, conn.transaction():
        out = await record_verdict(
            conn,
            alert_id,
            body.verdict,
            body.note,
            key.key_id,
            topic,
            settings.max_verdict_changes,
            datetime.now(UTC),
        )
    if relay is not None and not out.repeated:
        relay.wake()
    return out


@bulk_router.post(
    "/bulk",
    response_model=BulkFeedbackOut,
    summary="Record one verdict on a selection of alerts",
    responses=responses(400, 401, 403, 413, 422, 429, 503),
)
async def post_bulk_feedback(
    *,
    body: BulkFeedbackIn,
    key: WriteKey,
    db: Db,
    settings: AppSettings,
    relay: Relay,
) -> BulkFeedbackOut:
    """The verdict on each selected alert, exactly as ``POST /v1/alerts/{id}/feedback`` would
    record it (same code path: status, note and outbox row in one transaction per alert, the
    re-label limit). One alert's 404 or 409 does not stop the others; see each item."""
    topic = settings.topics.name(Topic.FRAUD_FEEDBACK)
    items: list[BulkItem] = []
    async with db.connection() as conn:
        for alert_id in dict.fromkeys(body.alert_ids):  # order kept, repeats once
            try:
                async with conn.transaction():
                    out = await record_verdict(
                        conn,
                        alert_id,
                        body.verdict,
                        body.note,
                        key.key_id,
                        topic,
                        settings.max_verdict_changes,
                        datetime.now(UTC),
                    )
            except ProblemError as exc:
                items.append(
                    BulkItem(
                        alert_id=str(alert_id), status=exc.status, feedback=None, detail=exc.detail
                    )
                )
                continue
            items.append(BulkItem(alert_id=str(alert_id), status=200, feedback=out, detail=None))
    stored = sum(1 for i in items if i.feedback is not None and not i.feedback.repeated)
    if relay is not None and stored:
        relay.wake()
    return BulkFeedbackOut(
        stored=stored,
        repeated=sum(1 for i in items if i.feedback is not None and i.feedback.repeated),
        refused=sum(1 for i in items if i.feedback is None),
        items=items,
    )
