"""model_training (daily): training examples as of a cut-off, then train, register and gate.

1. ``training_cutoff``: the run's cut-off (its data interval's end; now for a manual run).
2. Cosmos builds ``gold.training_examples`` and its parents (``dbt build``: run + tests, among
   them the leakage test) with the cut-off and ``label_maturity_days`` as dbt vars.
3. ``train``: exports the examples to a CSV file and runs the trainer of the main environment
   (``python -m streamflow.lab.train gbdt FILE --registry URL ...``, a subprocess), which
   registers the candidate in MLflow and promotes it or tags it rejected (docs/adr/0056). The
   task fails on any exit but success or the trainer's refusal of too little labelled data
   (skipped). One run at a time: two trainings could both move the champion alias.

Settings come from env vars when a task runs (streamflow.orchestration.training); importing this
file runs no dbt and touches no database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowSkipException

from streamflow.orchestration import training
from streamflow.orchestration.alerts import on_failure
from streamflow.orchestration.config import pg_dsn
from streamflow.orchestration.cosmos_setup import dbt_task_group

CUTOFF = "{{ ti.xcom_pull(task_ids='training_cutoff')['training_cutoff'] }}"
MATURITY = "{{ ti.xcom_pull(task_ids='training_cutoff')['label_maturity_days'] }}"

with DAG(
    dag_id="model_training",
    description="gold.training_examples as of a cut-off -> train, register, promotion gate",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0, "on_failure_callback": on_failure},
    dagrun_timeout=timedelta(hours=3),
    tags=["streamflow", "dbt", "ml"],
) as dag:

    @task
    def training_cutoff(data_interval_end: datetime | None = None) -> dict[str, Any]:
        cutoff = data_interval_end or datetime.now(UTC)
        return {
            "training_cutoff": cutoff.astimezone(UTC).isoformat(),
            "label_maturity_days": training.training_config().label_maturity_days,
        }

    examples = dbt_task_group(
        "examples",
        ["+training_examples"],
        dbt_vars={"training_cutoff": CUTOFF, "label_maturity_days": MATURITY},
    )

    @task
    def train(ti: Any = None) -> dict[str, Any]:
        params = ti.xcom_pull(task_ids="training_cutoff")
        cfg = training.training_config()
        cutoff = params["training_cutoff"]
        path = cfg.work_dir / f"training-examples-{cutoff[:19].replace(':', '')}.csv"
        rows = training.export_examples(pg_dsn(), cutoff, path)
        report = training.run_trainer(cfg, path)
        if report is None:
            raise AirflowSkipException(f"{rows} examples: not enough labelled frauds to train")
        return {
            "examples": rows,
            "decision": report["decision"],
            "reason": report["reason"],
            "registry_version": report["candidate"]["registry_version"],
            "candidate": report["candidate"]["metrics"],
            "champion": report["champion"],
        }

    training_cutoff() >> examples >> train()
