"""The model_training DAG's work: export gold.training_examples, run the trainer, read its verdict.

The trainer (``python -m streamflow.lab.train gbdt FILE ...``) lives in the main environment
(LightGBM, numpy, pyarrow), not in Airflow's: it runs as a subprocess of that environment's
python. Settings, all read when a task runs (never at import time):

- ``STREAMFLOW_TRAIN_PYTHON``: the main environment's python (default ``<repo>/.venv/bin/python``);
- ``STREAMFLOW_TRAIN_DIR``: where the examples file goes (default ``<repo>/.local/train``);
- ``STREAMFLOW_MLFLOW_URL``, ``STREAMFLOW_MLFLOW_MODEL_NAME``: the registry (read by the trainer);
- ``STREAMFLOW_TRAIN_LABEL_MATURITY_DAYS`` (default 7): dbt's ``label_maturity_days`` and the
  trainer's ``--feedback-delay``;
- ``STREAMFLOW_TRAIN_ARGS``: more trainer options (shell words), e.g. ``--train-window 21d``.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from streamflow.orchestration.config import REPO

log = logging.getLogger(__name__)

EXIT_NO_DATA = 2
"""The trainer's refusal: too few labelled frauds for a training window and an evaluation week."""

EXPORT_QUERY = """
select transaction_id,
    to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as event_time,
    customer_id, card_id, merchant_id, store_id, amount, currency, channel, latitude, longitude,
    device_id, label
from gold.training_examples
where training_cutoff = {cutoff}
order by event_time, transaction_id
"""


@dataclass(frozen=True)
class TrainingConfig:
    """Where the trainer runs and what it is told (from env vars, loopback defaults)."""

    python: Path
    work_dir: Path
    registry_url: str
    label_maturity_days: int
    extra_args: tuple[str, ...]
    publish: bool = False
    """Deliver each candidate to the running job (``--publish``: shadow, current if promoted)."""


def training_config(env: dict[str, str] | None = None) -> TrainingConfig:
    """Read the configuration from ``env`` (default: the process environment)."""
    source = os.environ if env is None else env
    return TrainingConfig(
        python=Path(source.get("STREAMFLOW_TRAIN_PYTHON", str(REPO / ".venv" / "bin" / "python"))),
        work_dir=Path(source.get("STREAMFLOW_TRAIN_DIR", str(REPO / ".local" / "train"))),
        registry_url=source.get("STREAMFLOW_MLFLOW_URL", "http://127.0.0.1:15000"),
        label_maturity_days=int(source.get("STREAMFLOW_TRAIN_LABEL_MATURITY_DAYS", "7")),
        extra_args=tuple(shlex.split(source.get("STREAMFLOW_TRAIN_ARGS", ""))),
        publish=source.get("STREAMFLOW_TRAIN_PUBLISH", "false").strip().lower()
        in {"1", "true", "yes"},
    )


def export_examples(dsn: str, cutoff: str, path: Path) -> int:
    """COPY the examples built for ``cutoff`` to a CSV file the trainer reads; returns rows.

    Only rows carrying this cut-off: a table rebuilt meanwhile with another cut-off exports
    nothing and fails the task instead of training on the wrong labels.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    at = sql.Literal(datetime.fromisoformat(cutoff))
    query = sql.SQL(EXPORT_QUERY).format(cutoff=at)
    copy = sql.SQL("copy ({}) to stdout with (format csv, header true)").format(query)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, path.open("wb") as out:
        with cur.copy(copy) as stream:
            for chunk in stream:
                out.write(chunk)
        row = conn.execute(
            sql.SQL(
                "select count(*) from gold.training_examples where training_cutoff = {}"
            ).format(at)
        ).fetchone()
    rows = int(row[0]) if row else 0
    if rows == 0:
        raise RuntimeError(f"gold.training_examples holds no rows for the cut-off {cutoff}")
    log.info("exported %d training examples (cut-off %s) to %s", rows, cutoff, path)
    return rows


def trainer_command(cfg: TrainingConfig, examples: Path) -> list[str]:
    """The trainer's command line: the examples, the registry, the label delay, extra options.

    ``--feedback-delay`` (the maturity) times the labels in the point-in-time features;
    ``--labels-complete`` makes the evaluation week the examples' last one.
    """
    return [
        str(cfg.python),
        "-m",
        "streamflow.lab.train",
        "gbdt",
        str(examples),
        "--registry",
        cfg.registry_url,
        "--feedback-delay",
        f"{cfg.label_maturity_days}d",
        # every example is at least the maturity old at the cut-off: its label is final
        "--labels-complete",
        *(["--publish"] if cfg.publish else []),
        *cfg.extra_args,
    ]


def run_trainer(cfg: TrainingConfig, examples: Path) -> dict[str, Any] | None:
    """Run the trainer; its JSON report (promoted or rejected), or None when it refused the data.

    Raises ``RuntimeError`` on any other exit (registry down, bad options, a crash).
    """
    command = trainer_command(cfg, examples)
    log.info("running %s", shlex.join(command))
    # the command is built from this module's settings, never from task input
    proc = subprocess.run(  # noqa: S603
        command, cwd=REPO, capture_output=True, text=True, check=False, timeout=3600
    )
    for line in proc.stderr.splitlines()[-40:]:
        log.info("trainer: %s", line)
    if proc.returncode == EXIT_NO_DATA:
        log.warning(
            "trainer refused the examples (too little labelled data): %s", proc.stderr[-500:]
        )
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"trainer exited {proc.returncode}: {proc.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(proc.stdout)
    log.info(
        "registry version %s: %s (%s)",
        report["candidate"]["registry_version"],
        report["decision"],
        report["reason"],
    )
    return report
