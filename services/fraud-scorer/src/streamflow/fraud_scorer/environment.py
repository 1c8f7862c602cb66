"""Build a PyFlink StreamExecutionEnvironment configured for StreamFlow's local MiniCluster.

:class:`FlinkEnvironmentSettings` holds what the environment is built from (jars, checkpoint and
log directories, parallelism, state backend, execution mode, JVM cap, REST port, extra options).
It reads no environment variables: the scoring job derives it from its one ``Settings`` object
(:func:`streamflow.fraud_scorer.job_config.environment_settings`, where ``STREAMFLOW_FLINK_*``
are fields), and :meth:`FlinkEnvironmentSettings.local` gives the checkout's defaults under
``$STREAMFLOW_LOCAL_DIR`` (the repository's ``.local`` unless set): the Kafka connector jar from
``lib/flink``, the Java helpers from ``lib/flink-java`` (both put there by setup), checkpoints
in ``flink/checkpoints`` and logs in ``flink/logs``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streamflow.platform.settings import local_dir

if TYPE_CHECKING:
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_MS = 750
"""How often state is checkpointed and the exactly-once sinks commit, by default: scored records
become readable at each commit (docs/adr/0131)."""
CONNECTOR_GLOB = "flink-sql-connector-kafka-*.jar"
JAVA_HELPERS_JAR = Path("lib") / "flink-java" / "streamflow-flink-java.jar"


def default_connector_jar(local_dir: Path) -> Path:
    """The newest Kafka connector jar resolved by setup into ``<local_dir>/lib/flink``."""
    jars = sorted((local_dir / "lib" / "flink").glob(CONNECTOR_GLOB))
    return jars[-1] if jars else local_dir / "lib" / "flink" / "flink-sql-connector-kafka.jar"


LOG4J_PROPERTIES = Path(__file__).with_name("log4j-job.properties")
"""The job JVM's log configuration: a rolling file capped at 6 x 100 MB, and the Kafka clients'
metadata managers at WARN (a broker outage made them log ~18,000 lines a second at INFO)."""


@dataclass(frozen=True)
class FlinkEnvironmentSettings:
    """What the local MiniCluster environment is built from."""

    connector_jar: Path
    checkpoint_dir: Path
    log_dir: Path
    java_jar: Path | None = None
    checkpoint_interval_ms: int = CHECKPOINT_INTERVAL_MS
    parallelism: int = 1
    state_backend: str = "rocksdb"
    python_execution_mode: str = "thread"
    jvm_args: str = "-Xmx1g"
    rest_port: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def local(cls, local_dir: Path) -> FlinkEnvironmentSettings:
        """The defaults of a checkout whose project-local directory is ``local_dir``."""
        return cls(
            connector_jar=default_connector_jar(local_dir),
            java_jar=local_dir / JAVA_HELPERS_JAR,
            checkpoint_dir=local_dir / "flink" / "checkpoints",
            log_dir=local_dir / "flink" / "logs",
        )

    def jars(self) -> list[Path]:
        """The jars put on ``pipeline.jars``: the Kafka connector, then the Java helpers."""
        return [self.connector_jar] + ([self.java_jar] if self.java_jar is not None else [])

    def options(self) -> dict[str, str]:
        """The Flink configuration options these settings stand for."""
        opts = {
            "pipeline.jars": ";".join(jar.resolve().as_uri() for jar in self.jars()),
            "python.execution-mode": self.python_execution_mode,
            "parallelism.default": str(self.parallelism),
            # Flink 2.x removed env.set_state_backend / set_checkpoint_storage: use options.
            "state.backend.type": self.state_backend,
            "execution.checkpointing.dir": self.checkpoint_dir.resolve().as_uri(),
            "execution.checkpointing.interval": f"{self.checkpoint_interval_ms} ms",
        }
        if self.rest_port is not None:
            opts["rest.bind-port"] = str(self.rest_port)
        opts.update(self.extra)
        return opts

    def rest_url(self) -> str | None:
        """The MiniCluster's REST address when its port is fixed (:attr:`rest_port`)."""
        return None if self.rest_port is None else f"http://localhost:{self.rest_port}"


def flink_configuration(settings: FlinkEnvironmentSettings) -> Configuration:
    """A pyflink ``Configuration`` holding :meth:`FlinkEnvironmentSettings.options`."""
    from pyflink.common import Configuration

    config = Configuration()
    for key, value in settings.options().items():
        config.set_string(key, value)
    return config


def prepare_process_environment(settings: FlinkEnvironmentSettings) -> None:
    """Set what the gateway JVM and thread mode need, before the first PyFlink call.

    Thread mode (pemja) fails with "No module named 'pemja'" unless this interpreter's bin
    directory comes first on ``PATH``; ``JVM_ARGS`` caps the gateway JVM; Flink's logs go under
    the project-local directory instead of site-packages, written with :data:`LOG4J_PROPERTIES`
    (size-capped, Kafka clients' metadata chatter at WARN).
    """
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    os.environ.setdefault("JVM_ARGS", settings.jvm_args)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FLINK_LOG_DIR", str(settings.log_dir))
    os.environ.setdefault("LOG4J_PROPERTIES", str(LOG4J_PROPERTIES))


def build_environment(
    settings: FlinkEnvironmentSettings | None = None, *, require_connector: bool = True
) -> StreamExecutionEnvironment:
    """A StreamExecutionEnvironment for the local MiniCluster, configured from ``settings``.

    Raises ``FileNotFoundError`` when a jar is required but missing (run ``make setup``, which
    resolves the connector from Maven Central and compiles the Java helpers).
    """
    settings = FlinkEnvironmentSettings.local(local_dir()) if settings is None else settings
    missing = [jar for jar in settings.jars() if not jar.is_file()]
    if require_connector and missing:
        msg = (
            f"Flink jar not found: {missing[0]} (run 'make setup', or set "
            "STREAMFLOW_FLINK_CONNECTOR_JAR / STREAMFLOW_FLINK_JAVA_JAR)"
        )
        raise FileNotFoundError(msg)
    settings.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    prepare_process_environment(settings)

    from pyflink.datastream import StreamExecutionEnvironment

    env = StreamExecutionEnvironment.get_execution_environment(flink_configuration(settings))
    env.set_parallelism(settings.parallelism)
    env.enable_checkpointing(settings.checkpoint_interval_ms)
    return env


LOST_TASKMANAGER_EXIT = 70
"""Exit status of a job whose MiniCluster lost its TaskManager (EX_SOFTWARE)."""


def registered_taskmanagers(rest_url: str, timeout_s: float = 5.0) -> int | None:
    """How many TaskManagers the cluster at ``rest_url`` has; None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{rest_url}/taskmanagers", timeout=timeout_s) as response:  # noqa: S310
            body = json.load(response)
    except (OSError, ValueError):
        return None
    managers = body.get("taskmanagers") if isinstance(body, dict) else None
    return len(managers) if isinstance(managers, list) else None


def exit_lost_taskmanager() -> None:
    """End this process at once with :data:`LOST_TASKMANAGER_EXIT` (the JVM gateway follows)."""
    log.error(
        "the MiniCluster has no TaskManager left (a fatal TaskManager error: see the Flink log); "
        "exiting %d so that the job is started again from its last checkpoint",
        LOST_TASKMANAGER_EXIT,
    )
    logging.shutdown()
    os._exit(LOST_TASKMANAGER_EXIT)


def watch_taskmanagers(
    rest_url: str,
    on_lost: Callable[[], None] = exit_lost_taskmanager,
    *,
    interval_s: float = 10.0,
    polls: int = 3,
    stop: threading.Event | None = None,
) -> threading.Thread:
    """Start a daemon thread that calls ``on_lost`` once the cluster has lost its TaskManagers.

    A MiniCluster does not replace a TaskManager that stopped on a fatal error: the job then
    restarts forever with no slots, so a supervisor (scorer.sh's caller, a pod) must start the
    job again instead. Lost means: the cluster had a TaskManager and then reported none ``polls``
    times in a row, ``interval_s`` apart (an unanswered poll, as at start-up, counts as nothing).
    """
    stopped = stop if stop is not None else threading.Event()

    def watch() -> None:
        seen = False
        missing = 0
        while not stopped.wait(interval_s):
            count = registered_taskmanagers(rest_url)
            if count is None:
                continue
            if count > 0:
                seen, missing = True, 0
            elif seen:
                missing += 1
                if missing >= polls:
                    on_lost()
                    return

    thread = threading.Thread(target=watch, name="taskmanager-watchdog", daemon=True)
    thread.start()
    return thread
