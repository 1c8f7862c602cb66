"""Fixtures of the alert API tests: settings on the test's database/topics, keys, a client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.keys import create_key
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

sys.path.insert(0, str(Path(__file__).parent))


@dataclass(frozen=True)
class Keys:
    read: str
    write: str  # read + write
    write_only: str


@pytest.fixture
def api_settings(
    pg_settings: PostgresSettings, topics: TopicSettings, kafka_settings: KafkaSettings
) -> Settings:
    return Settings(pg=pg_settings, topics=topics, kafka=kafka_settings, key_cache_ttl_s=0)


@pytest.fixture
def keys(api_settings: Settings) -> Keys:
    return Keys(
        read=create_key(api_settings, "reader", ["alerts:read"], 0)[1],
        write=create_key(api_settings, "analyst", ["alerts:read", "alerts:write"], 0)[1],
        write_only=create_key(api_settings, "writer", ["alerts:write"], 0)[1],
    )


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as test_client:
        yield test_client
