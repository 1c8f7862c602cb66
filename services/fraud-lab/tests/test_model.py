"""The exported Isolation Forest: equals scikit-learn, round-trips, refuses bad files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from streamflow.lab.train import export_forest, fit
from streamflow.scoring.features import FEATURE_NAMES
from streamflow.scoring.model import IsolationForestModel, ModelFormatError, load_model, read_model


@pytest.fixture(scope="module")
def matrix() -> np.ndarray:
    rng = np.random.default_rng(3)
    # float32-representable values, as sklearn compares in float32
    return rng.normal(size=(600, len(FEATURE_NAMES))).astype(np.float32).astype(np.float64)


@pytest.fixture(scope="module")
def model(matrix: np.ndarray) -> IsolationForestModel:
    return fit(matrix, trees=16, max_samples=128, seed=1, calibration=(0.5, 0.99), source="t")


def test_exported_trees_match_sklearn(matrix: np.ndarray) -> None:
    forest = IsolationForest(n_estimators=8, max_samples=64, random_state=0).fit(matrix)
    meta = {
        "version": "t",
        "max_samples": forest.max_samples_,
        "calibration_low": 0.0,
        "calibration_high": 1.0,
    }
    exported = IsolationForestModel(export_forest(forest), meta)
    expected = -forest.score_samples(matrix[:50])
    got = [exported.raw_score(row.tolist()) for row in matrix[:50]]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    np.testing.assert_allclose(exported.raw_scores(matrix[:50]), expected, rtol=1e-9)


def test_calibrated_score_range(model: IsolationForestModel, matrix: np.ndarray) -> None:
    scores = [model.score(row.tolist()) for row in matrix[:100]]
    assert min(scores) == 0.0
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert model.score([50.0] * len(FEATURE_NAMES)) > 0.5


def test_file_round_trip(model: IsolationForestModel, tmp_path: Path, matrix: np.ndarray) -> None:
    path = tmp_path / "m" / "model.npz"
    model.save(path)
    loaded = load_model(path)
    assert loaded is not None
    assert loaded.version == model.version
    row = matrix[0].tolist()
    assert loaded.score(row) == model.score(row)


def test_missing_model_means_rules_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_model(None) is None
        assert load_model(tmp_path / "absent.npz") is None
    assert "rules only" in caplog.text


def test_corrupt_or_foreign_files_raise(model: IsolationForestModel, tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFormatError):
        read_model(junk)
    other = tmp_path / "other.npz"
    a = model.arrays
    meta = dict(model.meta, feature_names=["x"])
    np.savez(
        other,
        feature=a.feature,
        threshold=a.threshold,
        left=a.left,
        right=a.right,
        value=a.value,
        roots=a.roots,
        meta=np.array(json.dumps(meta)),
    )
    with pytest.raises(ModelFormatError, match="other features"):
        read_model(other)
    broken = tmp_path / "broken.npz"
    np.savez(
        broken,
        feature=a.feature,
        threshold=a.threshold,
        left=a.left + 10**6,
        right=a.right,
        value=a.value,
        roots=a.roots,
        meta=np.array(json.dumps(model.meta)),
    )
    with pytest.raises(ModelFormatError, match="out of range"):
        read_model(broken)
