"""Builds the FastAPI application: routers, auth state, problem details, CORS, metrics, the
request guard (guard.py), the feedback outbox relay (outbox.py), the list route's fast path
(fast_path.py) and the queue counters' fold (queue_counts.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from streamflow.alert_api import problems
from streamflow.alert_api.auth import (
    HEADER,
    HIT_SQL,
    ApiKey,
    Hit,
    KeyVerifier,
    Lookup,
    RateLimiter,
)
from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database
from streamflow.alert_api.fast_path import AlertApi
from streamflow.alert_api.guard import Guard
from streamflow.alert_api.limits import address_throttle
from streamflow.alert_api.outbox import OutboxRelay
from streamflow.alert_api.projection import prune_forever
from streamflow.alert_api.queue_counts import rollup_forever
from streamflow.alert_api.routes import (
    alert_list,
    alerts,
    cases,
    console,
    customers,
    health,
    quality,
    queues,
    rules,
    search,
    stats,
    timeline,
)
from streamflow.alert_api.routes import docs as docs_route
from streamflow.alert_api.rule_sets import declare_draft_schema
from streamflow.alert_api.telemetry import MetricsMiddleware
from streamflow.alert_api.whatif_worker import Workers

DESCRIPTION = """
Alerts raised by the StreamFlow scorer, deduplicated, with their explanations; analyst feedback
(stored, then published to `fraud.feedback` by the outbox relay); statistics. Authenticate with
an API key in the `X-API-Key` header (`make demo` writes one to `.local/demo-api-key`). Errors
are RFC 9457 problem details.
"""


def _lookup(db: Database) -> Lookup:
    async def lookup(digest: str) -> ApiKey | None:
        row = await db.fetchrow(
            "select key_id, name, scopes, rate_limit_per_minute from app.api_keys "
            "where key_hash = $1 and revoked_at is null",
            digest,
        )
        if row is None:
            return None
        return ApiKey(
            key_id=row["key_id"],
            name=row["name"],
            scopes=frozenset(row["scopes"]),
            rate_limit_per_minute=row["rate_limit_per_minute"],
        )

    return lookup


def _hit(db: Database) -> Hit:
    async def hit(key_id: str, requests: int) -> tuple[int, float]:
        [(hits, window_left)] = await db.fetch(HIT_SQL, key_id, requests)
        return int(hits), float(window_left)

    return hit


def _declare_limits(app: FastAPI, settings: Settings) -> None:
    """The published schema states the limits of this deployment's settings (issue #21)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_draft_schema(
                alert_list.declare_page_size(generate(), settings.page_size_max)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def create_app(settings: Settings) -> FastAPI:
    """The application for ``settings`` (no I/O until the first request)."""
    db = Database(settings)

    relay = OutboxRelay(settings) if settings.outbox_relay else None
    workers = Workers()  # the rule what-ifs' worker processes (ADR 0104)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The feedback outbox relay: every process runs one, the advisory lock's holder relays.
        tasks = []
        if relay is not None:
            tasks.append(asyncio.create_task(relay.run(), name="feedback-outbox-relay"))
        # The retention of the scored-transaction projection (ADR 0101).
        if settings.timeline_prune_interval_s > 0:
            tasks.append(asyncio.create_task(prune_forever(db, settings), name="projection-prune"))
        # The queue counters' fold (V047, ADR 0100).
        if settings.queue_counts_rollup_interval_s > 0:
            tasks.append(asyncio.create_task(rollup_forever(db, settings), name="counts-rollup"))
        try:
            yield
        finally:
            await workers.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await db.close()

    docs = settings.docs_enabled
    app = AlertApi(
        # CORS headers come from CORSMiddleware, which the list's fast path would skip.
        fast_list=not settings.cors_origins,
        title="StreamFlow alert API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry hooks re-check the global providers on every request;
        # the API exports Prometheus metrics (its own port, telemetry.py) instead (ADR 0053).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # The documentation is a setting, off in the prod profile by default (ADR 0090); its
        # page is routes/docs.py, Swagger UI from vendored assets, no CDN (ADR 0091).
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    verifier = KeyVerifier(
        _lookup(db), settings.api_key_pepper.get_secret_value(), settings.key_cache_ttl_s
    )
    app.guard = Guard(
        settings.max_body_bytes,
        address_throttle(settings, db),  # per address, shared through PostgreSQL (limits.py)
        verifier,
        frozenset({docs_route.PAGE}) if docs else frozenset(),
    )
    app.state.settings = settings
    app.state.db = db
    app.state.relay = relay
    app.state.whatif_workers = workers
    app.state.verifier = verifier
    app.state.rate_limiter = RateLimiter(_hit(db), settings.default_rate_limit_per_minute)
    _declare_limits(app, settings)
    problems.install(app)
    for module in (
        alerts,
        queues,
        search,
        cases,
        customers,
        timeline,
        stats,
        quality,
        rules,
        health,
        console,
    ):
        app.include_router(module.router)
    app.include_router(alerts.bulk_router)
    if docs:
        app.include_router(docs_route.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=[HEADER, "Content-Type"],
        )
    app.add_middleware(MetricsMiddleware)
    return app
