"""Pytest fixtures for tests that need the real local Kafka, PostgreSQL and MLflow registry.

Loaded for every test through the repository's root ``conftest.py``. The session starts the
infrastructure with the project's own script (``scripts/infra/up.sh``, which reuses running
instances); each test then gets fresh, uniquely named topics and a fresh database cloned from a
migrated template, so tests never see each other's data. The MLflow server (:func:`mlflow_url`)
is started only by the tests that ask for it; they use registered model names of their own.
:func:`headless_chromium` is how the console tests drive a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql

from streamflow.platform.kafka import delete_topics, ensure_topics
from streamflow.platform.migrations import migrate
from streamflow.platform.readiness import wait_for_http, wait_for_kafka, wait_for_postgres
from streamflow.platform.settings import (
    KafkaSettings,
    PostgresSettings,
    TopicSettings,
    checkout_root,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

REPO = checkout_root()
TEMPLATE_PREFIX = "streamflow_test_template"
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
"""Debian's ``chromium`` (installed by ``make setup``), driven by Playwright."""
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Headless, and nothing contacted but the page under test (no sync, updates or prefetch)."""


@contextmanager
def headless_chromium(profile_dir: Path) -> Iterator[BrowserContext]:
    """A headless Chromium with its own profile in ``profile_dir``, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def _start_local_infra(what: str = "core") -> None:
    """``up.sh core``: PostgreSQL + Kafka + bootstrap; ``up.sh mlflow``: PostgreSQL + registry."""
    if os.environ.get("STREAMFLOW_TEST_EXTERNAL_INFRA") == "1":
        return
    script = REPO / "scripts" / "infra" / "up.sh"
    subprocess.run([str(script), what], check=True, cwd=REPO, timeout=600)  # noqa: S603


@pytest.fixture(scope="session")
def kafka_settings() -> KafkaSettings:
    """The running local broker (started on first use)."""
    _start_local_infra()
    settings = KafkaSettings()
    wait_for_kafka(settings, timeout_s=60)
    return settings


@pytest.fixture(scope="session")
def pg_admin_settings() -> PostgresSettings:
    """The running local PostgreSQL, ``streamflow`` database (started on first use)."""
    _start_local_infra()
    settings = PostgresSettings()
    wait_for_postgres(settings, timeout_s=60)
    return settings


@pytest.fixture(scope="session")
def mlflow_url() -> str:
    """The running local MLflow tracking server and model registry (started on first use)."""
    _start_local_infra("mlflow")
    host = os.environ.get("STREAMFLOW_HOST", "127.0.0.1")
    port = os.environ.get("STREAMFLOW_MLFLOW_PORT", "15000")
    url = f"http://{host}:{port}"
    wait_for_http(f"{url}/health", timeout_s=60)
    return url


@pytest.fixture
def topics(kafka_settings: KafkaSettings) -> Iterator[TopicSettings]:
    """Every platform topic under a fresh unique name, created for this test and deleted after."""
    suffix = uuid.uuid4().hex[:10]
    names = TopicSettings().model_copy(
        update={
            field: f"test-{suffix}.{default}"
            for field, default in TopicSettings().model_dump().items()
        }
    )
    ensure_topics(kafka_settings, names)
    yield names
    delete_topics(kafka_settings, names.as_map().values())


@pytest.fixture(scope="session")
def pg_template(pg_admin_settings: PostgresSettings) -> Iterator[str]:
    """A database holding every migration, cloned by :func:`pg_settings` for each test.

    Named per session, so concurrent test sessions never drop each other's template.
    """
    name = f"{TEMPLATE_PREFIX}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_settings.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    migrate(pg_admin_settings.dsn(name))
    yield name
    with psycopg.connect(pg_admin_settings.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


@pytest.fixture
def pg_settings(
    pg_admin_settings: PostgresSettings, pg_template: str
) -> Iterator[PostgresSettings]:
    """Settings pointing at a fresh, fully migrated database that is dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin_dsn = pg_admin_settings.dsn()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(pg_template)
            )
        )
    yield pg_admin_settings.model_copy(update={"database": name})
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


@pytest.fixture
def service_env(
    monkeypatch: pytest.MonkeyPatch, topics: TopicSettings, pg_settings: PostgresSettings
) -> dict[str, str]:
    """Point every service's settings (via the environment) at this test's topics and database."""
    env = {f"STREAMFLOW_TOPIC_{field.upper()}": name for field, name in topics.model_dump().items()}
    env["STREAMFLOW_PG_DATABASE"] = pg_settings.database
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
