"""A local standalone Flink cluster (a JobManager and TaskManagers in JVMs of their own).

The MiniCluster runs the job's Python in the client's JVM, next to the py4j gateway, so code
that needs the gateway at run time works there and fails in a real cluster's TaskManager (as on
K3s). This cluster is started from the PyFlink wheel's own ``bin`` scripts, on loopback, with
its configuration, pid files and logs under a test directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyflink
import yaml

from streamflow.platform.ports import free_loopback_port

FLINK_HOME = Path(pyflink.__file__).parent
PYTHON_JAR = "flink-python-*.jar"


def _java_opts() -> str:
    """The JVM options of the wheel's default configuration (the JDK 17 ``--add-opens``)."""
    default = yaml.safe_load((FLINK_HOME / "conf" / "config.yaml").read_text())
    opts: str = default["env"]["java"]["opts"]["all"]
    return opts


@dataclass
class StandaloneCluster:
    """Start with :meth:`start`, stop with :meth:`stop`; ``rest`` is ``host:port``."""

    root: Path
    taskmanagers: int = 1
    rest: str = ""

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "FLINK_CONF_DIR": str(self.root / "conf"),
                "FLINK_LIB_DIR": str(self.root / "lib"),
                "FLINK_LOG_DIR": str(self.root / "log"),
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            }
        )
        env.pop("COVERAGE_PROCESS_START", None)
        return env

    def _configure(self) -> None:
        conf, lib = self.root / "conf", self.root / "lib"
        for d in (conf, lib, self.root / "log", self.root / "pid"):
            d.mkdir(parents=True, exist_ok=True)
        for name in ("log4j.properties", "log4j-cli.properties", "log4j-console.properties"):
            (conf / name).write_bytes((FLINK_HOME / "conf" / name).read_bytes())
        # A distribution's lib/ holds flink-python for Python jobs; the wheel keeps it in opt/.
        for jar in [*(FLINK_HOME / "lib").glob("*.jar"), *(FLINK_HOME / "opt").glob(PYTHON_JAR)]:
            (lib / jar.name).symlink_to(jar)
        rest_port = free_loopback_port()
        self.rest = f"127.0.0.1:{rest_port}"
        python = sys.executable
        options = {
            "env.java.opts.all": _java_opts(),
            "env.pid.dir": str(self.root / "pid"),
            "jobmanager.rpc.address": "127.0.0.1",
            "jobmanager.rpc.port": free_loopback_port(),
            "jobmanager.bind-host": "127.0.0.1",
            "jobmanager.memory.process.size": "768m",
            "blob.server.port": free_loopback_port(),
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            "rest.port": rest_port,
            "taskmanager.host": "127.0.0.1",
            "taskmanager.bind-host": "127.0.0.1",
            "taskmanager.numberOfTaskSlots": 1,
            "taskmanager.memory.process.size": "1200m",
            "taskmanager.memory.managed.size": "128m",
            "taskmanager.memory.network.min": "64m",
            "taskmanager.memory.network.max": "64m",
            "python.execution-mode": "thread",
            "python.executable": python,
            "python.client.executable": python,
        }
        (conf / "config.yaml").write_text(yaml.safe_dump(options))

    def _script(self, name: str, *args: str) -> None:
        subprocess.run(
            [str(FLINK_HOME / "bin" / name), *args],
            env=self._env(),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _rest(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"http://{self.rest}{path}", method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read() or b"null")

    def overview(self) -> dict[str, Any]:
        found: dict[str, Any] = self._rest("/overview")
        return found

    def start(self, timeout_s: float = 120) -> None:
        self._configure()
        self._script("jobmanager.sh", "start")
        for _ in range(self.taskmanagers):
            self._script("taskmanager.sh", "start")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.overview().get("taskmanagers") == self.taskmanagers:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                msg = f"standalone cluster not up in {timeout_s:.0f}s:\n{self.logs()}"
                raise RuntimeError(msg)
            time.sleep(1)

    def _jobs(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = self._rest("/jobs/overview")["jobs"]
        return jobs

    def job_states(self) -> list[str]:
        """The states of the jobs submitted so far (``RUNNING``, ``RESTARTING``...)."""
        return [str(job["state"]) for job in self._jobs()]

    def cancel_all(self) -> None:
        for job in self._jobs():
            if job["state"] not in {"CANCELED", "FAILED", "FINISHED"}:
                self._rest(f"/jobs/{job['jid']}?mode=cancel", method="PATCH")

    def stop(self) -> None:
        for script in ("taskmanager.sh", "jobmanager.sh"):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._script(script, "stop-all" if script == "taskmanager.sh" else "stop")

    def logs(self) -> str:
        """The first exception each log reports (with its trace), else the log's tail."""
        texts = []
        for path in sorted((self.root / "log").glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            first = next((i for i, line in enumerate(lines) if "Exception:" in line), None)
            shown = lines[first : first + 25] if first is not None else lines[-20:]
            texts.append(f"== {path.name}\n" + "\n".join(shown))
        return "\n".join(texts)

    def run_command(self, module: str) -> list[str]:
        """``flink run`` of a Python module on this cluster (attached: lives as long as the job)."""
        python = sys.executable
        return [
            str(FLINK_HOME / "bin" / "flink"),
            "run",
            "-m",
            self.rest,
            "-pym",
            module,
            "-pyclientexec",
            python,
            "-pyexec",
            python,
        ]
