"""Fixtures of the alert API tests: settings on the test's database/topics, keys, a client."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.keys import create_key
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

sys.path.insert(0, str(Path(__file__).parent))


@dataclass(frozen=True)
class Keys:
    read: str
    write: str  # read + write
    write_only: str
    admin: str  # read + write + admin (rule what-ifs, publishing rules)


@pytest.fixture
def api_settings(pg_settings: PostgresSettings, kafka_settings: KafkaSettings) -> Settings:
    """Settings on this test's database; topic names that are never created (tests that
    publish use :func:`kafka_api_settings`), which saves creating seven topics per test."""
    unused = TopicSettings().model_copy(
        update={f: f"test-unused-{uuid.uuid4().hex[:8]}.{f}" for f in TopicSettings.model_fields}
    )
    return Settings(pg=pg_settings, topics=unused, kafka=kafka_settings, key_cache_ttl_s=0)


@pytest.fixture
def kafka_api_settings(api_settings: Settings, topics: TopicSettings) -> Settings:
    """:func:`api_settings` with this test's real, freshly created topics."""
    return api_settings.model_copy(update={"topics": topics})


@pytest.fixture
def keys(api_settings: Settings) -> Keys:
    return Keys(
        read=create_key(api_settings, "reader", ["alerts:read"], 0)[1],
        write=create_key(api_settings, "analyst", ["alerts:read", "alerts:write"], 0)[1],
        write_only=create_key(api_settings, "writer", ["alerts:write"], 0)[1],
        admin=create_key(api_settings, "admin", ["alerts:read", "alerts:write", "admin"], 0)[1],
    )


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def kafka_client(kafka_api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(kafka_api_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture
def live_server(kafka_api_settings: Settings, service_env: dict[str, str]) -> Iterator[LiveServer]:
    """The API as its console script runs it, on a free loopback port, for this test's data."""
    import os
    import subprocess
    import time

    import httpx

    port = free_loopback_port()
    env = {
        **os.environ,
        **service_env,
        "STREAMFLOW_API_PORT": str(port),
        "STREAMFLOW_API_METRICS_PORT": str(free_loopback_port()),
        # The scope and schemathesis tests fail authentication on purpose, 2+ times per
        # operation: not the throttle's business here (test_bounded_api.py tests it).
        "STREAMFLOW_API_UNAUTH_BURST": "100000",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamflow.alert_api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"API exited: {proc.stderr.read().decode() if proc.stderr else ''}"
                )
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("API did not start within 15 s")
        yield LiveServer(url, kafka_api_settings)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
