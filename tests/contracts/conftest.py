"""Shared fixtures: ``scripts.contracts`` importable, one small generated data set per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `scripts.contracts` is imported from the repository root
    sys.path.insert(0, str(REPO_ROOT))

from tests.contracts.sample import Generated, generate  # noqa: E402


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A few thousand generated transactions (fraud scenarios included), encoded and filed."""
    return generate(tmp_path_factory.mktemp("generated"))
