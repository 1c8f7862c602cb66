"""Run DAGs once each, in order, in one process (run with Airflow's python by run_dags.sh).

What ``airflow dags test DAG`` does for one DAG (parse it, sync it to the metadata DB, then
``dag.test()`` at the current time as logical date), for several DAGs in one interpreter: Airflow's
imports, the DAG folder's first parse and the in-process task API start once, not once per DAG
(~10 s each here, docs/adr/0132). Each DAG's Airflow output goes to ``LOG_DIR/dags-test-DAG.log``;
stdout gets one line per DAG. Stops at the first DAG whose run does not succeed: the end of its
log on stderr, exit 1. Usage: ``run_dags.py LOG_DIR DAG [DAG ...]``.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """File descriptors 1 and 2 (Airflow's logging, dbt's subprocesses) written to ``path`` anew."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("wb") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


NOISE = ("Asset (Dataset) URI", "AssetModel")
"""Warnings every run logs, left out of a failed DAG's log tail."""


def failure_tail(log: Path, lines: int = 60) -> str:
    """The last ``lines`` lines of a failed DAG's log, without :data:`NOISE`."""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join([line for line in text if not any(n in line for n in NOISE)][-lines:])


def main(argv: list[str]) -> int:
    from airflow.utils.cli import get_bagged_dag  # what `airflow dags test` resolves a DAG with
    from airflow.utils.state import DagRunState

    log_dir, dag_ids = Path(argv[0]), argv[1:]
    for dag_id in dag_ids:
        log = log_dir / f"dags-test-{dag_id}.log"
        started = time.perf_counter()
        with output_to(log):
            try:
                run = get_bagged_dag(None, dag_id).test(logical_date=datetime.now(UTC))
                state = str(getattr(run.state, "value", run.state))
            except Exception:  # the DAG's failure: its traceback goes to its log
                traceback.print_exc()
                state = "error"
        seconds = time.perf_counter() - started
        print(f"[warehouse] {dag_id}: {state} in {seconds:.1f} s (log: {log})", flush=True)
        if state != DagRunState.SUCCESS.value:
            print(failure_tail(log), file=sys.stderr)
            print(f"[warehouse] {dag_id} failed (full log: {log})", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
