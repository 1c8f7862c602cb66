"""Benchmark of the plain-Python scoring core: per-event cost of the rules, the ML score and the
whole Flink-side call, against scikit-learn's per-row ``score_samples``.

A generator file (seed 7, 50,000 transactions, 7 days) is made once under ``.local/bench``;
its rows are replayed in event-time order. Figures are events per CPU second of this process
(``time.process_time``), the fair number on 2 shared cores, and per wall second. Measured:

- ``rules_only``: the five rules and the blend (``evaluate``, no model, no sentences);
- ``ml_only``: feature vector + the exported Isolation Forest (64 trees);
- ``supervised_model_only``: the learning loop's boosted trees (exported, generated code) on a
  ready feature vector: the model's own per-event cost, next to the Isolation Forest's
  ``iforest_model_only`` in the same run;
- ``supervised_features``: the point-in-time feature vector (customer windows, merchant and card
  frauds) the boosted trees read; ``supervised_explain``: the per-feature reasons of one alert;
- ``sklearn_one_row``: ``IsolationForest.score_samples`` on one row (same forest size);
- ``backtest_core``: rules + ML + merchant risk + state update, as the backtest runs it;
- ``flink_path``: what the job's scoring operator does per event (ADR 0070): decode the raw JSON
  to a Transaction, ``CustomerState.from_bytes``, ``score_transaction_json`` (the records as JSON
  with every sentence) and ``to_bytes``;
- ``flink_path_supervised``: the job's call as it runs by default (ADR 0063): the strict
  ``validate_transaction`` (decode + event-time check), ``from_bytes``, ``score_transaction_json``
  with the anomaly model AND the committed starter supervised model (``models/fraud-gbdt.npz``,
  200 trees; the model's reasons only for alerts) and ``to_bytes``, with the customer's state
  carried from event to event as the job's keyed state does;
- ``flink_path_pydantic``: the previous job path for comparison: ``from_bytes``,
  ``score_transaction`` (validated pydantic ScoredTransaction/FraudAlert), ``encode`` of both and
  ``to_bytes``, plus the pickle round trip of the Transaction between the two operators.

Usage: ``scripts/uv.sh run python bench/scorer_core.py [--events 50000]``; writes
``bench/results/scorer_core.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from streamflow.events import Channel, PaymentMethod, RuleSet, Transaction, decode, encode
from streamflow.lab.gbdt_train import fit_gbdt
from streamflow.lab.labelled_file import LabelledRow, read_labelled
from streamflow.lab.learning import LearningLoop, LoopConfig
from streamflow.scoring.context import NO_LABELS, LabelContext
from streamflow.scoring.core import (
    CustomerState,
    Supervised,
    score_transaction,
    score_transaction_json,
    validate_transaction,
)
from streamflow.scoring.features import feature_vector
from streamflow.scoring.gbdt import STARTER_MODEL_PATH, read_gbdt
from streamflow.scoring.model import DEFAULT_MODEL_PATH, AnomalyModel, read_model
from streamflow.scoring.rulesets import default_rules
from streamflow.scoring.scoring import evaluate
from streamflow.scoring.supervised_features import supervised_vector
from streamflow.scoring.view import TxnView

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "scorer_core.json"


def timed(fn: Callable[[], int]) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "events": n,
        "events_per_cpu_s": round(n / cpu, 1),
        "events_per_wall_s": round(n / wall, 1),
        "us_per_event_cpu": round(cpu / n * 1e6, 2),
    }


def as_transaction(view: TxnView) -> Transaction:
    return Transaction(
        transaction_id=view.transaction_id,
        event_time=datetime.fromtimestamp(view.epoch, tz=UTC),
        customer_id=view.customer_id,
        card_id=view.card_id,
        merchant_id=view.merchant_id,
        store_id="S1",
        amount=Decimal(f"{view.amount:.2f}"),
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel(view.channel),
        latitude=None if view.lat != view.lat else view.lat,
        longitude=None if view.lon != view.lon else view.lon,
    )


def flink_paths(
    sample: list[tuple[CustomerState | None, TxnView]], rules: RuleSet, model: AnomalyModel
) -> dict[str, dict[str, float]]:
    """The scoring operator's per-event work, the current JSON path and the previous one."""
    txns = [as_transaction(v) for _, v in sample]
    blobs = [s.to_bytes() if s is not None else None for s, _ in sample]
    now = datetime.now(UTC)

    raws = [encode(t).decode() for t in txns]

    def flink_path() -> int:
        for blob, raw in zip(blobs, raws, strict=True):
            txn = decode(Transaction, raw)
            state = CustomerState.from_bytes(blob) if blob is not None else None
            after, _out = score_transaction_json(
                state, txn, rules, 0.1, model, now, reuse_state=True
            )
            after.to_bytes()
        return len(raws)

    starter = read_gbdt(REPO / STARTER_MODEL_PATH)

    def flink_path_supervised() -> int:
        store: dict[str, bytes] = {}
        for raw in raws:
            txn = validate_transaction(raw, now)
            supervised = Supervised(starter, None, NO_LABELS)
            blob = store.get(txn.customer_id)
            state = CustomerState.from_bytes(blob) if blob is not None else None
            after, _out = score_transaction_json(
                state, txn, rules, 0.1, model, now, supervised, reuse_state=True
            )
            store[txn.customer_id] = after.to_bytes()
        return len(raws)

    def flink_path_pydantic() -> int:
        for blob, sent in zip(blobs, txns, strict=True):
            txn = pickle.loads(pickle.dumps(sent))  # noqa: S301 - what Flink did between operators
            state = CustomerState.from_bytes(blob) if blob is not None else None
            after, scored, alert = score_transaction(state, txn, rules, 0.1, model, now)
            encode(scored).decode()
            if alert is not None:
                encode(alert).decode()
            after.to_bytes()
        return len(txns)

    flink_path_supervised()  # warm-up: the generated tree functions' first calls
    return {
        "flink_path": timed(flink_path),
        "flink_path_supervised": timed(flink_path_supervised),
        "flink_path_pydantic": timed(flink_path_pydantic),
    }


def supervised(
    data: Path, pairs: list[tuple[CustomerState | None, TxnView]], anomaly: AnomalyModel
) -> dict[str, object]:
    """The learning loop's model: trained on this file's point-in-time rows, then timed."""
    loop = LearningLoop(
        default_rules(), anomaly, LoopConfig(retrain_every_s=math.inf, forest=False)
    )
    loop.run(read_labelled(data))
    gbdt = fit_gbdt(loop.rows.matrix(0, len(loop.rows)), np.asarray(loop.rows.label))

    def labels(view: TxnView) -> LabelContext:
        return loop.ctx.labels_at(view.merchant_id, view.card_id, view.epoch)

    vectors = [supervised_vector(state, labels(view), view) for state, view in pairs[:20_000]]
    iforest_vectors = [feature_vector(state, view) for state, view in pairs[:20_000]]

    def supervised_model_only() -> int:
        for vector in vectors:
            gbdt.score(vector)
        return len(vectors)

    def iforest_model_only() -> int:
        for vector in iforest_vectors:
            anomaly.score(vector)
        return len(iforest_vectors)

    def supervised_features() -> int:
        for state, view in pairs[:20_000]:
            supervised_vector(state, labels(view), view)
        return 20_000

    def supervised_explain() -> int:
        for vector in vectors[:1_000]:
            gbdt.reasons(vector)
        return 1_000

    return {
        "supervised_model_version": gbdt.version,
        "supervised_trees": len(gbdt.arrays.roots),
        "supervised_model_only": timed(supervised_model_only),
        "iforest_model_only": timed(iforest_model_only),
        "supervised_features": timed(supervised_features),
        "supervised_explain": timed(supervised_explain),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    data = REPO / ".local" / "bench" / f"scorer-core-{args.events}.parquet"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "streamflow.generator", "--seed", "7", "--count",
             str(args.events), "--days", "7", "--labelled-out", str(data),
             "--no-seed-reference"],
            check=True, cwd=REPO, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    rows: list[LabelledRow] = list(read_labelled(data))
    views = [r.view for r in rows]
    model = read_model(REPO / DEFAULT_MODEL_PATH)
    rules = default_rules()
    load = os.getloadavg()[0]

    # states as seen before each event (so every measurement scores realistic histories)
    befores: list[CustomerState | None] = []
    states: dict[str, CustomerState] = {}
    for v in views:
        s = states.get(v.customer_id)
        befores.append(s.copy() if s is not None else None)
        if s is None:
            s = states[v.customer_id] = CustomerState()
        s.update(v)
    pairs = list(zip(befores, views, strict=True))

    def rules_only() -> int:
        for state, v in pairs:
            evaluate(state, v, rules, 0.1, None, explain=False)
        return len(pairs)

    def ml_only() -> int:
        for state, v in pairs:
            model.score(feature_vector(state, v))
        return len(pairs)

    def backtest_core() -> int:
        for state, v in pairs:
            ev = evaluate(state, v, rules, 0.1, model, explain=False)
            after = state.copy() if state is not None else CustomerState()
            after.update(v, baseline=ev.score < rules.alert_threshold)
        return len(pairs)

    result_supervised = supervised(data, pairs, model)

    from sklearn.ensemble import IsolationForest

    matrix = np.asarray([feature_vector(s, v) for s, v in pairs[:20_000]])
    forest = IsolationForest(n_estimators=64, max_samples=256, random_state=7).fit(matrix)

    def sklearn_one_row() -> int:
        for row in matrix[:300]:
            forest.score_samples(row.reshape(1, -1))
        return 300

    result = {
        "component": "scorer_core",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": f"scripts/uv.sh run python bench/scorer_core.py --events {args.events}",
        "model_version": model.version,
        "trees": len(model.arrays.roots),
        "load_average_before": round(load, 2),
        "rules_only": timed(rules_only),
        "ml_only": timed(ml_only),
        "sklearn_one_row": timed(sklearn_one_row),
        "backtest_core": timed(backtest_core),
        **result_supervised,
        **flink_paths(pairs[:10_000], rules, model),
        "bar": {"flink_path_events_per_cpu_s": 10_000, "supervised_model_us_per_event": 20},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
