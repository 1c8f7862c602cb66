"""The anomaly model: an Isolation Forest exported to plain arrays and evaluated without sklearn.

A model file (``.npz``, numpy only, no pickles) holds every tree's nodes as flat arrays plus a JSON
metadata string (version, feature names, calibration). At load time the trees are turned into one
generated Python function of nested comparisons, so scoring one event needs no scikit-learn: it
is absent from the PyFlink environment, and its per-call overhead is made for batches, not for
one row at a time (figures in ADR 0042). The generated source is built only from numbers read
out of numeric arrays, never from text in the file.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from streamflow.scorer.features import FEATURE_NAMES

log = logging.getLogger(__name__)

_EULER_GAMMA = 0.5772156649015329

DEFAULT_MODEL_PATH = Path("models/anomaly-iforest.npz")
"""Where ``make train`` writes the model and the backtest looks for it (repo-relative)."""


class ModelFormatError(ValueError):
    """A model file that exists but cannot be used (wrong format, features or arrays)."""


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


@dataclass(frozen=True)
class ForestArrays:
    """All trees of a forest as flat arrays; ``roots[t]`` is tree t's first node."""

    feature: npt.NDArray[np.int32]
    """Split feature per node, -1 at a leaf."""
    threshold: npt.NDArray[np.float64]
    left: npt.NDArray[np.int32]
    """Absolute index of the left child (x <= threshold)."""
    right: npt.NDArray[np.int32]
    value: npt.NDArray[np.float64]
    """At a leaf: its depth plus the average path length of the samples left in it."""
    roots: npt.NDArray[np.int32]


class IsolationForestModel:
    """An exported Isolation Forest with a calibration of its raw score to [0, 1]."""

    def __init__(self, arrays: ForestArrays, meta: dict[str, Any]) -> None:
        self.arrays = arrays
        self.meta = meta
        self._version = str(meta["version"])[:64]
        self._norm = average_path_length(int(meta["max_samples"])) * len(arrays.roots)
        self._lo = float(meta["calibration_low"])
        self._span = max(float(meta["calibration_high"]) - self._lo, 1e-9)
        self._path_sum = _compile(arrays, len(FEATURE_NAMES))

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
        a = self.arrays
        total = np.zeros(len(matrix))
        rows = np.arange(len(matrix))
        for root in a.roots:
            node = np.full(len(matrix), root, dtype=np.int64)
            while True:
                feat = a.feature[node]
                inner = feat >= 0
                if not inner.any():
                    break
                x = matrix[rows, np.where(inner, feat, 0)]
                go_left = x <= a.threshold[node]
                child = np.where(go_left, a.left[node], a.right[node])
                node = np.where(inner, child, node)
            total += a.value[node]
        return np.asarray(2.0 ** (-total / self._norm), dtype=np.float64)

    def save(self, path: Path) -> None:
        """Write the model file (``.npz``, compressed)."""
        a = self.arrays
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                feature=a.feature,
                threshold=a.threshold,
                left=a.left,
                right=a.right,
                value=a.value,
                roots=a.roots,
                meta=np.array(json.dumps(self.meta, sort_keys=True)),
            )


def _compile(arrays: ForestArrays, n_features: int) -> Callable[[Sequence[float]], float]:
    """Generate and compile ``f(x) -> sum of path lengths`` as nested if/else per tree."""
    feature = arrays.feature.tolist()
    threshold = arrays.threshold.tolist()
    left, right, value = arrays.left.tolist(), arrays.right.tolist(), arrays.value.tolist()
    names = ", ".join(f"x{i}" for i in range(n_features))
    lines = ["def _path_sum(x):", f"    {names}, = x", "    s = 0.0"]

    def emit(node: int, indent: str) -> None:
        f = int(feature[node])
        if f < 0:
            lines.append(f"{indent}s += {float(value[node])!r}")
            return
        lines.append(f"{indent}if x{f} <= {float(threshold[node])!r}:")
        emit(int(left[node]), indent + "    ")
        lines.append(f"{indent}else:")
        emit(int(right[node]), indent + "    ")

    for root in arrays.roots.tolist():
        emit(int(root), "    ")
    lines.append("    return s")
    namespace: dict[str, Any] = {}
    code = compile("\n".join(lines), "<isolation-forest>", "exec")
    exec(code, {"__builtins__": {}}, namespace)  # noqa: S102 - source holds only numbers
    fn: Callable[[Sequence[float]], float] = namespace["_path_sum"]
    return fn


def _validate(arrays: ForestArrays) -> None:
    n = len(arrays.feature)
    sizes = {len(arrays.threshold), len(arrays.left), len(arrays.right), len(arrays.value)}
    if sizes != {n} or len(arrays.roots) == 0:
        raise ModelFormatError("model arrays have inconsistent lengths")
    inner = arrays.feature >= 0
    if (arrays.feature >= len(FEATURE_NAMES)).any():
        raise ModelFormatError("model splits on an unknown feature")
    kids = np.concatenate([arrays.left[inner], arrays.right[inner], arrays.roots])
    if ((kids < 0) | (kids >= n)).any():
        raise ModelFormatError("model node index out of range")
    if not (np.isfinite(arrays.threshold[inner]).all() and np.isfinite(arrays.value).all()):
        raise ModelFormatError("model holds non-finite numbers")


def read_model(path: Path) -> IsolationForestModel:
    """Load a model file; raises :class:`ModelFormatError` if it is not a usable model."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = ForestArrays(
                feature=data["feature"].astype(np.int32),
                threshold=data["threshold"].astype(np.float64),
                left=data["left"].astype(np.int32),
                right=data["right"].astype(np.int32),
                value=data["value"].astype(np.float64),
                roots=data["roots"].astype(np.int32),
            )
            meta = json.loads(str(data["meta"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ModelFormatError(f"{path}: not a model file ({exc})") from None
    if not isinstance(meta, dict) or tuple(meta.get("feature_names", ())) != FEATURE_NAMES:
        raise ModelFormatError(f"{path}: model was trained on other features")
    for key in ("version", "max_samples", "calibration_low", "calibration_high"):
        if key not in meta:
            raise ModelFormatError(f"{path}: model metadata lacks {key!r}")
    _validate(arrays)
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
