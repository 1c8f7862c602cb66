"""Helpers for the warehouse tests: run dbt and Airflow from their own environments."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from streamflow.platform.settings import PostgresSettings

REPO = Path(__file__).resolve().parents[2]
DBT = REPO / "envs" / "dbt" / ".venv" / "bin" / "dbt"
AIRFLOW_PY = REPO / "airflow" / ".venv" / "bin" / "python"


def warehouse_env(pg: PostgresSettings, **extra: str) -> dict[str, str]:
    """The process environment pointing dbt/Airflow at ``pg`` (quiet, no telemetry)."""
    env = dict(os.environ)
    env.update(
        STREAMFLOW_PG_HOST=pg.host,
        STREAMFLOW_PG_PORT=str(pg.port),
        STREAMFLOW_PG_DATABASE=pg.database,
        STREAMFLOW_PG_USER=pg.user,
        STREAMFLOW_PG_PASSWORD=pg.password.get_secret_value(),
        STREAMFLOW_PG_SSLMODE=pg.sslmode,
        DBT_PROFILES_DIR=str(REPO / "dbt"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
    )
    env.update(extra)
    return env


def run_dbt(pg: PostgresSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run dbt in the project dir against ``pg``; fail the test with dbt's output on error."""
    proc = subprocess.run(
        [str(DBT), *args],
        cwd=REPO / "dbt",
        env=warehouse_env(pg),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}{proc.stderr}"
    return proc
