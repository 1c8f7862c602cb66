"""`airflow dags test model_training` on real PostgreSQL with warehouse data and the real registry.

A generated learning-scenario file (40 days, frauds with chargebacks 3 days later) is landed in
bronze; the DAG builds gold.training_examples as of the run's cut-off, exports it and runs the
main environment's trainer. The first run (no champion) registers and promotes its model; a
second run forced to a single tree is registered but refused by the gate, and the champion stays.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from streamflow.lab.model_delivery import slots
from streamflow.lab.registry import MlflowRegistry
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings
from tests.warehouse.helpers import REPO, warehouse_env
from tests.warehouse.labelled_bronze import load_labelled

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

TRAIN_ARGS = "--train-window 21d --max-alerts-per-1000 40 --no-anomaly-model"


@pytest.fixture(scope="module")
def learning_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 days from 2026-10-01, 40k transactions, 1,000 customers (fraud spread over the days)."""
    out = tmp_path_factory.mktemp("training") / "learning.parquet"
    subprocess.run(
        [
            *(sys.executable, "-m", "streamflow.generator", "--seed", "7", "--count", "40000"),
            *("--days", "40", "--customers", "1000", "--scenarios", "learning"),
            *("--labelled-out", str(out), "--no-seed-reference", "--quiet"),
        ],
        check=True,
        timeout=300,
    )
    return out


@pytest.fixture
def model_name(mlflow_url: str) -> Iterator[str]:
    """A registered model of this test's own; deleted with its model files afterwards."""
    name = f"test-dag-{uuid.uuid4().hex[:10]}"
    yield name
    MlflowRegistry(mlflow_url).purge(name)


def _dags_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / "warehouse" / "run_dags.sh"), "--dag", "model_training"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


def test_model_training_dag_promotes_a_model_then_refuses_a_worse_one(
    pg_settings: PostgresSettings,
    dbt_manifest: Path,
    airflow_home: Path,
    learning_file: Path,
    mlflow_url: str,
    model_name: str,
    tmp_path: Path,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
) -> None:
    rows, frauds = load_labelled(learning_file, pg_settings.dsn())
    assert frauds > 100
    env = warehouse_env(
        pg_settings,
        AIRFLOW_HOME=str(airflow_home),
        STREAMFLOW_MLFLOW_URL=mlflow_url,
        STREAMFLOW_MLFLOW_MODEL_NAME=model_name,
        STREAMFLOW_TRAIN_DIR=str(tmp_path),
        STREAMFLOW_TRAIN_PYTHON=sys.executable,
        STREAMFLOW_TRAIN_ARGS=f"{TRAIN_ARGS} --trees 60",
        STREAMFLOW_TRAIN_PUBLISH="true",
        STREAMFLOW_TOPIC_FRAUD_MODELS=topics.fraud_models,
        STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS=kafka_settings.bootstrap_servers,
    )
    first = _dags_test(env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]

    with psycopg.connect(pg_settings.dsn()) as conn:
        row = conn.execute(
            "select count(*), sum(label), count(distinct training_cutoff)"
            " from gold.training_examples"
        ).fetchone()
    assert row is not None
    assert row[0] == rows  # all older than the cut-off (now) minus 7 days
    assert row[1] == frauds
    assert row[2] == 1
    exported = list(tmp_path.glob("training-examples-*.csv"))
    assert len(exported) == 1

    registry = MlflowRegistry(mlflow_url)
    versions = registry.versions(model_name)
    assert len(versions) == 1
    champion = registry.alias_version(model_name, "champion")
    assert champion is not None
    assert champion.version == versions[0].version
    assert champion.tags["gate.decision"] == "promoted"
    assert "rejected" not in champion.tags
    # delivered to the running job: the promoted version holds both slots of fraud.models
    held = slots(kafka_settings, topics.fraud_models)
    assert {held[f"{model_name}/{s}"].registry_version for s in ("shadow", "current")} == {
        champion.version
    }

    env["STREAMFLOW_TRAIN_ARGS"] = f"{TRAIN_ARGS} --trees 1"
    second = _dags_test(env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-6000:]
    versions = registry.versions(model_name)
    assert len(versions) == 2
    worse = max(versions, key=lambda v: int(v.version))
    assert worse.version != champion.version
    assert worse.tags["gate.decision"] == "rejected"
    assert "does not beat champion" in worse.tags["rejected"], worse.tags
    still = registry.alias_version(model_name, "champion")
    assert still is not None
    assert still.version == champion.version
    held = slots(kafka_settings, topics.fraud_models)
    assert held[f"{model_name}/current"].registry_version == champion.version
    assert held[f"{model_name}/shadow"].registry_version == worse.version
