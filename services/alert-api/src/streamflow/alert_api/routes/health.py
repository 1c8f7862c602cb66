"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streamflow.alert_api.deps import Db
from streamflow.alert_api.models import Health
from streamflow.alert_api.problems import responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness", responses=responses(503))
async def readyz(db: Db) -> Health:
    """PostgreSQL answers (503 with a problem body otherwise)."""
    await db.fetchval("select 1")
    return Health(status="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics() -> Response:
    """Request counts and latencies in the Prometheus text format (this worker's)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
