"""``GET /v1/alerts``, the hot path: one pydantic model for the query, its own route handler.

FastAPI declares the route (OpenAPI parameters from :class:`AlertListParams`, the ``AlertPage``
response model, the ``X-API-Key`` security scheme), but :class:`AlertListRoute` answers it with
:func:`_handle` instead of FastAPI's generic dependency solver, which re-inspected the type
annotations of all eleven query parameters on every request and cost more CPU than the database
query (ADR 0053). The handler does what the solver did, in the same order: auth first (the same
:func:`~streamflow.alert_api.auth.authorize` as every other route), then the query validated
by the same model, errors raised as ``RequestValidationError`` with ``query.<name>`` locations
so they become the same 422 problem details.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.datastructures import State

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.auth import HEADER, ReadKey, Scope, check_key
from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database
from streamflow.alert_api.models import AlertStatus
from streamflow.alert_api.problems import ProblemError

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")


def _rfc3339(value: object) -> object:
    # pydantic alone also takes unix times ("0.5") and a space for the T, which the schema's
    # date-time format does not; without an offset it is the 422 of _check_naive.
    if isinstance(value, str) and _RFC3339.fullmatch(value) is None:
        raise ValueError("expected an RFC 3339 date-time, e.g. 2026-11-01T12:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_rfc3339)]
"""A date-time exactly as the schema's ``format: date-time`` says."""

LIMIT_CEILING = 1000
"""The model's bound of ``limit``; the schema and the API use the setting ``page_size_max``."""


class FilterParams(BaseModel):
    """The filters of ``GET /v1/alerts`` other than status (shared with ``GET /v1/queues``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    since: Timestamp | None = Field(default=None, description="detected_at >= this (RFC 3339).")
    until: Timestamp | None = Field(default=None, description="detected_at < this (RFC 3339).")
    customer_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=q.IDENT, description="Customer."
    )
    merchant_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=q.IDENT, description="Merchant."
    )
    min_score: float | None = Field(default=None, ge=0, le=1, description="score >= this.")
    max_score: float | None = Field(default=None, ge=0, le=1, description="score <= this.")
    rule_id: str | None = Field(
        default=None, min_length=1, max_length=32, pattern=q.IDENT, description="Rule fired."
    )
    severity: str | None = Field(
        default=None, pattern="^(low|medium|high|critical)$", description="Severity band."
    )

    def filters(self, status: str | None = None) -> q.AlertFilters:
        """The validated filters (a timestamp without an offset is a 422)."""
        _check_naive(self.since, "query.since")
        _check_naive(self.until, "query.until")
        return q.AlertFilters(
            since=self.since,
            until=self.until,
            customer_id=self.customer_id,
            merchant_id=self.merchant_id,
            min_score=self.min_score,
            max_score=self.max_score,
            rule_id=self.rule_id,
            status=status,
            severity=self.severity,
        )


class AlertListParams(FilterParams):
    """The query of ``GET /v1/alerts`` (unknown parameters are ignored, as before)."""

    status: AlertStatus | None = Field(default=None, description="Analyst status (the queue).")
    sort: q.SortOrder = Field(
        default=q.SortOrder.NEWEST,
        description="Order (- = descending); with a cursor, the cursor's own order.",
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=LIMIT_CEILING,
        description="Page size (default `page_size_default`; the schema states `page_size_max`).",
    )
    cursor: str | None = Field(
        default=None,
        max_length=q.CURSOR_MAX_LENGTH,
        pattern=q.CURSOR_PATTERN,
        description="next_cursor of the previous page (it carries its sort order).",
    )


async def list_alerts(_key: ReadKey, params: Annotated[AlertListParams, Query()]) -> Response:
    """Alerts, deduplicated by alert id, filtered and paged with an opaque keyset cursor."""
    # Declaration only (OpenAPI): AlertListRoute answers with _handle, never calls this.
    raise NotImplementedError


async def _handle(request: Request) -> Response:
    body = await answer(request.app.state, request.headers.get(HEADER), request.query_params)
    return Response(body, media_type="application/json")


async def answer(state: State, key: str | None, query: Mapping[str, str]) -> bytes:
    """The page for one request: auth, then the validated query, then the database.

    Raises the same problems as every route (ProblemError, RequestValidationError with
    ``query.<name>`` locations, DatabaseUnavailableError); both handlers turn them into
    responses through the app's exception handlers.
    """
    await check_key(state, key, Scope.READ)
    try:
        params = AlertListParams.model_validate(dict(query))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("query", *err["loc"])} for err in exc.errors()]
        ) from None
    return await page(state.db, state.settings, params)


async def page(db: Database, settings: Settings, params: AlertListParams) -> bytes:
    """The ``AlertPage`` JSON for ``params`` (tests check it against the schema)."""
    size = settings.page_size_default if params.limit is None else params.limit
    if size > settings.page_size_max:
        raise ProblemError(422, f"limit must be <= {settings.page_size_max}", field="query.limit")
    filters = params.filters(params.status.value if params.status else None)
    after = q.Cursor.decode(params.cursor) if params.cursor is not None else None
    sort = after.sort if after is not None else params.sort
    sql, args = q.build_list_query(filters, sort, after, size)
    rows = await db.fetch(sql, *args)
    body = {
        "items": [q.summary(row) for row in rows[:size]],
        "next_cursor": q.next_cursor(rows, sort, size),
        "limit": size,
    }
    return orjson.dumps(body)


def _check_naive(value: datetime | None, field: str) -> None:
    if value is not None and value.tzinfo is None:
        raise ProblemError(422, "timestamp needs a timezone (e.g. Z)", field=field)


def declare_page_size(schema: dict[str, Any], page_size_max: int) -> dict[str, Any]:
    """``schema`` (the app's OpenAPI) stating this deployment's ``limit`` maximum."""
    for parameter in schema["paths"]["/v1/alerts"]["get"]["parameters"]:
        if parameter["name"] == "limit":
            for branch in parameter["schema"].get("anyOf", [parameter["schema"]]):
                if branch.get("type") == "integer":
                    branch["maximum"] = page_size_max
    return schema


class AlertListRoute(APIRoute):
    """Serves :func:`list_alerts`'s declaration with :func:`_handle`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return _handle
