"""One analyst verdict on one alert, inside the caller's transaction: the only code path.

A single verdict (``POST /v1/alerts/{id}/feedback``), each alert of a bulk verdict and each alert
of a closed case all call :func:`record_verdict` on a connection in an open transaction: it locks
the alert, applies the re-label rules of ADR 0057 (the current verdict again is a no-op; a
changed verdict at most ``max_changes`` times, then 409) and writes the status, the note and the
outbox row that the relay publishes to ``fraud.feedback`` after the commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from streamflow.alert_api.models import AlertStatus, FeedbackOut
from streamflow.alert_api.problems import ProblemError
from streamflow.events import AnalystVerdict, Feedback, FeedbackSource, encode, encode_key

# The card comes from the API's projection of scored transactions (absent: the label has none).
_LOCK_SQL = """
select a.transaction_id, a.customer_id, a.merchant_id, a.status, a.status_updated_at,
    a.verdict_changes,
    (select s.card_id from app.scored_transactions as s
     where s.transaction_id = a.transaction_id) as card_id
from app.alerts as a where a.alert_id = $1 for update of a
"""
# The verdict, the status change and the outbox row: one statement (ADR 0057).
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


def relabel_refusal(current: str, changes: int, max_changes: int) -> str | None:
    """Why a change of an alert's verdict away from ``current`` is refused, or None if allowed
    (a first verdict, ``current`` = new, is no change)."""
    if current != AlertStatus.NEW.value and changes >= max_changes:
        return (
            f"the verdict of this alert was already changed {changes} times, the limit; "
            f"it stays {current}"
        )
    return None


async def record_verdict(  # noqa: PLR0917 - the verdict's parts, all required
    conn: Any,
    alert_id: uuid.UUID,
    verdict: AnalystVerdict,
    note: str | None,
    key_id: str,
    topic: str,
    max_changes: int,
    now: datetime,
) -> FeedbackOut:
    """Record ``verdict`` on the alert in ``conn``'s open transaction.

    Raises the 404 (no such alert) and 409 (re-label limit) problems; the caller's transaction
    then rolls back whatever it wrote before.
    """
    status = AlertStatus(verdict.value)
    row = await conn.fetchrow(_LOCK_SQL, alert_id)
    if row is None:
        raise ProblemError(404, f"no alert {alert_id}", field="path.alert_id")
    changes: int = row["verdict_changes"]
    if row["status"] == status.value:
        return FeedbackOut(
            alert_id=str(alert_id),
            status=status,
            label=verdict.label().value,
            topic=topic,
            reported_at=row["status_updated_at"] or now,
            repeated=True,
            verdict_changes=changes,
        )
    refusal = relabel_refusal(row["status"], changes, max_changes)
    if refusal is not None:
        raise ProblemError(409, refusal)
    relabel = row["status"] != AlertStatus.NEW.value
    feedback = Feedback(
        transaction_id=row["transaction_id"],
        customer_id=row["customer_id"],
        merchant_id=row["merchant_id"],
        label=verdict.label(),
        source=FeedbackSource.ANALYST,
        reported_at=now,
        note=note,
        card_id=row["card_id"],
    )
    await conn.execute(
        _VERDICT_SQL,
        alert_id,
        status.value,
        now,
        key_id,
        int(relabel),
        row["status"] if relabel else None,
        note,
        feedback.transaction_id,
        feedback.source.value,
        feedback.label.value,
        encode_key(feedback.key()),
        encode(feedback),
    )
    return FeedbackOut(
        alert_id=str(alert_id),
        status=status,
        label=feedback.label.value,
        topic=topic,
        reported_at=now,
        verdict_changes=changes + int(relabel),
    )
