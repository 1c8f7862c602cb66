"""Fixtures for the warehouse tests: dbt and Airflow run from their own environments."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tests.warehouse.*` helpers are imported from the repository root
    sys.path.insert(0, str(REPO))

from streamflow.platform.settings import PostgresSettings  # noqa: E402
from tests.warehouse.helpers import AIRFLOW_PY, DBT, run_dbt  # noqa: E402


@pytest.fixture(scope="session")
def warehouse_envs() -> None:
    """Skip when the dbt/Airflow environments were not installed (make setup installs them)."""
    if not DBT.exists() or not AIRFLOW_PY.exists():
        pytest.skip("warehouse environments missing: run 'make setup' (scripts/setup.d/55-*)")


@pytest.fixture(scope="session")
def dbt_manifest(warehouse_envs: None, pg_admin_settings: PostgresSettings) -> Path:
    """``dbt parse`` once: the manifest Cosmos renders the DAGs from."""
    run_dbt(pg_admin_settings, "parse", "--quiet")
    manifest = REPO / "dbt" / "target" / "manifest.json"
    assert manifest.exists()
    return manifest


@pytest.fixture
def airflow_home(tmp_path: Path) -> Path:
    """A throwaway AIRFLOW_HOME (SQLite metadata DB inside it)."""
    home = tmp_path / "airflow"
    home.mkdir()
    return home
