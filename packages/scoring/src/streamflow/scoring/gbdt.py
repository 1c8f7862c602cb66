"""The supervised fraud model: gradient-boosted trees exported to arrays, scored without LightGBM.

The trees use the flat layout, file format and generated scoring function of
:mod:`streamflow.scoring.trees`; the metadata holds the version, the feature names, the Platt
calibration, the training window and metrics. Explanations walk the arrays and attribute each
split's change in node value to its feature (per-feature path contributions), so the words in an
alert come from the same trees that scored it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES, describe
from streamflow.scoring.trees import (
    MAX_MODEL_BYTES,
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
    "MAX_MODEL_BYTES",
    "STARTER_MODEL_PATH",
    "GbdtModel",
    "Reason",
    "TreeArrays",
    "bind",
    "load_starter",
    "model_from_bytes",
    "read_gbdt",
    "stump",
]


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature's share of a score, in words."""

    feature: str
    contribution: float
    """Its share of the raw margin (log-odds)."""
    text: str


class GbdtModel:
    """Boosted trees plus a Platt calibration ``p = 1 / (1 + exp(-(a * margin + b)))``."""

    def __init__(self, arrays: TreeArrays, meta: dict[str, Any]) -> None:
        self.arrays = arrays
        self.meta = meta
        self._version = str(meta["version"])[:64]
        self._a = float(meta["platt_a"])
        self._b = float(meta["platt_b"])
        self._margin = compile_sum(arrays, "gbdt")

    @property
    def version(self) -> str:
        """Version string recorded on every scored transaction and alert."""
        return self._version

    def margin(self, features: Sequence[float]) -> float:
        """The trees' raw output (log-odds before calibration)."""
        return self._margin(features)

    def score(self, features: Sequence[float]) -> float:
        """Calibrated fraud probability in [0, 1]."""
        z = self._a * self._margin(features) + self._b
        return 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else 0.0

    def margins(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Vectorised :meth:`margin` over rows (training and evaluation)."""
        return leaf_sums(self.arrays, matrix)

    def scores(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Vectorised :meth:`score`."""
        z = self._a * self.margins(matrix) + self._b
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -700.0, 700.0))), dtype=np.float64)

    def contributions(self, features: Sequence[float]) -> list[float]:
        """Per-feature path contributions to the margin (they sum to margin minus the bias)."""
        a = self.arrays
        feature, threshold, left, right, value = a.feature, a.threshold, a.left, a.right, a.value
        out = [0.0] * len(SUPERVISED_FEATURE_NAMES)
        for root in a.roots.tolist():
            node = root
            while feature[node] >= 0:
                f = int(feature[node])
                child = int(left[node] if features[f] <= threshold[node] else right[node])
                out[f] += float(value[child] - value[node])
                node = child
        return out

    def reasons(self, features: Sequence[float], top: int = 3) -> list[Reason]:
        """The features that pushed the score up most, with their sentences."""
        shares = self.contributions(features)
        order = sorted(range(len(shares)), key=lambda i: -shares[i])[:top]
        return [
            Reason(
                SUPERVISED_FEATURE_NAMES[i],
                shares[i],
                describe(SUPERVISED_FEATURE_NAMES[i], features[i]),
            )
            for i in order
            if shares[i] > 0.0
        ]

    def to_bytes(self) -> bytes:
        """The model file's bytes (``.npz``, compressed)."""
        return to_npz(self.arrays, self.meta)

    def save(self, path: Path) -> None:
        """Write the model file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_bytes())


def stump(version: str, feature: str, threshold: float, margin: float = 4.0) -> GbdtModel:
    """A one-split model: probability ~``sigmoid(margin)`` above ``threshold``, the mirror below.

    The smallest valid model of the scorer's features: demos and tests publish it to show
    delivery, shadow scoring and promotion without a training run.
    """
    index = SUPERVISED_FEATURE_NAMES.index(feature)
    arrays = TreeArrays(
        feature=np.array([index, -1, -1], dtype=np.int32),
        threshold=np.array([threshold, 0.0, 0.0]),
        left=np.array([1, -1, -1], dtype=np.int32),
        right=np.array([2, -1, -1], dtype=np.int32),
        value=np.array([0.0, -margin, margin]),
        roots=np.array([0], dtype=np.int32),
    )
    meta = {
        "version": version,
        "platt_a": 1.0,
        "platt_b": 0.0,
        "feature_names": list(SUPERVISED_FEATURE_NAMES),
    }
    return GbdtModel(arrays, meta)


def bind(arrays: TreeArrays, meta: dict[str, Any], source: str) -> GbdtModel:
    """A model on the scorer's feature vector; raises :class:`ModelFormatError` if unusable.

    A model may use any subset of :data:`SUPERVISED_FEATURE_NAMES` in any order (one trained
    before features were added keeps working): its split ids are mapped to the scorer's by name,
    and the bound model records the scorer's names. A name the scorer does not compute refuses it.
    """
    names = meta.get("feature_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ModelFormatError(f"{source}: model metadata lacks its feature names")
    index = {name: i for i, name in enumerate(SUPERVISED_FEATURE_NAMES)}
    unknown = [n for n in names if n not in index]
    if unknown or len(set(names)) != len(names):
        raise ModelFormatError(f"{source}: model was trained on other features ({unknown[:3]})")
    require(meta, ("version", "platt_a", "platt_b"), names, source)
    validate(arrays, len(names))
    if names == list(SUPERVISED_FEATURE_NAMES):
        return GbdtModel(arrays, meta)  # already the scorer's order
    mapping = np.array([index[n] for n in names], dtype=np.int32)
    inner = arrays.feature >= 0
    feature = np.where(inner, mapping[np.where(inner, arrays.feature, 0)], arrays.feature)
    bound = dataclasses.replace(arrays, feature=feature.astype(np.int32))
    return GbdtModel(bound, dict(meta, feature_names=list(SUPERVISED_FEATURE_NAMES)))


def model_from_bytes(data: bytes, source: str = "model") -> GbdtModel:
    """Parse a model file's bytes; raises :class:`ModelFormatError` if it is not usable."""
    arrays, meta = from_npz(data, source)
    return bind(arrays, meta, source)


STARTER_MODEL_PATH = Path("models/fraud-gbdt.npz")
"""The committed starter model (ADR 0063): shipped deployments score with it until the learning
loop delivers a ``current`` release over ``fraud.models``."""


def load_starter(path: Path | None) -> GbdtModel | None:
    """The starter model at ``path``; None (no supervised model until a release) when no path,
    with a warning when the file is missing."""
    if path is None:
        return None
    if not path.is_file():
        log.warning("starter model %s not found: no supervised model until a release", path)
        return None
    model = read_gbdt(path)
    log.info(
        "starter model %s (%d trees) until a release arrives",
        model.version,
        len(model.arrays.roots),
    )
    return model


def read_gbdt(path: Path) -> GbdtModel:
    """Load a model file (see :func:`model_from_bytes`)."""
    arrays, meta = from_npz(path, str(path))
    return bind(arrays, meta, str(path))
