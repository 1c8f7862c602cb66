"""`make train ARGS="gbdt ..."` against the real MLflow registry started by the project's scripts.

One generated learning-scenario file (the generator's CLI, 40 days) is replayed once; candidates
of different strength are then trained on it and judged by the gate against the registry's
champion, re-scored on the same evaluation week. Every test uses a registered model of its own,
deleted afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from streamflow.events import encode
from streamflow.lab.gbdt_train import GbdtParams
from streamflow.lab.model_delivery import slots
from streamflow.lab.models_cli import main as models_main
from streamflow.lab.promotion import GateConfig
from streamflow.lab.registry import (
    MODEL_FILE,
    MlflowRegistry,
    RegistryError,
    RegistrySettings,
)
from streamflow.lab.train import main as train_main
from streamflow.lab.train_gbdt import Replayed, TrainOptions, replay, train_and_gate
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, TopicSettings
from streamflow.scoring.gbdt import model_from_bytes
from streamflow.scoring.model_release import load_release
from streamflow.scoring.rulesets import default_rules

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def learning_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 days, 40k transactions, 1,000 customers (so fraud starts early and spreads over the
    days; with the default 10,000 customers every fraud lands in the last four days)."""
    out = tmp_path_factory.mktemp("gbdt") / "learning.parquet"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "streamflow.generator",
            "--seed",
            "7",
            "--count",
            "40000",
            "--days",
            "40",
            "--customers",
            "1000",
            "--scenarios",
            "learning",
            "--labelled-out",
            str(out),
            "--no-seed-reference",
            "--quiet",
        ],
        check=True,
        timeout=300,
    )
    return out


@pytest.fixture
def model_name(mlflow_url: str) -> Iterator[str]:
    """A registered model of this test's own; deleted with its runs' model files afterwards."""
    name = f"test-gbdt-{uuid.uuid4().hex[:10]}"
    yield name
    MlflowRegistry(mlflow_url).purge(name)


@pytest.fixture(scope="module")
def replayed(learning_file: Path) -> Replayed:
    return replay(TrainOptions(input=learning_file), default_rules(), None)


def test_train_promotes_the_first_refuses_a_worse_and_promotes_a_better_model(
    replayed: Replayed, learning_file: Path, mlflow_url: str, model_name: str
) -> None:
    base = TrainOptions(
        input=learning_file,
        gate=GateConfig(margin=0.01, max_alerts_per_1000=40.0),
        registry=RegistrySettings(url=mlflow_url, model_name=model_name),
    )
    registry = MlflowRegistry(mlflow_url)

    # v1: a small model and no champion yet: promoted.
    first = train_and_gate(replace(base, params=GbdtParams(trees=5)), replayed)
    assert first["decision"] == "promoted", first
    assert first["champion"] is None
    assert first["reason"].startswith("no champion yet")
    assert first["candidate"]["registry_version"] == "1"
    v1 = registry.alias_version(model_name, "champion")
    assert v1 is not None
    assert v1.version == "1"
    assert v1.tags["model_version"] == first["candidate"]["model_version"]
    assert v1.tags["gate.decision"] == "promoted"
    assert "rejected" not in v1.tags
    # the artifact is the model file itself, loadable by the scorer
    stored = model_from_bytes(registry.get_artifact(f"{v1.source}/{MODEL_FILE}"))
    assert stored.version == first["candidate"]["model_version"]

    # v2: one tree, deliberately worse: refused, kept with the reason, champion unchanged.
    worse = train_and_gate(replace(base, params=GbdtParams(trees=1)), replayed)
    assert worse["decision"] == "rejected", worse
    assert worse["champion"]["registry_version"] == "1"
    champion_ap = worse["champion"]["metrics"]["average_precision"]
    # the champion is re-scored on the same week, so its AP is what v1 measured there
    assert champion_ap == pytest.approx(first["candidate"]["metrics"]["average_precision"])
    assert worse["candidate"]["metrics"]["average_precision"] < champion_ap
    v2 = registry.version(model_name, "2")
    assert v2.tags["rejected"] == worse["reason"]
    assert "does not beat champion v1's" in v2.tags["rejected"]
    assert v2.tags["gate.decision"] == "rejected"
    assert registry.alias_version(model_name, "champion").version == "1"  # type: ignore[union-attr]

    # v3: the full model: better by more than the margin, within the cap: promoted.
    better = train_and_gate(base, replayed)
    assert better["decision"] == "promoted", better
    assert "beats champion v1's" in better["reason"]
    gain = better["candidate"]["metrics"]["average_precision"] - champion_ap
    assert gain >= 0.01
    assert registry.alias_version(model_name, "champion").version == "3"  # type: ignore[union-attr]

    # v4: as good, but the alert cap is below what it raises: refused for flooding analysts.
    capped = train_and_gate(
        replace(base, params=GbdtParams(seed=8), gate=GateConfig(0.0, 5.0)), replayed
    )
    assert capped["decision"] == "rejected"
    assert "exceed the cap of 5" in capped["reason"]
    assert registry.alias_version(model_name, "champion").version == "3"  # type: ignore[union-attr]
    assert [v.version for v in registry.versions(model_name)] == ["1", "2", "3", "4"]


def test_make_train_gbdt_cli_prints_the_decision_as_json(
    learning_file: Path,
    mlflow_url: str,
    model_name: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code = train_main(
        [
            "gbdt",
            str(learning_file),
            "--registry",
            mlflow_url,
            "--model-name",
            model_name,
            "--no-anomaly-model",
            "--max-alerts-per-1000",
            "40",
            "--out",
            str(tmp_path / "candidate.npz"),
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["decision"] == "promoted"
    assert report["registry"] == {"url": mlflow_url, "model_name": model_name, "alias": "champion"}
    metrics = report["candidate"]["metrics"]
    for key in ("average_precision", "roc_auc", "card_precision_at_100", "recall"):
        assert 0.0 <= metrics[key] <= 1.0
    assert report["evaluation"]["eval_to"] > report["evaluation"]["eval_from"]
    assert (tmp_path / "candidate.npz").is_file()
    run = MlflowRegistry(mlflow_url)._json(  # the run holds params and metrics
        "GET", "/runs/get", query={"run_id": report["candidate"]["run_id"]}
    )["run"]["data"]
    params = {p["key"]: p["value"] for p in run["params"]}
    assert params["train_window"] == "28d"
    assert params["features"].split(",")[0]
    assert {m["key"] for m in run["metrics"]} >= {"average_precision", "alerts_per_1000"}


def test_unreachable_registry_is_a_clear_error(
    replayed: Replayed, learning_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}"
    options = TrainOptions(input=learning_file, registry=RegistrySettings(url=url))
    with pytest.raises(RegistryError, match=f"MLflow registry at {url} not reachable"):
        train_and_gate(options, replayed)
    # the CLI checks before its replay
    assert train_main(["gbdt", str(learning_file), "--registry", url]) == 3
    assert f"MLflow registry at {url} not reachable" in caplog.text


def test_publish_delivers_the_candidate_to_the_job_slots(
    learning_file: Path,
    mlflow_url: str,
    model_name: str,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--publish`: the candidate goes to the shadow slot, and to the current one if promoted;
    `make models` lists both slots and republishes a registered version by hand."""
    monkeypatch.setenv("STREAMFLOW_TOPIC_FRAUD_MODELS", topics.fraud_models)
    monkeypatch.setenv("STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
    monkeypatch.setenv("STREAMFLOW_MLFLOW_URL", mlflow_url)
    monkeypatch.setenv("STREAMFLOW_MLFLOW_MODEL_NAME", model_name)
    args = ["gbdt", str(learning_file), "--registry", mlflow_url, "--model-name", model_name]
    code = train_main([*args, "--no-anomaly-model", "--max-alerts-per-1000", "40", "--publish"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["decision"] == "promoted"
    assert report["published"] == ["shadow", "current"]
    held = slots(kafka_settings, topics.fraud_models)
    version = report["candidate"]["model_version"]
    for slot in ("shadow", "current"):
        release = held[f"{model_name}/{slot}"]
        assert release.version == version
        assert release.registry_version == "1"
        # what the job will load: the checked model file itself
        assert load_release(encode(release)).model.version == version

    # a worse candidate is shadowed only: the job keeps alerting with v1
    worse = train_main([*args, "--no-anomaly-model", "--trees", "1", "--publish"])
    assert worse == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["decision"], report["published"]) == ("rejected", ["shadow"])
    held = slots(kafka_settings, topics.fraud_models)
    assert held[f"{model_name}/current"].registry_version == "1"
    assert held[f"{model_name}/shadow"].registry_version == "2"

    assert models_main(["status"]) == 0
    status = capsys.readouterr().out
    assert f"current  {version} (registry v1" in status
    assert "<- champion" in status
    assert models_main(["publish", "2", "--slot", "current"]) == 0
    assert "to the current slot" in capsys.readouterr().out
    assert (
        slots(kafka_settings, topics.fraud_models)[f"{model_name}/current"].registry_version == "2"
    )
    assert MlflowRegistry(mlflow_url).alias_version(model_name, "champion").version == "2"  # type: ignore[union-attr]
    assert models_main(["publish", "99", "--slot", "shadow"]) == 1
