"""Generator settings (``STREAMFLOW_GENERATOR_*``) on top of the shared infra settings."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from streamflow.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    """Operational knobs; what to generate is given on the command line."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_GENERATOR_", extra="ignore")

    pg_user: str = Field(
        default="streamflow_generator",
        min_length=1,
        description="Its own PostgreSQL login role (ADR 0105); STREAMFLOW_PG_USER is the owner's.",
    )
    pg_password: SecretStr | None = Field(
        default=None, description="That role's password; unset: STREAMFLOW_PG_PASSWORD."
    )

    client_id: str = Field(default="streamflow-generator", min_length=1)
    metrics_host: str = Field(default="127.0.0.1", min_length=1)
    metrics_port: int = Field(default=9101, ge=0, le=65535)
    connect_timeout_s: float = Field(default=60.0, gt=0)
    delivery_timeout_s: float = Field(default=120.0, gt=0)
    linger_ms: int = Field(default=50, ge=0)
    batch_size: int = Field(default=1_000_000, gt=0)
    queue_max_messages: int = Field(default=100_000, gt=0)
    queue_max_kbytes: int = Field(default=32_768, gt=0)
