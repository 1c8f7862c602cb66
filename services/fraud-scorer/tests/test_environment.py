"""Tests for streamflow.fraud_scorer.environment: settings, options, a keyed MiniCluster job."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamflow.fraud_scorer.environment import (
    FlinkEnvironmentSettings,
    build_environment,
    default_connector_jar,
)
from streamflow.platform.settings import local_dir

CONNECTOR = default_connector_jar(local_dir())


def test_local_defaults_point_into_local_dir(tmp_path: Path) -> None:
    (tmp_path / "lib" / "flink").mkdir(parents=True)
    jar = tmp_path / "lib" / "flink" / "flink-sql-connector-kafka-5.0.0-2.2.jar"
    jar.touch()
    settings = FlinkEnvironmentSettings.local(tmp_path)
    assert settings.connector_jar == jar
    assert settings.checkpoint_dir == tmp_path / "flink" / "checkpoints"
    assert settings.log_dir == tmp_path / "flink" / "logs"
    opts = settings.options()
    java_jar = tmp_path / "lib" / "flink-java" / "streamflow-flink-java.jar"
    assert settings.java_jar == java_jar
    assert opts["pipeline.jars"] == f"{jar.as_uri()};{java_jar.as_uri()}"
    assert opts["python.execution-mode"] == "thread"
    assert opts["state.backend.type"] == "rocksdb"
    assert opts["execution.checkpointing.dir"] == (tmp_path / "flink" / "checkpoints").as_uri()
    assert opts["execution.checkpointing.interval"] == "2000 ms"
    assert opts["parallelism.default"] == "1"


def test_options_follow_the_settings(tmp_path: Path) -> None:
    settings = FlinkEnvironmentSettings(
        connector_jar=tmp_path / "c.jar",
        checkpoint_dir=tmp_path / "ck",
        log_dir=tmp_path / "logs",
        checkpoint_interval_ms=500,
        parallelism=2,
        state_backend="hashmap",
    )
    assert settings.options()["execution.checkpointing.interval"] == "500 ms"
    assert settings.options()["state.backend.type"] == "hashmap"
    assert settings.options()["parallelism.default"] == "2"


def test_missing_connector_is_a_clear_error(tmp_path: Path) -> None:
    settings = FlinkEnvironmentSettings(
        connector_jar=tmp_path / "missing.jar",
        checkpoint_dir=tmp_path / "ck",
        log_dir=tmp_path / "logs",
    )
    with pytest.raises(FileNotFoundError, match="make setup"):
        build_environment(settings)


def test_missing_java_helpers_are_a_clear_error(tmp_path: Path) -> None:
    connector = tmp_path / "connector.jar"
    connector.touch()
    settings = FlinkEnvironmentSettings(
        connector_jar=connector,
        java_jar=tmp_path / "missing-java.jar",
        checkpoint_dir=tmp_path / "ck",
        log_dir=tmp_path / "logs",
    )
    with pytest.raises(FileNotFoundError, match=r"missing-java\.jar"):
        build_environment(settings)


@pytest.mark.flink
@pytest.mark.skipif(not CONNECTOR.is_file(), reason="connector jar not resolved (make setup)")
def test_keyed_job_runs_in_minicluster_with_connector(tmp_path: Path) -> None:
    from pyflink.common import Types
    from pyflink.common.serialization import SimpleStringSchema
    from pyflink.datastream import KeyedProcessFunction, RuntimeContext
    from pyflink.datastream.connectors.kafka import KafkaSource
    from pyflink.datastream.state import ValueStateDescriptor

    settings = FlinkEnvironmentSettings(
        connector_jar=CONNECTOR,
        checkpoint_dir=tmp_path / "checkpoints",
        log_dir=tmp_path / "logs",
        checkpoint_interval_ms=500,
    )
    env = build_environment(settings)

    # The connector's classes are loadable through pipeline.jars (nothing is contacted).
    source = (
        KafkaSource.builder()
        .set_bootstrap_servers("127.0.0.1:1")
        .set_topics("streamflow-test")
        .set_value_only_deserializer(SimpleStringSchema())
        .build()
    )
    assert source is not None

    class RunningTotal(KeyedProcessFunction):  # type: ignore[misc]
        def open(self, runtime_context: RuntimeContext) -> None:
            self.total = runtime_context.get_state(ValueStateDescriptor("total", Types.LONG()))

        def process_element(
            self, value: tuple[str, int], ctx: KeyedProcessFunction.Context
        ) -> Iterator[tuple[str, int]]:
            total = (self.total.value() or 0) + value[1]
            self.total.update(total)
            yield value[0], total

    records = [("a", 1), ("b", 10), ("a", 2), ("b", 20), ("a", 3)]
    stream = env.from_collection(records, type_info=Types.TUPLE([Types.STRING(), Types.LONG()]))
    result = (
        stream.key_by(lambda r: r[0], key_type=Types.STRING())
        .process(RunningTotal(), output_type=Types.TUPLE([Types.STRING(), Types.LONG()]))
        .execute_and_collect()
    )
    with result:
        out = [tuple(r) for r in result]
    finals = {k: max(v for kk, v in out if kk == k) for k, _ in out}
    assert finals == {"a": 6, "b": 30}
    assert len(out) == len(records)

    # Thread mode: the Python function runs inside the JVM process (pemja), not a Python worker.
    exe = env.from_collection([1], type_info=Types.INT()).map(
        lambda _: os.path.basename(os.readlink("/proc/self/exe")), output_type=Types.STRING()
    )
    with exe.execute_and_collect() as names:
        assert list(names) == ["java"]
