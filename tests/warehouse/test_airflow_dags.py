"""Airflow 3 + Cosmos: every DAG imports, one task per model, the DAGs run in order for real."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest

from streamflow.platform.settings import PostgresSettings
from streamflow.testkit.bronze_fixture import expected, load
from tests.warehouse.helpers import AIRFLOW_PY, REPO, warehouse_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]


def _airflow_env(pg: PostgresSettings, home: Path) -> dict[str, str]:
    return warehouse_env(
        pg,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "airflow" / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__CORE__PARALLELISM="2",
        AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
    )


def _manifest_models(manifest: Path, *folders: str) -> set[str]:
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {
        n["name"]
        for n in nodes
        if n["resource_type"] in ("model", "snapshot")
        and any(n["original_file_path"].startswith(f) for f in folders)
    }


def test_every_dag_imports_and_renders_one_task_per_model(
    pg_admin_settings: PostgresSettings, dbt_manifest: Path, airflow_home: Path
) -> None:
    out = airflow_home / "report.json"
    proc = subprocess.run(
        [str(AIRFLOW_PY), str(REPO / "scripts" / "warehouse" / "check_dags.py"), str(out)],
        env=_airflow_env(pg_admin_settings, airflow_home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["import_errors"] == {}
    dags = report["dags"]
    assert set(dags) == {"dbt_staging", "dbt_marts", "dbt_quality", "maintenance", "model_training"}

    staging = _manifest_models(dbt_manifest, "models/staging")
    assert {f"staging.{m}_model_build" for m in staging} | {"silver_ready"} == set(
        dags["dbt_staging"]["tasks"]
    )
    marts = _manifest_models(dbt_manifest, "models/intermediate", "models/marts")
    expected = {f"marts.{m}_model_build" for m in marts} | {
        "marts.snap_customers_snapshot_build",
        "gold_ready",
    }
    assert expected == set(dags["dbt_marts"]["tasks"])
    assert set(dags["dbt_quality"]["tasks"]) == {"source_freshness", "dbt_test"}
    assert set(dags["model_training"]["tasks"]) == {
        "training_cutoff",
        "examples.stg_transactions_model_build",
        "examples.training_examples_model_build",
        "train",
    }
    assert set(dags["maintenance"]["tasks"]) == {
        "bronze_retention",
        "vacuum_analyze",
        "dead_letter_summary",
    }


def test_dags_run_staging_then_marts_then_quality(
    pg_settings: PostgresSettings, dbt_manifest: Path, airflow_home: Path
) -> None:
    dsn = pg_settings.dsn()
    load(dsn)
    proc = subprocess.run(
        [str(REPO / "scripts" / "warehouse" / "run_dags.sh"), "--maintenance"],
        env=_airflow_env(pg_settings, airflow_home),
        capture_output=True,
        text=True,
        timeout=2300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    assert "all succeeded" in proc.stdout
    with psycopg.connect(dsn) as conn:
        for table in (
            "fct_transactions",
            "fct_fraud_alerts",
            "dim_customer",
            "dim_store",
            "dim_merchant",
            "dim_date",
            "agg_hourly_sales",
            "agg_daily_fraud",
            "agg_detection_quality",
        ):
            row = conn.execute(f"select count(*) from gold.{table}").fetchone()
            assert row is not None, table
            assert row[0] > 0, table
        row = conn.execute(
            "select (select count(*) from silver.stg_transactions),"
            " (select count(*) from gold.fct_transactions),"
            " (select sum(amount) from silver.stg_transactions),"
            " (select sum(amount) from gold.fct_transactions)"
        ).fetchone()
        assert row is not None
        assert row[0] == row[1] == expected()["silver_transactions"]
        assert row[2] == row[3]
        # nothing failed, so the quality DAG published no alert
        alerts = conn.execute("select count(*) from ops.warehouse_alerts").fetchone()
        assert alerts == (0,)


def test_failure_callback_logs_and_publishes_an_alert_event(
    pg_settings: PostgresSettings, airflow_home: Path, warehouse_envs: None
) -> None:
    script = (
        "from types import SimpleNamespace\n"
        "from streamflow.orchestration.alerts import on_failure\n"
        "ti = SimpleNamespace(dag_id='dbt_quality', task_id='dbt_test',"
        " run_id='r1', try_number=1)\n"
        "on_failure({'ti': ti, 'run_id': 'r1', 'exception': RuntimeError('3 tests failed')})\n"
    )
    with psycopg.connect(pg_settings.dsn(), autocommit=True) as listener:
        listener.execute("listen warehouse_alerts")
        proc = subprocess.run(
            [str(AIRFLOW_PY), "-c", script],
            env=_airflow_env(pg_settings, airflow_home),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        assert "dbt_quality.dbt_test failed" in proc.stderr + proc.stdout
        notes = list(listener.notifies(timeout=10, stop_after=1))
    assert notes
    assert json.loads(notes[0].payload)["source"] == "dbt_quality.dbt_test"
    with psycopg.connect(pg_settings.dsn()) as conn:
        row = conn.execute("select source, severity, message from ops.warehouse_alerts").fetchone()
    assert row == ("dbt_quality.dbt_test", "error", "dbt_quality.dbt_test failed: 3 tests failed")
