"""Tests of the job's Flink options and of the pipeline graph (built, not executed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamflow.fraud_scorer.config import Settings
from streamflow.fraud_scorer.connectors import (
    TRANSACTIONAL_LINGER_MS,
    client_properties,
    outage_properties,
)
from streamflow.fraud_scorer.environment import FlinkEnvironmentSettings, build_environment
from streamflow.fraud_scorer.fraud_job import build_pipeline
from streamflow.fraud_scorer.job_config import environment_settings, job_options, restore_path
from streamflow.platform.settings import KafkaSettings, load_settings


def settings_in(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"checkpoint_dir": (tmp_path / "ckpt").as_uri(), **overrides}
    return Settings(**values)  # type: ignore[arg-type]


def test_restore_path(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    assert restore_path(settings) is None
    chk = tmp_path / "ckpt" / "job" / "chk-4"
    chk.mkdir(parents=True)
    (chk / "_metadata").write_bytes(b"x")
    assert restore_path(settings) == chk.as_uri()
    assert restore_path(settings_in(tmp_path, restore="none")) is None
    assert restore_path(settings_in(tmp_path, restore_path="file:///x")) == "file:///x"


def test_job_options_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFLOW_LOCAL_DIR", str(tmp_path))
    settings = settings_in(tmp_path, execution_mode="process", parallelism=2)
    options = job_options(settings, "file:///chk-1")
    assert options["execution.checkpointing.externalized-checkpoint-retention"] == (
        "RETAIN_ON_CANCELLATION"
    )
    assert options["execution.state-recovery.path"] == "file:///chk-1"
    assert "execution.state-recovery.path" not in job_options(settings, None)
    # Unclaimed state (an operator the job no longer has) stops a restore unless allowed.
    assert "execution.state-recovery.ignore-unclaimed-state" not in options
    allowing = job_options(settings_in(tmp_path, allow_non_restored_state=True), "file:///c")
    assert allowing["execution.state-recovery.ignore-unclaimed-state"] == "true"
    # Chained operators pass records on without copies (none keeps or changes one).
    assert options["pipeline.object-reuse"] == "true"
    # A cancelled task's Kafka writers may wait out an outage up to the transaction timeout.
    assert int(options["task.cancellation.timeout"]) > settings.kafka_transaction_timeout_ms
    flink = environment_settings(settings, None)
    assert flink.checkpoint_dir == tmp_path / "ckpt"
    assert flink.options()["python.execution-mode"] == "process"
    assert flink.options()["parallelism.default"] == "2"
    assert flink.options()["execution.checkpointing.dir"] == settings.checkpoint_dir
    remote = environment_settings(settings_in(tmp_path, checkpoint_dir="s3://b/c"), None)
    assert remote.checkpoint_dir == FlinkEnvironmentSettings.local(tmp_path).checkpoint_dir
    assert remote.options()["execution.checkpointing.dir"] == "s3://b/c"


def test_flink_names_are_fields_of_the_one_settings_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMFLOW_LOCAL_DIR", str(tmp_path))
    defaults = environment_settings(load_settings(Settings), None)
    assert defaults.java_jar == FlinkEnvironmentSettings.local(tmp_path).java_jar
    assert defaults.log_dir == tmp_path / "flink" / "logs"
    monkeypatch.setenv("STREAMFLOW_FLINK_CONNECTOR_JAR", str(tmp_path / "c.jar"))
    monkeypatch.setenv("STREAMFLOW_FLINK_JAVA_JAR", str(tmp_path / "j.jar"))
    monkeypatch.setenv("STREAMFLOW_FLINK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("STREAMFLOW_FLINK_REST_PORT", "40123")
    settings = load_settings(Settings)
    assert settings.connector_jar == tmp_path / "c.jar"
    flink = environment_settings(settings, None)
    assert flink.jars() == [tmp_path / "c.jar", tmp_path / "j.jar"]
    assert flink.log_dir == tmp_path / "logs"
    assert flink.rest_url() == "http://localhost:40123"


def test_sinks_wait_out_an_outage_up_to_the_transaction_timeout() -> None:
    props = outage_properties(3_600_000)
    assert props["max.block.ms"] == props["delivery.timeout.ms"] == "3600000"
    # delivery.timeout.ms >= linger.ms + request.timeout.ms, else the producer is refused.
    short = outage_properties(10_000)
    wait = int(short["request.timeout.ms"]) + TRANSACTIONAL_LINGER_MS
    assert int(short["delivery.timeout.ms"]) >= wait


def test_client_properties_for_secured_clusters() -> None:
    plain = client_properties(KafkaSettings())
    assert plain == {"security.protocol": "PLAINTEXT"}
    secured = client_properties(
        KafkaSettings(
            security_protocol="SASL_SSL",
            ssl_ca_location="/ca.pem",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username="scorer",
            sasl_password="pw",  # type: ignore[arg-type]
        )
    )
    assert secured["ssl.truststore.location"] == "/ca.pem"
    assert "ScramLoginModule" in secured["sasl.jaas.config"]


def test_pipeline_graph(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, alert_delivery="exactly_once")
    env = build_environment(environment_settings(settings, None))
    build_pipeline(env, settings)
    plan = env.get_execution_plan()
    for operator in ("score", "store-windows-json", settings.topics.transactions_raw):
        assert operator in plan
