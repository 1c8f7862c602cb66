"""The pipeline's real services as subprocesses, for cross-service tests.

Each service runs exactly as it is deployed locally: the PyFlink scoring job from its own
environment (``services/fraud-scorer/.venv``), the ingestor and the alert API from their console
scripts in the main environment. Every process gets its own process group (the scoring job forks a
JVM), its own log file, and the test's topics and database through the environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings

REPO = Path(__file__).resolve().parents[2]
FLINK_BIN = REPO / "services" / "fraud-scorer" / ".venv" / "bin"
FLINK_PYTHON = FLINK_BIN / "python"
MAIN_BIN = Path(sys.executable).parent

T = TypeVar("T")

# The main environment's settings that would leak into the PyFlink process: coverage of the main
# env (not installed there), its import paths, and Flink settings the job derives itself.
INHERITED_NOT_FOR_FLINK = (
    "COVERAGE_PROCESS_START",
    "PYTHONPATH",
    "PYTHONHOME",
    "FLINK_LOG_DIR",
    "JVM_ARGS",
)


@dataclass
class ServiceProcess:
    """One service in its own process group, its output in ``log_path``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM the whole group (a graceful drain); SIGKILL what is left after ``grace_s``."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        # Children (the scorer's JVM) may outlive the group leader.
        _signal_group(self.proc.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the whole group at once (a crash: nothing runs its shutdown code)."""
        if self.proc is None:
            return
        _signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def describe(self, tail_chars: int = 6000) -> str:
        """Status and the end of the log, for failure messages."""
        if self.proc is None:
            status = "not started"
        elif self.proc.poll() is None:
            status = f"running (pid {self.proc.pid})"
        else:
            status = f"exited with {self.proc.returncode}"
        try:
            log = self.log_path.read_text(errors="replace")[-tail_chars:]
        except OSError:
            log = "(no log)"
        return f"----- {self.name}: {status}; {self.log_path}\n{log}"


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def describe_all(processes: Sequence[ServiceProcess]) -> str:
    return "\n".join(p.describe() for p in processes)


def wait_for(
    condition: Callable[[], T | None],
    *,
    what: str,
    limit_s: float,
    processes: Sequence[ServiceProcess],
    interval_s: float = 0.5,
) -> T:
    """Poll ``condition`` until it returns a value; fail (with every log) if a process dies or
    ``limit_s`` passes first."""
    __tracebackhide__ = True  # the failure is the caller's line, not this loop
    deadline = time.monotonic() + limit_s
    while True:
        for process in processes:
            if not process.alive():
                pytest.fail(
                    f"{process.name} stopped while waiting for {what}\n{describe_all(processes)}"
                )
        value = condition()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            logs = describe_all(processes)
            pytest.fail(f"gave up after {limit_s:.0f} s waiting for {what}\n{logs}")
        time.sleep(interval_s)


def pipeline_env(service_env: dict[str, str], kafka: KafkaSettings) -> dict[str, str]:
    """This process's environment, pointed at the test's topics, database and broker."""
    env = dict(os.environ)
    env.update(service_env)
    env["STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS"] = kafka.bootstrap_servers
    return env


def scorer_process(base_env: dict[str, str], work: Path, rules_file: Path) -> ServiceProcess:
    """The PyFlink scoring job (own MiniCluster) with a fresh group, checkpoints and rules."""
    suffix = uuid.uuid4().hex[:8]
    env = dict(base_env)
    # The PyFlink environment, not the main one, must provide `python` to the job's workers.
    env["PATH"] = os.pathsep.join([str(FLINK_BIN), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(FLINK_BIN.parent)
    for inherited in INHERITED_NOT_FOR_FLINK:
        env.pop(inherited, None)
    env.update(
        {
            "STREAMFLOW_SCORER_GROUP_ID": f"test-console-scorer-{suffix}",
            "STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX": f"test-console-scorer-{suffix}",
            "STREAMFLOW_SCORER_CHECKPOINT_DIR": (work / "checkpoints").as_uri(),
            "STREAMFLOW_SCORER_CHECKPOINT_INTERVAL_MS": "1000",
            "STREAMFLOW_SCORER_RESTORE": "none",
            "STREAMFLOW_SCORER_RULES_FILE": str(rules_file),
            "STREAMFLOW_SCORER_METRICS_PORT": str(free_loopback_port()),
            "STREAMFLOW_FLINK_LOG_DIR": str(work / "flink-logs"),
        }
    )
    return ServiceProcess(
        "scorer",
        [str(FLINK_PYTHON), "-m", "streamflow.fraud_scorer.fraud_job"],
        env,
        work / "scorer.log",
    )


def ingestor_process(base_env: dict[str, str], work: Path) -> ServiceProcess:
    """``streamflow-ingestor run`` with a fresh consumer group."""
    env = dict(base_env)
    env.update(
        {
            "STREAMFLOW_INGESTOR_GROUP_ID": f"test-console-ingestor-{uuid.uuid4().hex[:8]}",
            "STREAMFLOW_INGESTOR_METRICS_PORT": "0",
            "STREAMFLOW_INGESTOR_BATCH_MAX_WAIT_MS": "100",
        }
    )
    return ServiceProcess(
        "ingestor", [str(MAIN_BIN / "streamflow-ingestor"), "run"], env, work / "ingestor.log"
    )


def alert_api_process(base_env: dict[str, str], work: Path, port: int) -> ServiceProcess:
    """``streamflow-alert-api`` on ``port``."""
    env = dict(base_env)
    env["STREAMFLOW_API_PORT"] = str(port)
    env["STREAMFLOW_API_HOST"] = "127.0.0.1"
    env.setdefault("STREAMFLOW_API_METRICS_PORT", str(free_loopback_port()))
    return ServiceProcess(
        "alert-api", [str(MAIN_BIN / "streamflow-alert-api")], env, work / "alert-api.log"
    )
