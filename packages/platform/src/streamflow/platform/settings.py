"""Settings shared by every service: Kafka, PostgreSQL, topic names, the deployment profile.

Infra settings use the ``STREAMFLOW_KAFKA_*``, ``STREAMFLOW_PG_*`` and ``STREAMFLOW_TOPIC_*``
prefixes; each service's own ``Settings`` subclasses :class:`ServiceSettings` with its own prefix
(``STREAMFLOW_<SERVICE>_``) and nests these. ``STREAMFLOW_PG_USER`` is the owner (migrator) role; a
service that declares ``pg_user`` (``STREAMFLOW_<SERVICE>_PG_USER``) connects as its own role. Load
one with :func:`load_settings`, which turns a validation error into a :class:`SettingsError` naming
the environment variables at fault.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamflow.events.topics import Topic

LOCAL_PG_PASSWORD = "streamflow"  # noqa: S105 - the documented local-profile default only


class Profile(StrEnum):
    """Where the service runs; only ``local`` accepts the built-in development password."""

    LOCAL = "local"
    DEV = "dev"
    PROD = "prod"


class KafkaSettings(BaseSettings):
    """How to reach the Kafka cluster."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_KAFKA_", extra="ignore")

    bootstrap_servers: str = Field(default="127.0.0.1:19092", min_length=3)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    ssl_ca_location: str | None = None
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    def client_config(self) -> dict[str, str | int | float | bool]:
        """librdkafka (confluent-kafka) connection properties."""
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.ssl_ca_location:
            config["ssl.ca.location"] = self.ssl_ca_location
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username or ""
            secret = self.sasl_password.get_secret_value() if self.sasl_password else ""
            config["sasl.password"] = secret
        return config


class PostgresSettings(BaseSettings):
    """How to reach PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_PG_", extra="ignore")

    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=15432, ge=1, le=65535)
    database: str = Field(default="streamflow", min_length=1)
    user: str = Field(default="streamflow", min_length=1)
    password: SecretStr = SecretStr(LOCAL_PG_PASSWORD)
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    sslrootcert: str | None = Field(
        default=None, description="CA file that verify-ca/verify-full check the server against."
    )

    def dsn(self, database: str | None = None) -> str:
        """A ``postgresql://`` URL usable by psycopg and asyncpg."""
        password = quote(self.password.get_secret_value(), safe="")
        name = quote(database or self.database, safe="")
        ca = f"&sslrootcert={quote(self.sslrootcert, safe='/')}" if self.sslrootcert else ""
        return (
            f"postgresql://{quote(self.user, safe='')}:{password}@{self.host}:{self.port}/{name}"
            f"?sslmode={self.sslmode}{ca}"
        )

    def as_role(self, user: str, password: SecretStr | None = None) -> PostgresSettings:
        """The same server and database as another login role (its password, else this one)."""
        return self.model_copy(update={"user": user, "password": password or self.password})


class TopicSettings(BaseSettings):
    """Topic names, overridable per deployment (and per test)."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_TOPIC_", extra="ignore")

    transactions_raw: str = Topic.TRANSACTIONS_RAW.value
    transactions_scored: str = Topic.TRANSACTIONS_SCORED.value
    fraud_alerts: str = Topic.FRAUD_ALERTS.value
    fraud_feedback: str = Topic.FRAUD_FEEDBACK.value
    fraud_rules: str = Topic.FRAUD_RULES.value
    fraud_models: str = Topic.FRAUD_MODELS.value
    metrics_realtime: str = Topic.METRICS_REALTIME.value
    dlq: str = Topic.DLQ.value

    def name(self, topic: Topic) -> str:
        """The configured name of a topic."""
        value: str = getattr(self, topic.name.lower())
        return value

    def as_map(self) -> dict[Topic, str]:
        """Every topic with its configured name."""
        return {topic: self.name(topic) for topic in Topic}


class ServiceSettings(BaseSettings):
    """Base of every service's settings: profile plus the nested shared infra settings."""

    model_config = SettingsConfigDict(extra="ignore")

    profile: Profile = Field(default=Profile.LOCAL, validation_alias="STREAMFLOW_PROFILE")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    pg: PostgresSettings = Field(default_factory=PostgresSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    @model_validator(mode="after")
    def _no_default_secrets_outside_local(self) -> ServiceSettings:
        # A service with a PostgreSQL role of its own (a ``pg_user`` field, ADR 0105) connects as
        # that role, unless the caller handed it explicit ``pg`` settings (tools, some tests).
        role = getattr(self, "pg_user", None)
        if isinstance(role, str) and "pg" not in self.model_fields_set:
            password = getattr(self, "pg_password", None)
            self.pg = self.pg.as_role(role, password if isinstance(password, SecretStr) else None)
        local_password = self.pg.password.get_secret_value() == LOCAL_PG_PASSWORD
        if self.profile is not Profile.LOCAL and local_password:
            raise ValueError(
                "STREAMFLOW_PG_PASSWORD must be set to a real secret outside the local profile"
            )
        return self


class SettingsError(RuntimeError):
    """Start-up refused: names every environment variable whose value is invalid."""


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Instantiate ``cls`` from the environment, or raise :class:`SettingsError` naming the vars."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        owner = _find_settings_class(cls, exc.title) or cls
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            names = [str(p) for p in err["loc"]]
            env = _env_name(owner, names[0]) if names else "<settings>"
            suffix = "." + ".".join(names[1:]) if len(names) > 1 else ""
            lines.append(f"{env}{suffix}: {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None


def env_var_names(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable ``cls`` (and the settings classes nested in it) reads."""
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            names |= env_var_names(annotation)
        else:
            names.add(_env_name(cls, field_name))
    return names


def _env_name(cls: type[BaseSettings], field_name: str) -> str:
    field = cls.model_fields.get(field_name)
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    prefix = str(cls.model_config.get("env_prefix", ""))
    return f"{prefix}{field_name}".upper()


def _find_settings_class(root: type[BaseSettings], title: str) -> type[BaseSettings] | None:
    if root.__name__ == title:
        return root
    for field in root.model_fields.values():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            found = _find_settings_class(annotation, title)
            if found is not None:
                return found
    return None


@cache
def checkout_root() -> Path:
    """The root of the StreamFlow checkout this code runs from, else the working directory.

    Found by walking up from this file to the directory holding the Makefile, ``packages/`` and
    ``services/`` (an editable install in a clone); an installed package outside a checkout
    (a container image) has none and falls back to the working directory.
    """
    for parent in Path(__file__).resolve().parents:
        if all((parent / name).exists() for name in ("Makefile", "packages", "services")):
            return parent
    return Path.cwd()


def local_dir(env: Mapping[str, str] | None = None) -> Path:
    """The project-local data dir: ``STREAMFLOW_LOCAL_DIR``, else ``.local`` in the checkout."""
    env = os.environ if env is None else env
    explicit = env.get("STREAMFLOW_LOCAL_DIR")
    return Path(explicit) if explicit else checkout_root() / ".local"
