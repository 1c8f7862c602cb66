"""Tests for streamflow.fraud_scorer.environment: settings, options, a keyed MiniCluster job."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from streamflow.fraud_scorer.environment import (
    LOST_TASKMANAGER_EXIT,
    FlinkEnvironmentSettings,
    build_environment,
    default_connector_jar,
    registered_taskmanagers,
    watch_taskmanagers,
)
from streamflow.platform.ports import free_loopback_port
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
    assert opts["execution.checkpointing.interval"] == "750 ms"
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


def test_rest_port_is_fixed_only_when_asked(tmp_path: Path) -> None:
    default = FlinkEnvironmentSettings.local(tmp_path)
    assert "rest.bind-port" not in default.options()
    assert default.rest_url() is None
    fixed = dataclasses.replace(default, rest_port=40123)
    assert fixed.options()["rest.bind-port"] == "40123"
    assert fixed.rest_url() == "http://localhost:40123"


class FakeRest:
    """A REST endpoint answering ``/taskmanagers`` with the next count of ``counts``."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                count = fake.counts.pop(0) if len(fake.counts) > 1 else fake.counts[0]
                body = json.dumps({"taskmanagers": [{"id": str(i)} for i in range(count)]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_registered_taskmanagers() -> None:
    rest = FakeRest([1])
    try:
        assert registered_taskmanagers(rest.url) == 1
    finally:
        rest.close()
    assert registered_taskmanagers(f"http://127.0.0.1:{free_loopback_port()}", 1.0) is None


def test_watchdog_reports_a_lost_taskmanager() -> None:
    rest = FakeRest([0, 0, 1, 1, 0, 1, 0])  # up, a blip of one poll, then gone for good
    lost = threading.Event()
    try:
        thread = watch_taskmanagers(rest.url, lost.set, interval_s=0.05, polls=3)
        assert lost.wait(10)
        thread.join(5)
        assert not thread.is_alive()
        assert rest.counts == [0]
    finally:
        rest.close()


def test_watchdog_waits_for_a_first_taskmanager_and_stops() -> None:
    rest = FakeRest([0])  # never had one (still starting): not lost
    lost, stop = threading.Event(), threading.Event()
    try:
        thread = watch_taskmanagers(rest.url, lost.set, interval_s=0.02, polls=2, stop=stop)
        assert not lost.wait(0.5)
        stop.set()
        thread.join(5)
        assert not thread.is_alive()
    finally:
        rest.close()
    assert not lost.is_set()


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


# A job whose TaskManager dies of a fatal error: one task fails, the whole job fails over, and the
# other task, stuck in Python code that ignores the JVM's interrupts, outlives the cancellation
# watchdog (2 s here), which Flink reports as a fatal TaskManager error. A MiniCluster does not
# replace its TaskManager; the job's watchdog must end the process with LOST_TASKMANAGER_EXIT.
STUCK_JOB = """
import sys
import time
from pathlib import Path
from pyflink.common import Types
from streamflow.fraud_scorer.environment import (
    FlinkEnvironmentSettings, build_environment, watch_taskmanagers,
)

def stuck(value):
    time.sleep(120)
    return value

def fail(value):
    if value == 3:
        time.sleep(3)
        raise ValueError("boom")
    return value

connector, work, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
settings = FlinkEnvironmentSettings(
    connector_jar=connector,
    checkpoint_dir=work / "checkpoints",
    log_dir=work / "logs",
    state_backend="hashmap",
    rest_port=port,
    extra={
        "task.cancellation.timeout": "2000",
        "jobmanager.execution.failover-strategy": "full",
    },
)
env = build_environment(settings)
ints = Types.INT()
env.from_collection([1], type_info=ints).map(stuck, output_type=ints).print()
env.from_collection([2, 3], type_info=ints).map(fail, output_type=ints).print()
watch_taskmanagers(settings.rest_url(), interval_s=1.0, polls=3)
env.execute("stuck")
"""


@pytest.mark.flink
@pytest.mark.timeout(300)
@pytest.mark.skipif(not CONNECTOR.is_file(), reason="connector jar not resolved (make setup)")
def test_a_lost_taskmanager_ends_the_job_process(tmp_path: Path) -> None:
    env = dict(os.environ)
    for inherited in ("FLINK_LOG_DIR", "JVM_ARGS", "COVERAGE_PROCESS_START"):
        env.pop(inherited, None)
    result = subprocess.run(
        [sys.executable, "-c", STUCK_JOB, str(CONNECTOR), str(tmp_path), str(free_loopback_port())],
        env=env,
        capture_output=True,
        timeout=240,
        check=False,
    )
    flink_log = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
    assert result.returncode == LOST_TASKMANAGER_EXIT, result.stderr.decode()[-3000:]
    assert "TaskManager #0 failed" in flink_log
    assert b"no TaskManager left" in result.stderr


def test_job_logs_roll_over_and_quiet_the_kafka_metadata_chatter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job JVM's log4j file caps the log and keeps the outage chatter out (issue #17)."""
    from streamflow.fraud_scorer import environment

    monkeypatch.delenv("LOG4J_PROPERTIES", raising=False)
    monkeypatch.delenv("FLINK_LOG_DIR", raising=False)
    environment.prepare_process_environment(FlinkEnvironmentSettings.local(tmp_path))
    path = Path(os.environ["LOG4J_PROPERTIES"])
    assert path == environment.LOG4J_PROPERTIES
    props = dict(
        line.split(" = ", 1)
        for line in path.read_text().splitlines()
        if " = " in line and not line.startswith("#")
    )
    assert props["appender.file.type"] == "RollingFile"
    assert props["appender.file.policies.size.size"] == "100MB"
    assert props["appender.file.strategy.max"] == "5"
    quiet = {props[k[: -len(".name")] + ".level"] for k, v in props.items() if "Metadata" in v}
    assert quiet == {"WARN"}
