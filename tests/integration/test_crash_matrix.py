"""The crash-level fault matrix (issue 17, Build 5), each case with exact per-stage accounting.

Every case runs ``scripts/pipeline/fault_case.sh CASE``: the real generator, PyFlink scoring job
and ingestor on the case's own topics, database, consumer groups and checkpoints; one crash
strikes mid-stream; the stages must resume by themselves and the accounting must hold exactly
(raw = bronze + dead letters, raw = scored + scorer rejections, every transaction_id once in
Kafka (read_committed) and in bronze, alerts deduplicated by alert_id, every generated transaction
landed). Cases that crash Kafka or PostgreSQL get throwaway instances on free ports: the shared
broker and database are never touched.

The short versions (a few thousand events, outages of ~10 s) run in ``make test``; the long ones
(``-m slow``, tens of thousands of events, outages of a minute or more) in ``make test-faults``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.flink]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "pipeline" / "fault_case.sh"
LOCAL = Path(os.environ.get("STREAMFLOW_LOCAL_DIR", str(REPO / ".local")))
HAVE_PIPELINE = (
    shutil.which("java") is not None
    and (REPO / "services" / "fraud-scorer" / ".venv" / "bin" / "python").is_file()
    and any((LOCAL / "lib" / "flink").glob("flink-sql-connector-kafka-*.jar"))
)
HAVE_KAFKA_JARS = any((LOCAL / "lib" / "kafka").glob("kafka_2.13-*.jar"))
HAVE_PG = any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
IS_ROOT = os.geteuid() == 0
# Settings of the test process that must not leak into the job (as tests/integration's helpers).
NOT_INHERITED = ("COVERAGE_PROCESS_START", "PYTHONPATH", "PYTHONHOME", "FLINK_LOG_DIR", "JVM_ARGS")
CHECK = re.compile(r"^(ok  |FAIL) (.+): expected (\d+), found (\d+)$", re.MULTILINE)
# streamflow.testkit.accounting's nine equations plus the generator's "every one landed".
CHECKS = 10


@dataclass(frozen=True)
class Case:
    """One crash of the matrix: its size, and the line that proves the crash really struck."""

    name: str
    count: int
    rate: int
    down_s: int
    evidence: str


# Found by this matrix and fixed: on a full disk a new PostgreSQL session can die at start-up with
# FATAL "could not write init file" (SQLSTATE XX000); the ingestor's writer now retries any error
# raised while opening a session (writer.SessionRefusedError) instead of stopping (docs/adr/0110).
SHORT = [
    Case("broker-kill9", 15_000, 300, 8, r"killed -9 kafka \(pid \d+\)"),
    Case("pg-immediate", 4_000, 300, 8, r"it ran crash recovery"),
    Case("scorer-checkpoint", 6_000, 300, 0, r"while chk-\d+ was in progress .* never completed"),
    Case("scorer-down", 6_000, 300, 10, r"scorer down for 10 s \(checkpoint interval 2000 ms\)"),
    pytest.param(
        Case("disk-full", 6_000, 300, 8, r"ingestor stalled on the full disk"),
        id="disk-full",
    ),
]
LONG = [
    Case("broker-kill9", 90_000, 500, 60, r"killed -9 kafka \(pid \d+\)"),
    Case("pg-immediate", 40_000, 500, 45, r"it ran crash recovery"),
    Case("scorer-checkpoint", 40_000, 500, 0, r"while chk-\d+ was in progress .* never completed"),
    Case("scorer-down", 40_000, 500, 90, r"scorer down for 90 s \(checkpoint interval 2000 ms\)"),
    pytest.param(
        Case("disk-full", 40_000, 500, 60, r"ingestor stalled on the full disk"),
        id="disk-full",
    ),
]


def needs(case: Case) -> str | None:
    """Why ``case`` cannot run here, or None."""
    if not HAVE_PIPELINE:
        return "java, services/fraud-scorer/.venv or the Kafka connector jar missing (make setup)"
    if case.name == "broker-kill9" and not HAVE_KAFKA_JARS:
        return "the Kafka jars are missing (make setup)"
    if case.name in {"pg-immediate", "disk-full"} and not HAVE_PG:
        return "PostgreSQL server binaries missing (make setup)"
    if case.name == "disk-full" and not IS_ROOT:
        return "mounting the small tmpfs needs root"
    return None


def run_case(case: Case, tmp_path: Path) -> str:
    """Run one case of the matrix; its whole output, after checking the verdict and evidence."""
    reason = needs(case)
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(
        STREAMFLOW_FAULT_COUNT=str(case.count),
        STREAMFLOW_FAULT_RATE=str(case.rate),
        STREAMFLOW_FAULT_DOWN_S=str(case.down_s),
    )
    log = tmp_path / f"{case.name}.log"
    started = time.monotonic()
    with log.open("wb") as out:
        result = subprocess.run(
            [str(SCRIPT), case.name],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    output = log.read_text(errors="replace")
    print(f"{case.name}: exit {result.returncode} after {time.monotonic() - started:.0f} s")
    print(output[-6000:])
    assert result.returncode == 0, output[-6000:]
    assert re.search(case.evidence, output), f"the crash did not strike as planned\n{output}"
    checks = CHECK.findall(output)
    assert len(checks) == CHECKS, output[-6000:]
    failed = [c for c in checks if c[0] != "ok  " or c[2] != c[3]]
    assert not failed, failed
    return output


@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", SHORT, ids=lambda c: c.name if isinstance(c, Case) else None)
def test_crash_short(case: Case, tmp_path: Path) -> None:
    run_case(case, tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("case", LONG, ids=lambda c: c.name if isinstance(c, Case) else None)
def test_crash_long(case: Case, tmp_path: Path) -> None:
    run_case(case, tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_broker_down_when_the_stream_ends(tmp_path: Path) -> None:
    """Found by this matrix and fixed (docs/adr/0110), two bugs:

    - the generator's final flush waited 30 s, shorter than its delivery timeout, so an outage at
      the end of a run abandoned queued records; it now waits two delivery windows (re-sending
      what times out);
    - the scorer's Kafka sinks gave up after 60 s without the broker (the producer's default
      ``max.block.ms``), and the writer's close then threw that error again during Flink's
      clean-up, a fatal TaskManager error: the MiniCluster lost its only TaskManager and never
      scored again. The sinks now wait out an outage up to the transaction timeout.
    """
    # A short stream that ends while the broker is down for longer than the generator's flush.
    run_case(Case("broker-kill9", 3_000, 300, 45, r"killed -9 kafka"), tmp_path)
