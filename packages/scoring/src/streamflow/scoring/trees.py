"""Tree ensembles as flat arrays: the one layout both models use (the Isolation Forest and the
supervised boosted trees).

A model file is an ``.npz`` (numpy only, no pickles) of the node arrays plus a JSON metadata
string. Per event the trees run as one generated function of nested comparisons (a call into a
library for one row costs far more than the comparisons themselves, docs/adr/0042), or, where
numba is installed (the scorer's environment), as numba's compiled walk of the same trees
(docs/adr/0124); for many rows a vectorised walk gives the same sums. The generated source holds
only numbers read out of numeric arrays, never text from the file.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MAX_MODEL_BYTES = 8 << 20
"""A model file larger than this is refused (the model control topic's bound too)."""


class ModelFormatError(ValueError):
    """A model file that exists but cannot be used (wrong format, features or arrays)."""


@dataclass(frozen=True)
class TreeArrays:
    """All trees as flat arrays; ``roots[t]`` is tree t's first node, children after parents."""

    feature: npt.NDArray[np.int32]
    """Split feature per node, -1 at a leaf."""
    threshold: npt.NDArray[np.float64]
    """``x <= threshold`` goes left."""
    left: npt.NDArray[np.int32]
    right: npt.NDArray[np.int32]
    value: npt.NDArray[np.float64]
    """What a leaf adds to the sum (inner nodes: the model's own meaning, or 0)."""
    roots: npt.NDArray[np.int32]


def walk_packed(
    x: npt.NDArray[np.float64],
    roots: npt.NDArray[np.int32],
    links: npt.NDArray[np.int32],
    numbers: npt.NDArray[np.float64],
) -> float:
    """The sum over trees of the leaf ``x`` reaches, on the packed layout of :func:`packed`.

    Node ``n``'s split feature, left and right child are ``links[3n:3n+3]``, its threshold and
    value ``numbers[2n:2n+2]``. Plain Python here; :func:`compile_sum` runs it compiled by numba
    where numba is installed (the scorer's environment, docs/adr/0124). Trees are summed in root
    order, as the generated function does, so both give the same float.
    """
    total = 0.0
    for t in range(roots.shape[0]):
        node = roots[t]
        feature = links[3 * node]
        while feature >= 0:
            node = links[3 * node + (1 if x[feature] <= numbers[2 * node] else 2)]
            feature = links[3 * node]
        total += numbers[2 * node + 1]
    return float(total)


_Ints = npt.NDArray[np.int32]
_Floats = npt.NDArray[np.float64]


def packed(arrays: TreeArrays) -> tuple[_Ints, _Ints, _Floats]:
    """``(roots, links, numbers)``: the trees in two interleaved arrays for :func:`walk_packed`
    (three array arguments instead of six: numba checks each argument on every call)."""
    links = np.ascontiguousarray(
        np.stack([arrays.feature, arrays.left, arrays.right], axis=1).ravel(), dtype=np.int32
    )
    numbers = np.ascontiguousarray(
        np.stack([arrays.threshold, arrays.value], axis=1).ravel(), dtype=np.float64
    )
    return np.ascontiguousarray(arrays.roots, dtype=np.int32), links, numbers


_Walk = Callable[[_Floats, _Ints, _Ints, _Floats], float]


@functools.cache
def native_walk() -> _Walk | None:
    """:func:`walk_packed` compiled by numba, or None where numba is not installed.

    Compiled once per process, on first use (~1 s); no on-disk cache (the image's venv is
    read-only to the job).
    """
    try:
        import numba
    except ImportError:
        return None
    walk: _Walk = numba.njit(nogil=True, cache=False)(walk_packed)
    return walk


def compile_sum(arrays: TreeArrays, name: str) -> Callable[[Sequence[float]], float]:
    """``f(x) -> sum over trees of the leaf x reaches``: numba's walk of the packed trees where
    numba is installed, else a generated function of nested if/else (same sums, same floats)."""
    walk = native_walk()
    if walk is not None:
        roots, links, numbers = packed(arrays)
        as_array = np.asarray
        f64 = np.float64
        # numba compiles on the first call: here, when the model loads, not on an event
        walk(np.zeros(int(arrays.feature.max()) + 1, dtype=f64), roots, links, numbers)

        def native_sum(x: Sequence[float]) -> float:
            return walk(as_array(x, dtype=f64), roots, links, numbers)

        return native_sum
    return generated_sum(arrays, name)


def generated_sum(arrays: TreeArrays, name: str) -> Callable[[Sequence[float]], float]:
    """Generate ``f(x) -> sum over trees of the leaf x reaches`` as nested if/else."""
    feature = arrays.feature.tolist()
    threshold = arrays.threshold.tolist()
    left, right, value = arrays.left.tolist(), arrays.right.tolist(), arrays.value.tolist()
    used = sorted({f for f in feature if f >= 0})
    lines = ["def _sum(x):", *(f"    x{f} = x[{f}]" for f in used), "    s = 0.0"]

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
    code = compile("\n".join(lines), f"<{name}>", "exec")
    exec(code, {"__builtins__": {}}, namespace)  # noqa: S102 - source holds only numbers
    fn: Callable[[Sequence[float]], float] = namespace["_sum"]
    return fn


def leaf_sums(arrays: TreeArrays, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Vectorised :func:`compile_sum` over the rows of ``matrix``."""
    a = arrays
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


def validate(arrays: TreeArrays, n_features: int) -> None:
    """Refuse arrays a walk could not finish on: lengths, feature ids, child order, non-finite."""
    n = len(arrays.feature)
    sizes = {len(arrays.threshold), len(arrays.left), len(arrays.right), len(arrays.value)}
    if sizes != {n} or len(arrays.roots) == 0:
        raise ModelFormatError("model arrays have inconsistent lengths")
    if (arrays.feature >= n_features).any():
        raise ModelFormatError("model splits on an unknown feature")
    inner = arrays.feature >= 0
    kids = np.concatenate([arrays.left[inner], arrays.right[inner], arrays.roots])
    if ((kids < 0) | (kids >= n)).any():
        raise ModelFormatError("model node index out of range")
    parents = np.flatnonzero(inner)
    if (arrays.left[inner] <= parents).any() or (arrays.right[inner] <= parents).any():
        raise ModelFormatError("model trees are not in parent-before-child order")
    if not (np.isfinite(arrays.threshold[inner]).all() and np.isfinite(arrays.value).all()):
        raise ModelFormatError("model holds non-finite numbers")


def to_npz(arrays: TreeArrays, meta: dict[str, Any]) -> bytes:
    """The model file's bytes (compressed ``.npz``)."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        feature=arrays.feature,
        threshold=arrays.threshold,
        left=arrays.left,
        right=arrays.right,
        value=arrays.value,
        roots=arrays.roots,
        meta=np.array(json.dumps(meta, sort_keys=True)),
    )
    return buffer.getvalue()


def from_npz(data: bytes | Path, source: str) -> tuple[TreeArrays, dict[str, Any]]:
    """Parse a model file (bytes or a path); the metadata must be a JSON object."""
    if isinstance(data, Path):
        try:
            data = data.read_bytes()
        except OSError as exc:
            raise ModelFormatError(f"{source}: {exc}") from None
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
    if not isinstance(meta, dict):
        raise ModelFormatError(f"{source}: model metadata is not an object")
    return arrays, meta


def require(meta: dict[str, Any], keys: Sequence[str], names: Sequence[str], source: str) -> None:
    """Refuse metadata for other features or without the keys a model needs."""
    if tuple(meta.get("feature_names", ())) != tuple(names):
        raise ModelFormatError(f"{source}: model was trained on other features")
    for key in keys:
        if key not in meta:
            raise ModelFormatError(f"{source}: model metadata lacks {key!r}")
