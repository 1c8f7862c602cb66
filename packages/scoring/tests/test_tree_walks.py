"""Both per-event tree walks give the generated function's sums, to the last bit (ADR 0124)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from streamflow.scoring.gbdt import read_gbdt
from streamflow.scoring.model import read_model
from streamflow.scoring.trees import (
    TreeArrays,
    compile_sum,
    generated_sum,
    native_walk,
    packed,
    walk_packed,
)

DATA = Path(__file__).parent / "data"


def _models() -> list[tuple[str, TreeArrays]]:
    return [
        ("gbdt", read_gbdt(DATA / "golden-gbdt.npz").arrays),
        ("iforest", read_model(DATA / "golden-iforest.npz").arrays),
    ]


def _vectors(arrays: TreeArrays, count: int) -> list[list[float]]:
    """Values across the thresholds' range, exact thresholds and NaN (goes right, as ``<=``)."""
    rng = random.Random(5)
    width = int(arrays.feature.max()) + 1
    thresholds = arrays.threshold[arrays.feature >= 0].tolist()
    vectors = []
    for _ in range(count):
        vector = []
        for _ in range(width):
            pick = rng.random()
            if pick < 0.1:
                vector.append(math.nan)
            elif pick < 0.4:
                vector.append(rng.choice(thresholds))
            else:
                vector.append(rng.uniform(-1.0, 1.0) * 10 ** rng.randint(0, 4))
        vectors.append(vector)
    return vectors


@pytest.mark.parametrize(("name", "arrays"), _models(), ids=["gbdt", "iforest"])
def test_the_packed_walk_sums_as_the_generated_function(name: str, arrays: TreeArrays) -> None:
    generated = generated_sum(arrays, name)
    roots, links, numbers = packed(arrays)
    for vector in _vectors(arrays, 300):
        x = np.asarray(vector, dtype=np.float64)
        assert walk_packed(x, roots, links, numbers) == generated(vector)


@pytest.mark.parametrize(("name", "arrays"), _models(), ids=["gbdt", "iforest"])
def test_compile_sum_matches_the_generated_function(name: str, arrays: TreeArrays) -> None:
    """Whichever walk this environment runs (numba's in the scorer's, the generated one here)."""
    generated = generated_sum(arrays, name)
    walk = compile_sum(arrays, name)
    for vector in _vectors(arrays, 1_000):
        assert walk(vector) == generated(vector)


def test_numba_is_used_exactly_where_it_is_installed() -> None:
    try:
        import numba  # noqa: F401 - the scorer's environment only
    except ImportError:
        assert native_walk() is None
    else:
        assert native_walk() is not None
