"""Fit the supervised model with LightGBM and export it as a :class:`GbdtModel` of arrays.

Class imbalance: positives are up-weighted (``scale_pos_weight``, capped), which ranks better on
rare fraud; the margin is then re-calibrated to a probability with Platt scaling fitted on the
training rows at their true base rate, so a score of 0.3 means about 30% fraud.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.scoring.gbdt import GbdtModel, TreeArrays
from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES


@dataclass(frozen=True, slots=True)
class GbdtParams:
    """LightGBM settings (small and shallow: the job scores every event with these trees)."""

    trees: int = 200
    num_leaves: int = 15
    max_depth: int = 6
    learning_rate: float = 0.05
    min_child_samples: int = 20
    feature_fraction: float = 0.7
    bagging_fraction: float = 0.8
    l2: float = 1.0
    max_pos_weight: float = 3.0
    seed: int = 7


def export_lightgbm(booster: Any) -> TreeArrays:
    """Flatten a fitted LightGBM booster (numerical ``<=`` splits) into arrays, parents first."""
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    roots: list[int] = []

    def add(node: dict[str, Any]) -> int:
        index = len(feature)
        feature.append(-1)
        threshold.append(0.0)
        left.append(index)
        right.append(index)
        if "leaf_value" in node:
            value.append(float(node["leaf_value"]))
            return index
        if node.get("decision_type", "<=") != "<=":
            raise ValueError(f"unsupported split {node.get('decision_type')!r}")
        value.append(float(node["internal_value"]))
        feature[index] = int(node["split_feature"])
        threshold[index] = float(node["threshold"])
        left[index] = add(node["left_child"])
        right[index] = add(node["right_child"])
        return index

    for tree in booster.dump_model()["tree_info"]:
        roots.append(add(tree["tree_structure"]))
    return TreeArrays(
        feature=np.asarray(feature, dtype=np.int32),
        threshold=np.asarray(threshold, dtype=np.float64),
        left=np.asarray(left, dtype=np.int32),
        right=np.asarray(right, dtype=np.int32),
        value=np.asarray(value, dtype=np.float64),
        roots=np.asarray(roots, dtype=np.int32),
    )


def _platt(margins: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> tuple[float, float]:
    """Fit ``p = sigmoid(a * margin + b)`` by logistic regression on one input."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(labels)) < 2:
        return 1.0, 0.0
    fit = LogisticRegression(C=1e6).fit(margins.reshape(-1, 1), labels)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def fit_gbdt(
    matrix: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    params: GbdtParams = GbdtParams(),
    extra_meta: dict[str, Any] | None = None,
) -> GbdtModel:
    """Train, export and calibrate a model on ``matrix`` (rows = supervised feature vectors)."""
    import lightgbm as lgb

    positives = int(labels.sum())
    negatives = len(labels) - positives
    pos_weight = min(params.max_pos_weight, negatives / max(positives, 1))
    booster = lgb.train(
        {
            "objective": "binary",
            "num_leaves": params.num_leaves,
            "max_depth": params.max_depth,
            "learning_rate": params.learning_rate,
            "min_child_samples": params.min_child_samples,
            "scale_pos_weight": pos_weight,
            "feature_fraction": params.feature_fraction,
            "bagging_fraction": params.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": params.l2,
            "seed": params.seed,
            "deterministic": True,
            "num_threads": 1,
            "verbose": -1,
            "use_missing": False,
        },
        lgb.Dataset(matrix, label=labels, free_raw_data=True),
        num_boost_round=params.trees,
    )
    arrays = export_lightgbm(booster)
    digest = hashlib.sha256()
    for part in (arrays.feature, arrays.threshold, arrays.value):
        digest.update(part.tobytes())
    meta: dict[str, Any] = {
        "version": f"gbdt-{digest.hexdigest()[:10]}",
        "kind": "lightgbm",
        "feature_names": list(SUPERVISED_FEATURE_NAMES),
        "trees": params.trees,
        "num_leaves": params.num_leaves,
        "max_depth": params.max_depth,
        "learning_rate": params.learning_rate,
        "scale_pos_weight": pos_weight,
        "training_rows": len(labels),
        "training_frauds": positives,
        "trained_at": datetime.now(UTC).isoformat(),
        "platt_a": 1.0,
        "platt_b": 0.0,
    } | (extra_meta or {})
    raw = GbdtModel(arrays, meta)
    meta["platt_a"], meta["platt_b"] = _platt(raw.margins(matrix), labels)
    return GbdtModel(arrays, meta)


def fit_random_forest(
    matrix: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], seed: int = 7
) -> Any:
    """The baseline: a plain scikit-learn random forest (textbook settings)."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(
        n_estimators=100, max_depth=20, n_jobs=-1, random_state=seed, min_samples_leaf=1
    )
    return forest.fit(matrix, labels)
