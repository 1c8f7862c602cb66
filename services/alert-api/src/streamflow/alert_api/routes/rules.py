"""``/v1/rules``: the rule set in force, rule what-ifs on stored history, publishing (ADR 0104).

- ``GET /v1/rules`` (read scope): the rule set the scorer applies now (``fraud.rules``).
- ``POST /v1/rules/whatif`` (admin): a candidate rule set against the one in force over the last
  ``days`` of ``app.scored_transactions``, state warmed up on ``warmup_days`` before; a
  background worker process (whatif_worker.py), one at a time per database (else 409).
- ``GET /v1/rules/whatif/{whatif_id}`` (admin): its progress, then its result.
- ``POST /v1/rules/publish`` (admin): produce a newer rule set to ``fraud.rules``; the running
  job applies it without a restart. An invalid rule set is a 422 naming the field path and is
  never published; an older version, or another rule set id, a 409.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query, Request, Response

from streamflow.alert_api.auth import AdminKey, ReadKey
from streamflow.alert_api.deps import AppSettings, Db
from streamflow.alert_api.problems import ProblemError, responses
from streamflow.alert_api.rule_sets import (
    RulesUnavailableError,
    check_publishable,
    draft_body,
    parse_draft,
    publish,
    rules_in_force,
)
from streamflow.alert_api.rules_models import (
    EXAMPLE_WHATIF_ID,
    Published,
    RulesInForce,
    WhatIfResult,
    WhatIfRun,
    WhatIfStatus,
)
from streamflow.alert_api.whatif import setting_changes
from streamflow.alert_api.whatif_worker import Workers
from streamflow.events import RuleSet

router = APIRouter(prefix="/v1/rules", tags=["rules"])
log = logging.getLogger(__name__)

_COLUMNS = """
whatif_id, status, requested_by_name, requested_at, days, warmup_days, rows_done, rows_total,
started_at, finished_at, error, candidate_rules::text as candidate, result::text as result
"""
_STALE_SQL = """
update app.rule_whatifs set status = 'failed', finished_at = now(),
       error = 'the worker stopped without finishing (no progress for '
               || $1::int || ' s)'
where status in ('queued', 'running')
  and coalesce(heartbeat_at, requested_at) < now() - make_interval(secs => $1::int)
"""
_INSERT_SQL = f"""
insert into app.rule_whatifs
    (requested_by, requested_by_name, days, warmup_days, base_rules, candidate_rules)
values ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
returning {_COLUMNS}
"""  # noqa: S608 - a constant column list only
_ACTIVE_SQL = "select whatif_id from app.rule_whatifs where status in ('queued', 'running')"
_GET_SQL = f"select {_COLUMNS} from app.rule_whatifs where whatif_id = $1"  # noqa: S608
_PUBLISHED_SQL = """
insert into app.rule_publications
    (rule_set_id, version, published_by, published_by_name, rules, topic)
values ($1, $2, $3, $4, $5::jsonb, $6)
returning published_at
"""

Days = Annotated[
    int, Query(ge=1, le=30, description="Days of stored transactions to compare over.")
]
WarmupDays = Annotated[
    int,
    Query(
        ge=0,
        le=14,
        description="Days before the window whose transactions only warm customer state up.",
    ),
]
WhatIfId = Annotated[
    int, Path(ge=1, le=2**63 - 1, description="The what-if.", examples=[EXAMPLE_WHATIF_ID])
]


def _run(row: Any) -> WhatIfRun:
    total = row["rows_total"]
    result = row["result"]
    return WhatIfRun(
        whatif_id=row["whatif_id"],
        status=WhatIfStatus(row["status"]),
        requested_by=row["requested_by_name"],
        requested_at=row["requested_at"],
        days=row["days"],
        warmup_days=row["warmup_days"],
        rows_done=row["rows_done"],
        rows_total=total,
        progress=min(1.0, row["rows_done"] / total) if total else None,
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error=row["error"],
        candidate=json.loads(row["candidate"]),
        result=WhatIfResult.model_validate(json.loads(result)) if result else None,
    )


async def _in_force(settings: Any) -> tuple[RuleSet, bool, str]:
    try:
        return await rules_in_force(settings)
    except RulesUnavailableError as exc:
        raise ProblemError(503, str(exc), headers={"Retry-After": "5"}) from None


@router.get(
    "",
    response_model=RulesInForce,
    summary="The rule set in force",
    responses=responses(401, 403, 429, 503),
)
async def current(_key: ReadKey, settings: AppSettings) -> RulesInForce:
    """The newest valid rule set on `fraud.rules` for the rule set the scorer follows
    (`default`), read to the topic's end as the job applies them, else the built-in defaults."""
    rules, from_topic, topic = await _in_force(settings)
    return RulesInForce(
        source="fraud.rules" if from_topic else "built-in defaults",
        topic=topic,
        next_version=rules.version + 1,
        rules=json.loads(rules.model_dump_json()),
    )


@router.post(
    "/whatif",
    status_code=202,
    response_model=WhatIfRun,
    summary="Start a rule what-if on stored transactions",
    responses=responses(401, 403, 409, 413, 422, 429, 503),
    openapi_extra=draft_body(
        "The candidate rule set; compared with the rule set in force (its version is not used)."
    ),
)
async def start_whatif(  # noqa: PLR0917 - FastAPI's dependencies and query parameters
    request: Request,
    response: Response,
    key: AdminKey,
    db: Db,
    settings: AppSettings,
    days: Days = 7,
    warmup_days: WarmupDays = 3,
) -> WhatIfRun:
    """Replays the last `days` of the API's scored-transaction projection through both the rule
    set in force and the candidate (the job's step, rules only), customer state warmed up on the
    `warmup_days` before (left out of the numbers), labels from the analysts' verdicts. Runs in
    a low-priority worker process with a row, CPU and time budget; poll the `Location`. One
    what-if at a time: 409 while another is queued or running."""
    candidate = parse_draft(await request.body())
    base, _, _ = await _in_force(settings)
    async with db.connection() as conn:
        await conn.execute(_STALE_SQL, int(settings.whatif_stale_s))
        try:
            row = await conn.fetchrow(
                _INSERT_SQL,
                key.key_id,
                key.name,
                days,
                warmup_days,
                base.model_dump_json(),
                candidate.model_dump_json(),
            )
        except asyncpg.UniqueViolationError:
            active = await conn.fetchval(_ACTIVE_SQL)
            raise ProblemError(
                409,
                f"what-if {active} is still running; one at a time",
                headers={"Location": f"/v1/rules/whatif/{active}"} if active else None,
            ) from None
    run = _run(row)
    workers: Workers = request.app.state.whatif_workers
    await workers.start(settings, db, run.whatif_id)
    response.headers["Location"] = f"/v1/rules/whatif/{run.whatif_id}"
    return run


@router.get(
    "/whatif/{whatif_id}",
    response_model=WhatIfRun,
    summary="A rule what-if's progress and result",
    responses=responses(401, 403, 404, 422, 429, 503),
)
async def get_whatif(whatif_id: WhatIfId, _key: AdminKey, db: Db) -> WhatIfRun:
    """Its status and progress (`rows_done` of `rows_total`); `result` once done: alerts
    added and removed, precision and recall before and after, per rule, and examples."""
    row = await db.fetchrow(_GET_SQL, whatif_id)
    if row is None:
        raise ProblemError(404, f"no what-if {whatif_id}")
    return _run(row)


@router.post(
    "/publish",
    status_code=201,
    response_model=Published,
    summary="Publish a rule set to fraud.rules",
    responses=responses(401, 403, 409, 413, 422, 429, 503),
    openapi_extra=draft_body(
        "The new rule set: rule set `default`, a version above the one in force."
    ),
)
async def publish_rules(
    request: Request, key: AdminKey, db: Db, settings: AppSettings
) -> Published:
    """Validates the rule set exactly as the scorer will, produces it to `fraud.rules` (key:
    its rule set id) and waits for the broker; the running job applies it to the next
    transactions without a restart. Invalid: 422 with the field path, nothing published."""
    candidate = parse_draft(await request.body(), datetime.now(UTC))
    current_rules, from_topic, _ = await _in_force(settings)
    check_publishable(candidate, current_rules, from_topic)
    try:
        topic = await publish(settings, candidate)
    except RulesUnavailableError as exc:
        raise ProblemError(503, str(exc), headers={"Retry-After": "5"}) from None
    published_at = await db.fetchval(
        _PUBLISHED_SQL,
        candidate.rule_set_id,
        candidate.version,
        key.key_id,
        key.name,
        candidate.model_dump_json(),
        topic,
    )
    log.info(
        "rule set %s version %s published to %s by %s",
        candidate.rule_set_id,
        candidate.version,
        topic,
        key.name,
    )
    return Published(
        rule_set_id=candidate.rule_set_id,
        version=candidate.version,
        topic=topic,
        published_at=published_at,
        changes=setting_changes(current_rules, candidate),
    )
