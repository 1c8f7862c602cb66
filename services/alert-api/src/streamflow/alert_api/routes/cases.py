"""``/v1/cases``: one customer's alerts grouped into a case, with an assignee, a state, an age
and an append-only audit trail; closing a case labels its alerts (ADR 0100).

Every change locks the case row and writes its ``app.case_events`` row in the same transaction.
Closing runs :func:`~streamflow.alert_api.verdicts.record_verdict` for each alert, the code path
of a single verdict (status, note, outbox row, re-label limit), and the state change in one
transaction: an alert past its re-label limit (409) leaves the whole case and all its alerts as
they were.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query

from streamflow.alert_api import alert_query as q
from streamflow.alert_api import case_rules
from streamflow.alert_api.auth import ApiKey, ReadKey, WriteKey
from streamflow.alert_api.deps import AppSettings, Db, Relay
from streamflow.alert_api.models import (
    CASE_ID_MAX,
    EXAMPLE_CASE_ID,
    EXAMPLE_CLOSED_CASE_ID,
    NAME_PATTERN,
    AlertSummary,
    CaseAlertsIn,
    CaseAssign,
    CaseClose,
    CaseCreate,
    CaseDetail,
    CaseEvent,
    CasePage,
    CaseState,
    CaseStateIn,
    CaseSummary,
)
from streamflow.alert_api.problems import ProblemError, responses
from streamflow.alert_api.verdicts import record_verdict
from streamflow.events import Topic

router = APIRouter(prefix="/v1/cases", tags=["cases"])

CASE_PAGE_MAX = 200
CURSOR_PATTERN = r"^[1-9][0-9]{0,17}$"
"""A case list cursor: the last case id of the previous page."""

CaseId = Annotated[
    int,
    Path(
        ge=1,
        le=CASE_ID_MAX,
        description="The case id.",
        openapi_examples={"open case": {"value": EXAMPLE_CASE_ID}},
    ),
]
ClosingCaseId = Annotated[
    int,
    Path(
        ge=1,
        le=CASE_ID_MAX,
        description="The case id.",
        openapi_examples={"case to close": {"value": EXAMPLE_CLOSED_CASE_ID}},
    ),
]
"""The close operation's example is another case than the other changes' (a closed case no
longer changes)."""

_CASE_LINK = {"case_id": "$response.body#/case_id"}
_CREATED_LINKS = {
    name: {"operationId": operation, "parameters": _CASE_LINK}
    for name, operation in (
        ("GetCase", "get_case"),
        ("AddAlerts", "add_alerts"),
        ("Assign", "assign"),
        ("SetState", "set_state"),
        ("Close", "close_case"),
    )
}

_COLUMNS = """
c.case_id, c.customer_id, c.assignee, c.state, c.created_at, c.created_by, c.updated_at,
c.closed_at, extract(epoch from coalesce(c.closed_at, now()) - c.created_at)::float8 as age_seconds,
(select count(*) from app.case_alerts x where x.case_id = c.case_id)::int as alert_count
"""
_CASE_SQL = f"select {_COLUMNS} from app.cases c where c.case_id = $1"  # noqa: S608
_LOCK_SQL = "select state, customer_id, assignee from app.cases where case_id = $1 for update"
_ALERTS_SQL = f"""
select {q.SUMMARY_COLUMNS} from app.case_alerts x join app.alerts a using (alert_id)
where x.case_id = $1 order by a.detected_at desc, a.alert_id desc
"""  # noqa: S608 - a constant column list only
_EVENTS_SQL = """
select event_id, at, actor, action, detail::text as detail from app.case_events
where case_id = $1 order by event_id
"""
_EVENT_SQL = """
insert into app.case_events (case_id, at, key_id, actor, action, detail)
values ($1, $2, $3, $4, $5, $6::jsonb)
"""
_MEMBERS_SQL = """
select a.alert_id, a.customer_id, x.case_id from app.alerts a
left join app.case_alerts x using (alert_id)
where a.alert_id = any($1::uuid[]) order by a.alert_id for update of a
"""
_ADD_SQL = """
insert into app.case_alerts (alert_id, case_id, added_at)
select unnest($1::uuid[]), $2, $3
"""

_CHANGE = responses(400, 401, 403, 404, 409, 413, 422, 429, 503)


async def _event(  # noqa: PLR0917 - one audit row's columns
    conn: Any, case_id: int, key: ApiKey, action: str, detail: dict[str, Any], now: datetime
) -> None:
    await conn.execute(_EVENT_SQL, case_id, now, key.key_id, key.name, action, json.dumps(detail))


async def _detail(conn: Any, case_id: int) -> CaseDetail:
    row = await conn.fetchrow(_CASE_SQL, case_id)
    if row is None:
        raise ProblemError(404, f"no case {case_id}", field="path.case_id")
    alerts = await conn.fetch(_ALERTS_SQL, case_id)
    events = await conn.fetch(_EVENTS_SQL, case_id)
    return CaseDetail(
        **dict(row),
        alerts=[AlertSummary.model_validate(q.summary(a)) for a in alerts],
        events=[CaseEvent(**{**dict(e), "detail": json.loads(e["detail"])}) for e in events],
    )


async def _lock(conn: Any, case_id: int) -> Any:
    """The case's row, locked, if it may still change (else 404/409)."""
    row = await conn.fetchrow(_LOCK_SQL, case_id)
    if row is None:
        raise ProblemError(404, f"no case {case_id}", field="path.case_id")
    refusal = case_rules.change_refusal(CaseState(row["state"]))
    if refusal is not None:
        raise ProblemError(409, refusal)
    return row


async def _add_alerts(
    conn: Any, case_id: int, customer_id: str, alert_ids: list[uuid.UUID], now: datetime
) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(alert_ids))
    rows = await conn.fetch(_MEMBERS_SQL, wanted)
    problem = case_rules.membership_problems(
        wanted,
        {r["alert_id"]: r["customer_id"] for r in rows},
        {r["alert_id"]: r["case_id"] for r in rows if r["case_id"] is not None},
        customer_id,
    )
    if problem is not None:
        raise ProblemError(problem[0], problem[1], field="body.alert_ids")
    try:
        await conn.execute(_ADD_SQL, wanted, case_id, now)
    except asyncpg.UniqueViolationError:  # another request put one of them in a case meanwhile
        raise ProblemError(409, "an alert of the request is already in a case") from None
    return wanted


@router.post(
    "",
    response_model=CaseDetail,
    status_code=201,
    summary="Open a case of one customer's alerts",
    responses={**_CHANGE, 201: {"description": "The new case.", "links": _CREATED_LINKS}},
)
async def create_case(body: CaseCreate, key: WriteKey, db: Db) -> CaseDetail:
    """A new open case holding ``alert_ids`` (all of ``customer_id``, none in a case yet)."""
    now = datetime.now(UTC)
    async with db.connection() as conn:
        async with conn.transaction():
            case_id: int = await conn.fetchval(
                "insert into app.cases (customer_id, assignee, created_by, created_at, updated_at)"
                " values ($1, $2, $3, $4, $4) returning case_id",
                body.customer_id,
                body.assignee,
                key.name,
                now,
            )
            added = await _add_alerts(conn, case_id, body.customer_id, body.alert_ids, now)
            detail = {
                "alert_ids": [str(a) for a in added],
                "assignee": body.assignee,
                "note": body.note,
            }
            await _event(conn, case_id, key, "created", detail, now)
        return await _detail(conn, case_id)


@router.get(
    "",
    response_model=CasePage,
    summary="List cases",
    responses=responses(401, 403, 422, 429, 503),
)
async def list_cases(
    *,
    _key: ReadKey,
    db: Db,
    state: Annotated[CaseState | None, Query(description="Only this state.")] = None,
    assignee: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=NAME_PATTERN)
    ] = None,
    customer_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=NAME_PATTERN)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=CASE_PAGE_MAX, description="Page size.")] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=18, pattern=CURSOR_PATTERN, description="next_cursor of the last page."),
    ] = None,
) -> CasePage:
    """Cases, newest first, filtered by state, assignee and customer, paged by case id."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("state", state.value if state else None),
        ("assignee", assignee),
        ("customer_id", customer_id),
    ):
        if value is not None:
            args.append(value)
            where.append(f"c.{column} = ${len(args)}")
    if cursor is not None:
        args.append(int(cursor))
        where.append(f"c.case_id < ${len(args)}")
    args.append(limit + 1)
    # Column names are constants of this function; every value is a parameter.
    sql = f"select {_COLUMNS} from app.cases c"  # noqa: S608
    if where:
        sql += " where " + " and ".join(where)
    sql += f" order by c.case_id desc limit ${len(args)}"
    rows = await db.fetch(sql, *args)
    items = [CaseSummary(**dict(r)) for r in rows[:limit]]
    more = len(rows) > limit
    return CasePage(items=items, next_cursor=str(items[-1].case_id) if more else None, limit=limit)


@router.get(
    "/{case_id}",
    operation_id="get_case",
    response_model=CaseDetail,
    summary="One case with its alerts and audit trail",
    responses=responses(401, 403, 404, 422, 429, 503),
)
async def get_case(case_id: CaseId, _key: ReadKey, db: Db) -> CaseDetail:
    """The case, its alerts (newest first) and every event of its audit trail (oldest first)."""
    async with db.connection() as conn:
        return await _detail(conn, case_id)


@router.post(
    "/{case_id}/alerts",
    operation_id="add_alerts",
    response_model=CaseDetail,
    summary="Add alerts to an open case",
    responses=_CHANGE,
)
async def add_alerts(case_id: CaseId, body: CaseAlertsIn, key: WriteKey, db: Db) -> CaseDetail:
    """Add alerts of the case's customer that are in no case yet."""
    now = datetime.now(UTC)
    async with db.connection() as conn:
        async with conn.transaction():
            row = await _lock(conn, case_id)
            added = await _add_alerts(conn, case_id, row["customer_id"], body.alert_ids, now)
            await conn.execute(
                "update app.cases set updated_at = $2 where case_id = $1", case_id, now
            )
            await _event(
                conn, case_id, key, "alerts_added", {"alert_ids": [str(a) for a in added]}, now
            )
        return await _detail(conn, case_id)


@router.post(
    "/{case_id}/assign",
    operation_id="assign",
    response_model=CaseDetail,
    summary="Assign a case",
    responses=_CHANGE,
)
async def assign(case_id: CaseId, body: CaseAssign, key: WriteKey, db: Db) -> CaseDetail:
    """Set (or, with null, clear) who works the case."""
    now = datetime.now(UTC)
    async with db.connection() as conn:
        async with conn.transaction():
            row = await _lock(conn, case_id)
            if row["assignee"] != body.assignee:
                await conn.execute(
                    "update app.cases set assignee = $2, updated_at = $3 where case_id = $1",
                    case_id,
                    body.assignee,
                    now,
                )
                detail = {"from": row["assignee"], "to": body.assignee}
                await _event(conn, case_id, key, "assigned", detail, now)
        return await _detail(conn, case_id)


@router.post(
    "/{case_id}/state",
    operation_id="set_state",
    response_model=CaseDetail,
    summary="Move a case into review or back to open",
    responses=_CHANGE,
)
async def set_state(case_id: CaseId, body: CaseStateIn, key: WriteKey, db: Db) -> CaseDetail:
    """open <-> in_review (the same state again changes nothing); closing is ``/close``."""
    now = datetime.now(UTC)
    async with db.connection() as conn:
        async with conn.transaction():
            row = await _lock(conn, case_id)
            if row["state"] != body.state:
                await conn.execute(
                    "update app.cases set state = $2, updated_at = $3 where case_id = $1",
                    case_id,
                    body.state,
                    now,
                )
                detail = {"from": row["state"], "to": body.state}
                await _event(conn, case_id, key, "state_changed", detail, now)
        return await _detail(conn, case_id)


@router.post(
    "/{case_id}/close",
    operation_id="close_case",
    response_model=CaseDetail,
    summary="Close a case, labelling its alerts",
    responses=_CHANGE,
)
async def close_case(
    *,
    case_id: ClosingCaseId,
    body: CaseClose,
    key: WriteKey,
    db: Db,
    settings: AppSettings,
    relay: Relay,
) -> CaseDetail:
    """closed_fraud or closed_legit: each alert gets the outcome's verdict exactly as a single
    verdict would record it (status, note, outbox row for ``fraud.feedback``, re-label limit),
    in the same transaction as the state change and its audit entry: all or nothing."""
    now = datetime.now(UTC)
    verdict = case_rules.verdict_for(body.outcome)
    state = case_rules.closed_state(body.outcome)
    topic = settings.topics.name(Topic.FRAUD_FEEDBACK)
    note = body.note or f"case {case_id} closed as {body.outcome}"
    labelled: list[str] = []
    unchanged: list[str] = []
    async with db.connection() as conn:
        async with conn.transaction():
            await _lock(conn, case_id)
            alert_ids = [
                r["alert_id"]
                for r in await conn.fetch(
                    "select alert_id from app.case_alerts where case_id = $1 order by alert_id",
                    case_id,
                )
            ]
            for alert_id in alert_ids:
                try:
                    out = await record_verdict(
                        conn,
                        alert_id,
                        verdict,
                        note,
                        key.key_id,
                        topic,
                        settings.max_verdict_changes,
                        now,
                    )
                except ProblemError as exc:
                    raise ProblemError(
                        exc.status, f"alert {alert_id}: {exc.detail}; the case stays open"
                    ) from None
                (unchanged if out.repeated else labelled).append(str(alert_id))
            await conn.execute(
                "update app.cases set state = $2, updated_at = $3, closed_at = $3 "
                "where case_id = $1",
                case_id,
                state.value,
                now,
            )
            detail = {
                "outcome": body.outcome,
                "note": body.note,
                "labelled": labelled,
                "unchanged": unchanged,
            }
            await _event(conn, case_id, key, "closed", detail, now)
        result = await _detail(conn, case_id)
    if relay is not None and labelled:
        relay.wake()
    return result
