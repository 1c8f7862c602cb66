"""The anomaly model: an Isolation Forest exported to plain arrays and evaluated without sklearn.

The trees use the flat layout, file format and generated scoring function of
:mod:`streamflow.scoring.trees`, so scoring one event needs no scikit-learn: it is absent from the
PyFlink environment, and its per-call overhead is made for batches, not for one row at a time
(figures in ADR 0042). The metadata holds the version, the feature names and the calibration of
the raw score to [0, 1].
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from streamflow.scoring.features import FEATURE_NAMES
from streamflow.scoring.trees import (
    ModelFormatError,
    TreeArrays,
    compile_sum,
    from_npz,
    leaf_sums,
    require,
    to_npz,
    validate,
)

__all__ = [
    "DEFAULT_MODEL_PATH",
    "AnomalyModel",
    "ForestArrays",
    "IsolationForestModel",
    "ModelFormatError",
    "average_path_length",
    "load_model",
    "read_model",
]

log = logging.getLogger(__name__)

_EULER_GAMMA = 0.5772156649015329

DEFAULT_MODEL_PATH = Path("models/anomaly-iforest.npz")
"""Where ``make train`` writes the model and the backtest looks for it (repo-relative)."""

ForestArrays = TreeArrays
"""An Isolation Forest's nodes; at a leaf, ``value`` is its depth plus the average path length of
the samples left in it."""


@runtime_checkable
class AnomalyModel(Protocol):
    """Anything that scores a feature vector in [0, 1] (1 = most anomalous) and has a version."""

    @property
    def version(self) -> str:
        """Version string recorded on every scored transaction and alert."""
        ...

    def score(self, features: Sequence[float]) -> float:
        """Calibrated anomaly score in [0, 1]."""
        ...


def average_path_length(n: int) -> float:
    """Expected path length of an unsuccessful BST search among ``n`` points (Liu et al.)."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + _EULER_GAMMA) - 2.0 * (n - 1.0) / n


class IsolationForestModel:
    """An exported Isolation Forest with a calibration of its raw score to [0, 1]."""

    def __init__(self, arrays: TreeArrays, meta: dict[str, Any]) -> None:
        self.arrays = arrays
        self.meta = meta
        self._version = str(meta["version"])[:64]
        self._norm = average_path_length(int(meta["max_samples"])) * len(arrays.roots)
        self._lo = float(meta["calibration_low"])
        self._span = max(float(meta["calibration_high"]) - self._lo, 1e-9)
        self._path_sum = compile_sum(arrays, "isolation-forest")

    @property
    def version(self) -> str:
        return self._version

    def raw_score(self, features: Sequence[float]) -> float:
        """The forest's score ``2 ** (-mean path / c(max_samples))`` (sklearn's, negated)."""
        return float(2.0 ** (-self._path_sum(features) / self._norm))

    def score(self, features: Sequence[float]) -> float:
        raw = float(2.0 ** (-self._path_sum(features) / self._norm))
        return min(1.0, max(0.0, (raw - self._lo) / self._span))

    def raw_scores(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Vectorised :meth:`raw_score` over rows (used by training for calibration)."""
        total = leaf_sums(self.arrays, matrix)
        return np.asarray(2.0 ** (-total / self._norm), dtype=np.float64)

    def save(self, path: Path) -> None:
        """Write the model file (``.npz``, compressed)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_npz(self.arrays, self.meta))


def read_model(path: Path) -> IsolationForestModel:
    """Load a model file; raises :class:`ModelFormatError` if it is not a usable model."""
    arrays, meta = from_npz(path, str(path))
    keys = ("version", "max_samples", "calibration_low", "calibration_high")
    require(meta, keys, FEATURE_NAMES, str(path))
    validate(arrays, len(FEATURE_NAMES))
    return IsolationForestModel(arrays, meta)


def load_model(path: Path | None) -> AnomalyModel | None:
    """The model at ``path``; None (rules only, with a warning) when no path or no file."""
    if path is None:
        log.warning("no anomaly model configured: scoring with rules only")
        return None
    if not path.is_file():
        log.warning("anomaly model %s not found: scoring with rules only", path)
        return None
    model = read_model(path)
    log.info("loaded anomaly model %s (%d trees)", model.version, len(model.arrays.roots))
    return model
