"""Import every DAG file the way Airflow does and print a JSON report (run with Airflow's python).

Reports import errors, each DAG's task ids and schedule, and the time each file took to parse,
so tests and the benchmark can check "every DAG imports" and "one task per model".
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
    report: dict[str, object] = {"import_errors": {}, "dags": {}, "parse_seconds": {}}
    for path in sorted(folder.glob("*.py")):
        start = time.perf_counter()
        bag = DagBag(dag_folder=str(path))
        report["parse_seconds"][path.name] = round(time.perf_counter() - start, 3)  # type: ignore[index]
        report["import_errors"].update({str(k): str(v) for k, v in bag.import_errors.items()})  # type: ignore[attr-defined]
        for dag_id, dag in bag.dags.items():
            report["dags"][dag_id] = {  # type: ignore[index]
                "tasks": sorted(t.task_id for t in dag.tasks),
                "file": path.name,
            }
    json.dump(report, sys.stdout, indent=2, sort_keys=True)
    return 1 if report["import_errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
