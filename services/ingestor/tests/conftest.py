"""Ingestor test setup: the helper module is importable, and ``slow`` tests run only on request.

The slow fault-injection tests (200k events, three kill -9s, a 30 s PostgreSQL outage) belong to
``make test-faults``; they run when selected with ``-m slow`` or ``STREAMFLOW_RUN_SLOW=1``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = "slow" in (config.getoption("-m") or "") or os.environ.get("STREAMFLOW_RUN_SLOW") == "1"
    if wanted:
        return
    skip = pytest.mark.skip(reason="slow fault test: run with -m slow or make test-faults")
    for item in items:
        if "slow" in item.keywords and str(Path(__file__).parent) in str(item.path):
            item.add_marker(skip)
