"""Integration tests of the local infrastructure scripts (scripts/infra/*.sh).

Everything that starts or stops something runs against an isolated ``STREAMFLOW_LOCAL_DIR`` under
``.local/tmp`` with free loopback ports, so the shared Kafka/PostgreSQL instances other work relies
on are never stopped; against the shared instances only read-only or reuse paths are exercised.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamflow.platform.ports import free_loopback_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "scripts" / "infra"
SHARED_LOCAL = Path(os.environ.get("STREAMFLOW_LOCAL_DIR", str(REPO / ".local")))
KAFKA_JARS = SHARED_LOCAL / "lib" / "kafka"
HAVE_PG = any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
HAVE_KAFKA = shutil.which("java") is not None and any(KAFKA_JARS.glob("kafka_2.13-*.jar"))
HAVE_MLFLOW = (REPO / "envs" / "mlflow" / ".venv" / "bin" / "mlflow").is_file()


def run(
    script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INFRA / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def isolated() -> Iterator[dict[str, str]]:
    """An environment whose LOCAL_DIR and every port are private to this test."""
    local = REPO / ".local" / "tmp" / f"infra-test-{uuid.uuid4().hex[:8]}"
    local.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        {
            "STREAMFLOW_LOCAL_DIR": str(local),
            "STREAMFLOW_KAFKA_LIB": str(KAFKA_JARS),
            "STREAMFLOW_PG_FSYNC": "off",
            "STREAMFLOW_SKIP_BOOTSTRAP": "1",
            "STREAMFLOW_KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m",
            "STREAMFLOW_METRICS_PORTS": str(free_loopback_port()),
        }
    )
    for var in (
        "STREAMFLOW_KAFKA_PORT",
        "STREAMFLOW_KAFKA_CONTROLLER_PORT",
        "STREAMFLOW_PG_PORT",
        "STREAMFLOW_API_PORT",
        "STREAMFLOW_FLINK_UI_PORT",
        "STREAMFLOW_AIRFLOW_PORT",
        "STREAMFLOW_PROMETHEUS_PORT",
        "STREAMFLOW_MLFLOW_PORT",
    ):
        env[var] = str(free_loopback_port())
    env.pop("STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS", None)
    try:
        yield env
    finally:
        run("down.sh", env=env)
        shutil.rmtree(local, ignore_errors=True)


@pytest.fixture
def foreign_listener() -> Iterator[int]:
    """A port held by a process this project did not start (this test process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def port_listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_status_lists_components() -> None:
    res = run("status.sh")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["COMPONENT", "PORT", "STATE", "PID"]
    names = [line.split()[0] for line in lines[1:]]
    assert names[:2] == ["kafka", "postgres"]


@pytest.mark.parametrize(
    ("script", "var"),
    [("postgres.sh", "STREAMFLOW_PG_PORT"), ("kafka.sh", "STREAMFLOW_KAFKA_PORT")],
)
def test_port_taken_by_foreign_process_is_a_clear_error(
    isolated: dict[str, str], foreign_listener: int, script: str, var: str
) -> None:
    isolated[var] = str(foreign_listener)
    res = run(script, "start", env=isolated)
    assert res.returncode != 0
    assert f"port {foreign_listener}" in res.stderr
    assert f"pid {os.getpid()}" in res.stderr  # names the owning process
    assert var in res.stderr  # says how to choose another port
    status = run("status.sh", env=isolated)
    assert "foreign" in status.stdout
    # down leaves a process it did not start alone, and says so.
    down = run("down.sh", env=isolated)
    assert down.returncode == 0, down.stderr
    assert port_listening(foreign_listener)


@pytest.mark.skipif(not HAVE_PG, reason="PostgreSQL server binaries missing (make setup)")
def test_postgres_up_is_idempotent_and_down_frees_the_port(isolated: dict[str, str]) -> None:
    import psycopg

    first = run("up.sh", "postgres", env=isolated)
    assert first.returncode == 0, first.stderr
    assert "ready on" in first.stdout
    pid = (Path(isolated["STREAMFLOW_LOCAL_DIR"]) / "run" / "postgres.pid").read_text().split()[0]

    second = run("up.sh", "postgres", env=isolated)
    assert second.returncode == 0, second.stderr
    assert f"already running (pid {pid})" in second.stdout

    port = int(isolated["STREAMFLOW_PG_PORT"])
    with psycopg.connect(
        host="127.0.0.1", port=port, dbname="streamflow", user="streamflow", password="streamflow"
    ) as conn:
        row = conn.execute("select current_user, current_database()").fetchone()
    assert row == ("streamflow", "streamflow")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            host="127.0.0.1", port=port, dbname="streamflow", user="streamflow", password="wrong"
        )

    down = run("down.sh", env=isolated)
    assert down.returncode == 0, down.stderr
    assert not port_listening(port)
    assert "stopped" in run("postgres.sh", "status", env=isolated).stdout


@pytest.mark.skipif(not HAVE_KAFKA, reason="java or the Kafka jars missing (make setup)")
def test_kafka_up_is_idempotent_and_down_frees_the_ports(isolated: dict[str, str]) -> None:
    first = run("up.sh", "kafka", env=isolated)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "kafka: ready on" in first.stdout
    second = run("up.sh", "kafka", env=isolated)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout

    down = run("down.sh", env=isolated)
    assert down.returncode == 0, down.stderr
    assert not port_listening(int(isolated["STREAMFLOW_KAFKA_PORT"]))
    assert not port_listening(int(isolated["STREAMFLOW_KAFKA_CONTROLLER_PORT"]))


def test_shared_instances_are_reused_when_running() -> None:
    states = {
        line.split()[0]: line.split()
        for line in run("status.sh").stdout.splitlines()[1:]
        if line.split()[0] in {"kafka", "postgres", "mlflow"}
    }
    if len(states) < 3 or any(cols[-2] != "running" for cols in states.values()):
        pytest.skip("the shared local Kafka/PostgreSQL/MLflow are not running (make up)")
    res = run("up.sh", "all", "--no-bootstrap")
    assert res.returncode == 0, res.stderr
    assert "kafka: already running" in res.stdout
    assert "postgres: already running" in res.stdout
    assert "mlflow: already running" in res.stdout


def test_mlflow_needs_postgres_and_says_so(isolated: dict[str, str]) -> None:
    res = run("mlflow.sh", "start", env=isolated)
    assert res.returncode != 0
    assert "PostgreSQL is not reachable" in res.stderr
    assert "up.sh mlflow" in res.stderr
    assert not port_listening(int(isolated["STREAMFLOW_MLFLOW_PORT"]))


@pytest.mark.skipif(
    not (HAVE_PG and HAVE_MLFLOW), reason="PostgreSQL or envs/mlflow missing (make setup)"
)
def test_mlflow_up_is_idempotent_and_down_frees_the_port(isolated: dict[str, str]) -> None:
    import psycopg

    first = run("up.sh", "mlflow", env=isolated, timeout=240)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "mlflow: ready on" in first.stdout
    local = Path(isolated["STREAMFLOW_LOCAL_DIR"])
    pid = (local / "run" / "mlflow.pid").read_text().split()[0]
    second = run("up.sh", "mlflow", env=isolated)
    assert second.returncode == 0, second.stderr
    assert f"mlflow: already running (pid {pid})" in second.stdout

    port = int(isolated["STREAMFLOW_MLFLOW_PORT"])
    status = run("status.sh", env=isolated).stdout.splitlines()
    assert [f"mlflow {port} running {pid}"] == [
        " ".join(line.split()) for line in status if line.startswith("mlflow")
    ]
    # the backend store is the database the script created; the password is on no command line
    with psycopg.connect(
        host="127.0.0.1",
        port=int(isolated["STREAMFLOW_PG_PORT"]),
        dbname="mlflow",
        user="streamflow",
        password="streamflow",
    ) as conn:
        row = conn.execute("select count(*) from registered_models").fetchone()
    assert row == (0,)
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if f"--port\0{port}".encode() in cmdline:
                assert b"streamflow@" not in cmdline
                assert b"postgresql" not in cmdline

    down = run("down.sh", env=isolated)
    assert down.returncode == 0, down.stderr
    assert "stopping mlflow" in down.stdout
    assert not port_listening(port)
    assert "stopped" in run("mlflow.sh", "status", env=isolated).stdout


def _lib(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {INFRA / 'lib.sh'}; {script}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_stop_pid_stops_the_whole_group_and_never_a_recycled_pid(
    isolated: dict[str, str],
) -> None:
    # A tracked process with a child: both go.
    res = _lib(
        "pid=$(start_bg svc bash -c 'sleep 300 & wait'); sleep 0.3;"
        ' child=$(ps -o pid= --ppid "$pid" | tr -d " "); echo "$pid $child";'
        " stop_pid svc 5; sleep 0.2;"
        ' for p in $pid $child; do ps -o stat= -p $p | grep -qv "^Z" && echo "$p alive"; done;'
        " echo done",
        isolated,
    )
    assert res.returncode == 0, res.stderr
    assert "alive" not in res.stdout
    assert res.stdout.strip().endswith("done")

    # A pid file whose pid now belongs to someone else (start time differs) is not ours.
    other = subprocess.Popen(["sleep", "30"])
    try:
        run_dir = Path(isolated["STREAMFLOW_LOCAL_DIR"]) / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "ghost.pid").write_text(f"{other.pid}\n1\n")
        res = _lib("stop_pid ghost 1; is_running ghost || echo not-ours", isolated)
        assert res.returncode == 0, res.stderr
        assert "not-ours" in res.stdout
        assert other.poll() is None  # untouched
        assert not (run_dir / "ghost.pid").exists()
    finally:
        other.kill()
        other.wait()
