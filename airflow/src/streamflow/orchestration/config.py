"""Where dbt, its project and its manifest live, and how to reach PostgreSQL: all from env vars.

``STREAMFLOW_DBT_PROJECT_DIR`` (default: the repository's ``dbt/``), ``STREAMFLOW_DBT_EXECUTABLE``
(default: ``envs/dbt/.venv/bin/dbt``), ``STREAMFLOW_DBT_MANIFEST`` (default:
``<project>/target/manifest.json``, written by ``dbt parse``), ``STREAMFLOW_DBT_TARGET``
(default ``local``), and the shared ``STREAMFLOW_PG_*`` variables with the warehouse role's
``STREAMFLOW_WAREHOUSE_PG_USER``/``_PASSWORD`` (dbt's ``profiles.yml`` reads the same ones).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class WarehouseConfig:
    """Resolved locations of the dbt project and tools."""

    project_dir: Path
    dbt_executable: Path
    manifest: Path
    target: str

    @property
    def profiles_yml(self) -> Path:
        """dbt's profile (connection from ``STREAMFLOW_PG_*``)."""
        return self.project_dir / "profiles.yml"


def warehouse_config(env: dict[str, str] | None = None) -> WarehouseConfig:
    """Read the configuration from ``env`` (default: the process environment)."""
    source = os.environ if env is None else env
    project = Path(source.get("STREAMFLOW_DBT_PROJECT_DIR", str(REPO / "dbt")))
    executable = Path(
        source.get(
            "STREAMFLOW_DBT_EXECUTABLE", str(REPO / "envs" / "dbt" / ".venv" / "bin" / "dbt")
        )
    )
    manifest = Path(
        source.get("STREAMFLOW_DBT_MANIFEST", str(project / "target" / "manifest.json"))
    )
    return WarehouseConfig(
        project_dir=project,
        dbt_executable=executable,
        manifest=manifest,
        target=source.get("STREAMFLOW_DBT_TARGET", "local"),
    )


def pg_dsn(env: dict[str, str] | None = None) -> str:
    """A libpq URL from the ``STREAMFLOW_PG_*`` variables (loopback defaults, as the services).

    It logs in as the warehouse role (ADR 0105), as dbt does: ``STREAMFLOW_WAREHOUSE_PG_USER``
    (default ``streamflow_warehouse``) with ``STREAMFLOW_WAREHOUSE_PG_PASSWORD`` (default
    ``STREAMFLOW_PG_PASSWORD``); ``STREAMFLOW_PG_SSLROOTCERT`` is the CA verify-full checks.
    """
    source = os.environ if env is None else env
    user = quote(source.get("STREAMFLOW_WAREHOUSE_PG_USER", "streamflow_warehouse"), safe="")
    owner_password = source.get("STREAMFLOW_PG_PASSWORD", "streamflow")
    password = quote(source.get("STREAMFLOW_WAREHOUSE_PG_PASSWORD", owner_password), safe="")
    host = source.get("STREAMFLOW_PG_HOST", "127.0.0.1")
    port = source.get("STREAMFLOW_PG_PORT", "15432")
    database = quote(source.get("STREAMFLOW_PG_DATABASE", "streamflow"), safe="")
    sslmode = source.get("STREAMFLOW_PG_SSLMODE", "prefer")
    root = source.get("STREAMFLOW_PG_SSLROOTCERT")
    ca = f"&sslrootcert={quote(root, safe='/')}" if root else ""
    return f"postgresql://{user}:{password}@{host}:{port}/{database}?sslmode={sslmode}{ca}"
