"""Ingestor test setup: the helper module is importable, and ``slow`` tests run only on request.

The slow fault-injection tests (200k events, three kill -9s, a 30 s PostgreSQL outage) belong to
``make test-faults``; they run when selected with ``-m slow`` or ``STREAMFLOW_RUN_SLOW=1``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ingestor_helpers import PrivatePostgres  # type: ignore[import-not-found]

from streamflow.platform.migrations import migrate
from streamflow.platform.ports import free_loopback_port


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = (
        "slow" in (config.getoption("-m") or "") or os.environ.get("STREAMFLOW_RUN_SLOW") == "1"
    )
    if wanted:
        return
    skip = pytest.mark.skip(reason="slow fault test: run with -m slow or make test-faults")
    for item in items:
        if "slow" in item.keywords and str(Path(__file__).parent) in str(item.path):
            item.add_marker(skip)


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[PrivatePostgres]:
    """A second, private PostgreSQL cluster (its own dir and port) that a test may stop.

    Started with the project's own ``scripts/infra/postgres.sh`` pointed at a temporary
    ``STREAMFLOW_LOCAL_DIR`` and a free port, so the shared instance is never touched.
    """
    pg = PrivatePostgres(tmp_path / "local", free_loopback_port())
    pg.start()
    migrate(pg.settings.dsn())
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """The CLI installs JSON logging on the root logger; undo it after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
