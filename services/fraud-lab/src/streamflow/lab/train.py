"""Train the anomaly model: an Isolation Forest on the feature vectors of a labelled file.

The file is replayed in event-time order through the same state updates as the scorer, so each
feature vector is exactly what the scorer would compute. A bounded reservoir sample (legit rows
only by default: the model learns what normal looks like) is fitted with scikit-learn, and the
fitted trees are exported to the numpy-only model file the job and the backtest load. The score
is calibrated so the ``--calibration-low`` quantile of training rows maps to 0 and the
``--calibration-high`` quantile to 1. Usage::

    python -m streamflow.lab.train [iforest] INPUT [--out models/anomaly-iforest.npz] [--trees N]
    python -m streamflow.lab.train gbdt INPUT ...   (the supervised model: train_gbdt.py)
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.lab.labelled_file import LabelledRow, read_labelled
from streamflow.scoring.customer_state import CustomerState
from streamflow.scoring.features import FEATURE_NAMES, feature_vector
from streamflow.scoring.model import (
    DEFAULT_MODEL_PATH,
    ForestArrays,
    IsolationForestModel,
    average_path_length,
)
from streamflow.scoring.state_config import CUSTOMER_STATE_TTL

log = logging.getLogger("streamflow.lab.train")


def sample_features(
    rows: Iterable[LabelledRow], size: int, seed: int, legit_only: bool
) -> tuple[npt.NDArray[np.float64], int]:
    """A reservoir sample of feature vectors (bounded memory) and the number of rows seen."""
    rng = random.Random(seed)
    states: dict[str, CustomerState] = {}
    ttl = CUSTOMER_STATE_TTL.total_seconds()
    reservoir: list[list[float]] = []
    eligible = 0
    seen = 0
    for row in rows:
        view = row.view
        state = states.get(view.customer_id)
        if state is not None and view.epoch - state.last_time > ttl:
            state = None
        if not (legit_only and row.label == 1):
            vector = feature_vector(state, view)
            eligible += 1
            if len(reservoir) < size:
                reservoir.append(vector)
            else:
                slot = rng.randrange(eligible)
                if slot < size:
                    reservoir[slot] = vector
        if state is None:
            state = CustomerState()
            states[view.customer_id] = state
        state.update(view, baseline=row.label == 0)
        seen += 1
    return np.asarray(reservoir, dtype=np.float64).reshape(-1, len(FEATURE_NAMES)), seen


def export_forest(forest: Any) -> ForestArrays:
    """Flatten a fitted ``sklearn.ensemble.IsolationForest`` into :class:`ForestArrays`."""
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    roots: list[int] = []
    for estimator, columns in zip(forest.estimators_, forest.estimators_features_, strict=True):
        tree = estimator.tree_
        base = len(feature)
        roots.append(base)
        depth = [0] * tree.node_count
        for node in range(tree.node_count):
            child_l, child_r = int(tree.children_left[node]), int(tree.children_right[node])
            if child_l < 0:
                feature.append(-1)
                threshold.append(0.0)
                left.append(base + node)
                right.append(base + node)
                leaf_n = int(tree.n_node_samples[node])
                value.append(depth[node] + average_path_length(leaf_n))
            else:
                depth[child_l] = depth[child_r] = depth[node] + 1
                feature.append(int(columns[int(tree.feature[node])]))
                threshold.append(float(tree.threshold[node]))
                left.append(base + child_l)
                right.append(base + child_r)
                value.append(0.0)
    return ForestArrays(
        feature=np.asarray(feature, dtype=np.int32),
        threshold=np.asarray(threshold, dtype=np.float64),
        left=np.asarray(left, dtype=np.int32),
        right=np.asarray(right, dtype=np.int32),
        value=np.asarray(value, dtype=np.float64),
        roots=np.asarray(roots, dtype=np.int32),
    )


def fit(
    matrix: npt.NDArray[np.float64],
    *,
    trees: int,
    max_samples: int,
    seed: int,
    calibration: tuple[float, float],
    source: str,
) -> IsolationForestModel:
    """Fit, export and calibrate a model on ``matrix`` (rows = feature vectors)."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(
        n_estimators=trees, max_samples=min(max_samples, len(matrix)), random_state=seed
    )
    forest.fit(matrix)
    arrays = export_forest(forest)
    digest = hashlib.sha256()
    for part in (arrays.feature, arrays.threshold, arrays.left, arrays.value):
        digest.update(part.tobytes())
    meta: dict[str, Any] = {
        "version": f"iforest-{datetime.now(UTC):%Y%m%d}-{digest.hexdigest()[:8]}",
        "feature_names": list(FEATURE_NAMES),
        "max_samples": int(forest.max_samples_),
        "trees": trees,
        "seed": seed,
        "training_rows": len(matrix),
        "source": source,
        "trained_at": datetime.now(UTC).isoformat(),
        "calibration_low": 0.0,
        "calibration_high": 1.0,
    }
    raw = IsolationForestModel(arrays, meta).raw_scores(matrix)
    low, high = np.quantile(raw, calibration)
    meta["calibration_low"] = float(low)
    meta["calibration_high"] = float(max(high, low + 1e-6))
    meta["calibration_quantiles"] = list(calibration)
    return IsolationForestModel(arrays, meta)


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["gbdt"]:
        from streamflow.lab.train_gbdt import main as train_gbdt

        return train_gbdt(args_in[1:])
    if args_in[:1] == ["iforest"]:  # without a subcommand: the Isolation Forest, as before
        args_in = args_in[1:]
    parser = argparse.ArgumentParser(
        prog="make train ARGS='[iforest] ...'", description=__doc__.split("\n")[0]
    )
    parser.add_argument("input", type=Path, help="labelled CSV/Parquet file (generator output)")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH, help="model file")
    parser.add_argument("--trees", type=int, default=64)
    parser.add_argument("--max-samples", type=int, default=256)
    parser.add_argument("--sample", type=int, default=200_000, help="rows kept for fitting")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--include-fraud", action="store_true", help="fit on fraud rows too")
    parser.add_argument("--calibration-low", type=float, default=0.95)
    parser.add_argument("--calibration-high", type=float, default=0.9995)
    args = parser.parse_args(args_in)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    matrix, seen = sample_features(
        read_labelled(args.input), args.sample, args.seed, legit_only=not args.include_fraud
    )
    if len(matrix) < 2:
        log.error("%s: too few rows to train on", args.input)
        return 1
    model = fit(
        matrix,
        trees=args.trees,
        max_samples=args.max_samples,
        seed=args.seed,
        calibration=(args.calibration_low, args.calibration_high),
        source=args.input.name,
    )
    model.save(args.out)
    log.info(
        "wrote %s (%s) from %d of %d rows, %d trees, %d nodes",
        args.out,
        model.version,
        len(matrix),
        seen,
        args.trees,
        len(model.arrays.feature),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
