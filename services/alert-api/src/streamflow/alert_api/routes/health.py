"""Liveness and readiness (Prometheus metrics have their own port: telemetry.py)."""

from __future__ import annotations

from fastapi import APIRouter

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
