"""Dependencies as ``Annotated`` aliases: the database, the publisher, the settings.

They are ``async def`` on purpose: FastAPI runs plain ``def`` dependencies in its thread pool,
which cost more than the whole database query on the hot path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database
from streamflow.alert_api.publisher import FeedbackPublisher


async def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _publisher(request: Request) -> FeedbackPublisher:
    publisher: FeedbackPublisher = request.app.state.publisher
    return publisher


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Db = Annotated[Database, Depends(_db)]
Publisher = Annotated[FeedbackPublisher, Depends(_publisher)]
AppSettings = Annotated[Settings, Depends(_settings)]
