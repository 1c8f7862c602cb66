"""Settings: loopback defaults, env overrides, errors naming the variable, the local data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from streamflow.events import Topic
from streamflow.platform.settings import (
    KafkaSettings,
    PostgresSettings,
    Profile,
    ServiceSettings,
    SettingsError,
    TopicSettings,
    checkout_root,
    env_var_names,
    load_settings,
    local_dir,
)


class _DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_DEMO_", extra="ignore")
    batch_size: int = 10


def test_defaults_are_loopback_and_fixed_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_var_names(_DemoSettings):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_DemoSettings)
    assert settings.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert (settings.pg.host, settings.pg.port) == ("127.0.0.1", 15432)
    assert settings.topics.name(Topic.TRANSACTIONS_RAW) == "transactions.raw"
    assert settings.profile is Profile.LOCAL


def test_env_overrides_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.2:1234")
    monkeypatch.setenv("STREAMFLOW_TOPIC_FRAUD_ALERTS", "alerts.v2")
    monkeypatch.setenv("STREAMFLOW_DEMO_BATCH_SIZE", "99")
    settings = load_settings(_DemoSettings)
    assert settings.kafka.bootstrap_servers == "127.0.0.2:1234"
    assert settings.topics.as_map()[Topic.FRAUD_ALERTS] == "alerts.v2"
    assert settings.batch_size == 99


def test_bad_value_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFLOW_DEMO_BATCH_SIZE", "lots")
    with pytest.raises(SettingsError, match="STREAMFLOW_DEMO_BATCH_SIZE"):
        load_settings(_DemoSettings)


def test_bad_nested_value_names_the_infra_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFLOW_PG_PORT", "99999")
    with pytest.raises(SettingsError, match="STREAMFLOW_PG_PORT"):
        load_settings(_DemoSettings)


def test_default_password_refused_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFLOW_PROFILE", "prod")
    monkeypatch.delenv("STREAMFLOW_PG_PASSWORD", raising=False)
    with pytest.raises(SettingsError, match="STREAMFLOW_PG_PASSWORD"):
        load_settings(_DemoSettings)
    monkeypatch.setenv("STREAMFLOW_PG_PASSWORD", "a-real-secret")
    assert load_settings(_DemoSettings).profile is Profile.PROD


def test_env_var_names_cover_nested_settings() -> None:
    names = env_var_names(_DemoSettings)
    assert {
        "STREAMFLOW_PROFILE",
        "STREAMFLOW_DEMO_BATCH_SIZE",
        "STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS",
        "STREAMFLOW_PG_PASSWORD",
        "STREAMFLOW_TOPIC_DLQ",
    } <= names


def test_dsn_escapes_credentials() -> None:
    pg = PostgresSettings(
        password=SecretStr("p@ss/w:rd"), user="u", database="d b", host="127.0.0.1", port=15432
    )
    assert pg.dsn() == "postgresql://u:p%40ss%2Fw%3Ard@127.0.0.1:15432/d%20b?sslmode=prefer"
    assert pg.dsn("other").split("?")[0].endswith("/other")


def test_kafka_client_config_with_sasl() -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="scorer",
        sasl_password=SecretStr("s3cret"),
        ssl_ca_location="/etc/ca.crt",
    )
    config = kafka.client_config()
    assert config["sasl.password"] == "s3cret"
    assert config["ssl.ca.location"] == "/etc/ca.crt"
    assert "sasl.mechanism" not in KafkaSettings().client_config()


def test_topic_settings_map_every_topic() -> None:
    assert set(TopicSettings().as_map()) == set(Topic)


def test_local_dir_is_anchored_at_the_checkout_not_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = Path(__file__).resolve().parents[3]
    assert checkout_root() == repo
    monkeypatch.chdir(tmp_path)
    assert local_dir({}) == repo / ".local"
    assert local_dir({"STREAMFLOW_LOCAL_DIR": "/srv/sf"}) == Path("/srv/sf")
