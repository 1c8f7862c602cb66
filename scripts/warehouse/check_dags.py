"""Import every DAG file the way Airflow does and print a JSON report (run with Airflow's python).

Reports import errors, each DAG's task ids and schedule, and the time each file took to parse,
so tests and the benchmark can check "every DAG imports" and "one task per model".
Usage: ``check_dags.py OUT.json`` (Airflow logs to stdout, so the report goes to a file).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    from airflow.dag_processing.dagbag import DagBag

    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    errors: dict[str, str] = {}
    dags: dict[str, dict[str, object]] = {}
    parse_seconds: dict[str, float] = {}
    for path in sorted(folder.glob("*.py")):
        start = time.perf_counter()
        bag = DagBag(dag_folder=str(path))
        parse_seconds[path.name] = round(time.perf_counter() - start, 3)
        errors.update({str(k): str(v) for k, v in bag.import_errors.items()})
        for dag_id, dag in bag.dags.items():
            dags[dag_id] = {"tasks": sorted(t.task_id for t in dag.tasks), "file": path.name}
    report = {"import_errors": errors, "dags": dags, "parse_seconds": parse_seconds}
    Path(sys.argv[1]).write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
