"""The supervised fraud model: gradient-boosted trees exported to arrays, scored without LightGBM.

A model file (``.npz``, numpy only, no pickles) holds every tree's nodes as flat arrays and a JSON
metadata string (version, feature names, Platt calibration, training window and metrics). At load
time the trees become one generated function of nested comparisons (the Isolation Forest path's
approach, docs/adr/0042); explanations walk the arrays and attribute each split's change in node
value to its feature (per-feature path contributions), so the words in an alert come from the same
trees that scored it. The generated source holds only numbers read out of numeric arrays.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.scorer.model import ModelFormatError
from streamflow.scorer.supervised_features import SUPERVISED_FEATURE_NAMES, describe

MAX_MODEL_BYTES = 8 << 20
"""A model file larger than this is refused (the control topic's bound too)."""


@dataclass(frozen=True)
class TreeArrays:
    """All trees as flat arrays; ``roots[t]`` is tree t's first node."""

    feature: npt.NDArray[np.int32]
    """Split feature per node, -1 at a leaf."""
    threshold: npt.NDArray[np.float64]
    """x <= threshold goes left."""
    left: npt.NDArray[np.int32]
    right: npt.NDArray[np.int32]
    value: npt.NDArray[np.float64]
    """Leaf value at a leaf; the node's mean output (LightGBM's internal_value) inside."""
    roots: npt.NDArray[np.int32]


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
        self._margin = _compile(arrays, len(SUPERVISED_FEATURE_NAMES))

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
                child = np.where(x <= a.threshold[node], a.left[node], a.right[node])
                node = np.where(inner, child, node)
            total += a.value[node]
        return total

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
        import io

        a = self.arrays
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            feature=a.feature,
            threshold=a.threshold,
            left=a.left,
            right=a.right,
            value=a.value,
            roots=a.roots,
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
        )
        return buffer.getvalue()

    def save(self, path: Path) -> None:
        """Write the model file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_bytes())


def _compile(arrays: TreeArrays, n_features: int) -> Callable[[Sequence[float]], float]:
    """Generate ``f(x) -> sum of leaf values`` as nested if/else per tree."""
    feature = arrays.feature.tolist()
    threshold = arrays.threshold.tolist()
    left, right, value = arrays.left.tolist(), arrays.right.tolist(), arrays.value.tolist()
    used = sorted({f for f in feature if f >= 0})
    lines = ["def _margin(x):"]
    lines += [f"    x{f} = x[{f}]" for f in used]
    lines.append("    s = 0.0")

    def emit(node: int, indent: str) -> None:
        f = int(feature[node])
        if f < 0:
            lines.append(f"{indent}s += {float(value[node])!r}")
            return
        lines.append(f"{indent}if x{f} <= {float(threshold[node])!r}:")
        emit(int(left[node]), indent + " ")
        lines.append(f"{indent}else:")
        emit(int(right[node]), indent + " ")

    for root in arrays.roots.tolist():
        emit(int(root), "    ")
    lines.append("    return s")
    namespace: dict[str, Any] = {}
    code = compile("\n".join(lines), "<gbdt>", "exec")
    exec(code, {"__builtins__": {}}, namespace)  # noqa: S102 - source holds only numbers
    fn: Callable[[Sequence[float]], float] = namespace["_margin"]
    del n_features
    return fn


def _validate(arrays: TreeArrays) -> None:
    n = len(arrays.feature)
    sizes = {len(arrays.threshold), len(arrays.left), len(arrays.right), len(arrays.value)}
    if sizes != {n} or len(arrays.roots) == 0:
        raise ModelFormatError("model arrays have inconsistent lengths")
    inner = arrays.feature >= 0
    if (arrays.feature >= len(SUPERVISED_FEATURE_NAMES)).any():
        raise ModelFormatError("model splits on an unknown feature")
    kids = np.concatenate([arrays.left[inner], arrays.right[inner], arrays.roots])
    if ((kids < 0) | (kids >= n)).any():
        raise ModelFormatError("model node index out of range")
    # Children come after their parent, so a walk always ends (no cycles).
    if (arrays.left[inner] <= np.flatnonzero(inner)).any() or (
        arrays.right[inner] <= np.flatnonzero(inner)
    ).any():
        raise ModelFormatError("model trees are not in parent-before-child order")
    if not (np.isfinite(arrays.threshold[inner]).all() and np.isfinite(arrays.value).all()):
        raise ModelFormatError("model holds non-finite numbers")


def model_from_bytes(data: bytes, source: str = "model") -> GbdtModel:
    """Parse a model file's bytes; raises :class:`ModelFormatError` if it is not usable."""
    import io

    if len(data) > MAX_MODEL_BYTES:
        raise ModelFormatError(f"{source}: {len(data)} bytes is over the {MAX_MODEL_BYTES} limit")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = TreeArrays(
                feature=npz["feature"].astype(np.int32),
                threshold=npz["threshold"].astype(np.float64),
                left=npz["left"].astype(np.int32),
                right=npz["right"].astype(np.int32),
                value=npz["value"].astype(np.float64),
                roots=npz["roots"].astype(np.int32),
            )
            meta = json.loads(str(npz["meta"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFormatError(f"{source}: not a model file ({exc})") from None
    if (
        not isinstance(meta, dict)
        or tuple(meta.get("feature_names", ())) != SUPERVISED_FEATURE_NAMES
    ):
        raise ModelFormatError(f"{source}: model was trained on other features")
    for key in ("version", "platt_a", "platt_b"):
        if key not in meta:
            raise ModelFormatError(f"{source}: model metadata lacks {key!r}")
    _validate(arrays)
    return GbdtModel(arrays, meta)


def read_gbdt(path: Path) -> GbdtModel:
    """Load a model file (see :func:`model_from_bytes`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"{path}: {exc}") from None
    return model_from_bytes(data, str(path))
