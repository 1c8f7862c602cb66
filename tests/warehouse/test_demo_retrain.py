"""`make demo`'s retrain cycle (scripts/pipeline/demo_retrain.py) against the real registry.

A warehouse far shorter than a training needs (here: a fresh, empty one) makes it train on a
generated learning file and say why; with no champion yet it registers a small current model
first, so the cycle prints a real gate decision and precision/recall before and after.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamflow.lab.model_delivery import slots
from streamflow.lab.registry import MlflowRegistry
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings
from tests.warehouse.helpers import REPO, warehouse_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture
def model_name(mlflow_url: str) -> Iterator[str]:
    """A registered model of this test's own; deleted with its model files afterwards."""
    name = f"test-demo-{uuid.uuid4().hex[:10]}"
    yield name
    MlflowRegistry(mlflow_url).purge(name)


def test_demo_retrain_explains_its_input_and_prints_the_cycle(
    pg_settings: PostgresSettings,
    mlflow_url: str,
    model_name: str,
    tmp_path: Path,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
) -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/pipeline/demo_retrain.py", "--file", str(tmp_path / "l.parquet")],
        cwd=REPO,
        env=warehouse_env(
            pg_settings,
            STREAMFLOW_MLFLOW_URL=mlflow_url,
            STREAMFLOW_MLFLOW_MODEL_NAME=model_name,
            STREAMFLOW_TOPIC_FRAUD_MODELS=topics.fraud_models,
            STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS=kafka_settings.bootstrap_servers,
        ),
        capture_output=True,
        text=True,
        timeout=500,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "spans 0.0 days" in out
    assert "training on a generated learning file" in out
    assert "no champion yet: registered a 3-tree model" in out
    assert "retrain cycle: PROMOTED" in out
    assert "before (champion v1)" in out
    assert "after (candidate v2)" in out
    assert " * v2" in out
    # delivered to the running job: shadow first, then promoted, so the job's shadow is empty
    model_version = MlflowRegistry(mlflow_url).version(model_name, "2").tags["model_version"]
    assert f"current  {model_version} (registry v2)" in out
    assert "  shadow   -\n" in out
    held = slots(kafka_settings, topics.fraud_models)
    assert held[f"{model_name}/current"].registry_version == "2"
    registry = MlflowRegistry(mlflow_url)
    champion = registry.alias_version(model_name, "champion")
    assert champion is not None
    assert champion.version == "2"
