"""Dependencies as ``Annotated`` aliases: the database, the outbox relay, the settings.

They are ``async def`` on purpose: FastAPI runs plain ``def`` dependencies in its thread pool,
which cost more than the whole database query on the hot path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database
from streamflow.alert_api.outbox import OutboxRelay


async def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _relay(request: Request) -> OutboxRelay | None:
    relay: OutboxRelay | None = request.app.state.relay
    return relay


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Db = Annotated[Database, Depends(_db)]
Relay = Annotated[OutboxRelay | None, Depends(_relay)]
AppSettings = Annotated[Settings, Depends(_settings)]
