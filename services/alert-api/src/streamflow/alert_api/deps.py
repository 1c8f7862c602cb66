"""Dependencies as ``Annotated`` aliases: the database, the publisher, the settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database
from streamflow.alert_api.publisher import FeedbackPublisher


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _publisher(request: Request) -> FeedbackPublisher:
    publisher: FeedbackPublisher = request.app.state.publisher
    return publisher


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Db = Annotated[Database, Depends(_db)]
Publisher = Annotated[FeedbackPublisher, Depends(_publisher)]
AppSettings = Annotated[Settings, Depends(_settings)]
