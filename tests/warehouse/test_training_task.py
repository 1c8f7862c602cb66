"""The model_training DAG's train step against stub trainers: which exits succeed, skip or fail.

Runs ``streamflow.orchestration.training`` in the Airflow environment (where the DAG runs it)
with ``STREAMFLOW_TRAIN_PYTHON`` pointing at a stub that records its arguments and exits as told.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.warehouse.helpers import AIRFLOW_PY

pytestmark = pytest.mark.integration

REPORT = {
    "decision": "rejected",
    "reason": "AP 0.1 does not beat champion v1's 0.5",
    "candidate": {"registry_version": "2"},
}
SCRIPT = """
import json, sys
from pathlib import Path
from streamflow.orchestration.training import run_trainer, training_config
try:
    report = run_trainer(training_config(), Path("examples.csv"))
except RuntimeError as exc:
    print(json.dumps({"error": str(exc)}))
else:
    print(json.dumps({"report": report}))
"""


def _run(tmp_path: Path, exit_code: int, stdout: str = "") -> dict[str, object]:
    stub = tmp_path / "python"
    args_file = tmp_path / "args.txt"
    (tmp_path / "out.json").write_text(stdout, encoding="utf-8")
    stub.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {args_file}\ncat {tmp_path / "out.json"}\n'
        f"echo 'trainer log line' >&2\nexit {exit_code}\n",
        encoding="utf-8",
    )
    stub.chmod(0o755)
    env = dict(
        os.environ,
        STREAMFLOW_TRAIN_PYTHON=str(stub),
        STREAMFLOW_MLFLOW_URL="http://127.0.0.1:1",
        STREAMFLOW_TRAIN_LABEL_MATURITY_DAYS="5",
        STREAMFLOW_TRAIN_ARGS="--trees 1 --margin 0.02",
    )
    proc = subprocess.run(
        [str(AIRFLOW_PY), "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["args"] = args_file.read_text(encoding="utf-8").split()
    return result


def test_exit_codes_map_to_success_skip_and_failure(tmp_path: Path, warehouse_envs: None) -> None:
    done = _run(tmp_path, 0, json.dumps(REPORT))
    assert done["report"] == REPORT
    assert done["args"] == [
        *("-m", "streamflow.lab.train", "gbdt", "examples.csv"),
        *("--registry", "http://127.0.0.1:1", "--feedback-delay", "5d", "--labels-complete"),
        *("--trees", "1", "--margin", "0.02"),
    ]
    refused = _run(tmp_path, 2)
    assert refused["report"] is None  # the DAG task skips
    for code in (1, 3):
        failed = _run(tmp_path, code)
        assert f"trainer exited {code}" in str(failed["error"])
        assert "trainer log line" in str(failed["error"])
