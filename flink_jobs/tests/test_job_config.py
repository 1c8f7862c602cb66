"""Tests of the job's Flink options and of the pipeline graph (built, not executed)."""

from __future__ import annotations

from pathlib import Path

from streamflow.flink_jobs.connectors import client_properties, outage_properties
from streamflow.flink_jobs.environment import FlinkEnvironmentSettings, build_environment
from streamflow.flink_jobs.fraud_job import build_pipeline
from streamflow.flink_jobs.job_config import environment_settings, job_options, restore_path
from streamflow.platform.settings import KafkaSettings
from streamflow.scorer.config import Settings


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


def test_job_options_and_environment(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, execution_mode="process", parallelism=2)
    options = job_options(settings, "file:///chk-1")
    assert options["execution.checkpointing.externalized-checkpoint-retention"] == (
        "RETAIN_ON_CANCELLATION"
    )
    assert options["execution.state-recovery.path"] == "file:///chk-1"
    assert "execution.state-recovery.path" not in job_options(settings, None)
    # A cancelled task's Kafka writers may wait out an outage up to the transaction timeout.
    assert int(options["task.cancellation.timeout"]) > settings.kafka_transaction_timeout_ms
    base = FlinkEnvironmentSettings.from_env({"STREAMFLOW_LOCAL_DIR": str(tmp_path)})
    flink = environment_settings(settings, base, None)
    assert flink.checkpoint_dir == tmp_path / "ckpt"
    assert flink.options()["python.execution-mode"] == "process"
    assert flink.options()["parallelism.default"] == "2"
    assert flink.options()["execution.checkpointing.dir"] == settings.checkpoint_dir
    remote = environment_settings(settings_in(tmp_path, checkpoint_dir="s3://b/c"), base, None)
    assert remote.checkpoint_dir == base.checkpoint_dir


def test_sinks_wait_out_an_outage_up_to_the_transaction_timeout() -> None:
    props = outage_properties(3_600_000)
    assert props["max.block.ms"] == props["delivery.timeout.ms"] == "3600000"
    # delivery.timeout.ms >= linger.ms + request.timeout.ms, else the producer is refused.
    short = outage_properties(10_000)
    assert int(short["delivery.timeout.ms"]) >= int(short["request.timeout.ms"]) + 5


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
    base = FlinkEnvironmentSettings.from_env()
    env = build_environment(environment_settings(settings, base, None))
    build_pipeline(env, settings)
    plan = env.get_execution_plan()
    for operator in ("score", "store-windows-json", settings.topics.transactions_raw):
        assert operator in plan
