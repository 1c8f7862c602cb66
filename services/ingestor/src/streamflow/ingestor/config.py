"""The ingestor's one settings object (``STREAMFLOW_INGESTOR_*`` plus the shared infra settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from streamflow.ingestor.spool import default_spool_path
from streamflow.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the ingestor reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_INGESTOR_", extra="ignore")

    pg_user: str = Field(
        default="streamflow_ingestor",
        min_length=1,
        description="Its own PostgreSQL login role (ADR 0105); STREAMFLOW_PG_USER is the owner's.",
    )
    pg_password: SecretStr | None = Field(
        default=None, description="That role's password; unset: STREAMFLOW_PG_PASSWORD."
    )

    group_id: str = Field(
        default="streamflow-ingestor", min_length=1, description="Consumer group."
    )
    client_id: str = Field(default="streamflow-ingestor", min_length=1)
    batch_max_records: int = Field(
        default=5000, ge=1, le=100_000, description="Records per database transaction, at most."
    )
    batch_max_wait_ms: int = Field(
        default=200, ge=1, le=60_000, description="How long a fetch waits to fill a batch."
    )
    queue_batches: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Parsed batches buffered per agent; a full queue pauses consumption.",
    )
    writers_per_topic: int = Field(
        default=2,
        ge=1,
        le=8,
        description="Concurrent database writers per agent; offsets are still committed in order.",
    )
    fetch_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_partition_fetch_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_payload_bytes: int = Field(
        default=262_144, ge=256, description="Larger record values go to dead letters."
    )
    retry_initial_s: float = Field(default=0.2, gt=0, description="First database retry delay.")
    retry_max_s: float = Field(default=5.0, gt=0, description="Longest database retry delay.")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    startup_timeout_s: float = Field(
        default=30.0, gt=0, description="How long start-up waits for an unreachable database."
    )
    session_timeout_ms: int = Field(default=10_000, ge=6_000)
    shutdown_timeout_s: float = Field(
        default=30.0, gt=0, description="SIGTERM: how long draining may wait for the database."
    )
    metrics_host: str = Field(default="127.0.0.1", min_length=1)
    metrics_port: int = Field(default=9103, ge=0, le=65535, description="0 = any free port.")
    lag_interval_s: float = Field(default=1.0, gt=0, description="How often lag is measured.")
    spool_path: Path = Field(
        default_factory=default_spool_path,
        description="File for dead letters the database refuses even in minimal form.",
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
