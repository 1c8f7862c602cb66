"""Train the supervised model on a labelled file, register it in MLflow and run the promotion gate.

``make train ARGS="gbdt INPUT [--train-window 28d] [--feedback-delay 7d] [--eval-days 7] ..."``:

1. replay the file in event time through the learning loop's point-in-time features
   (:class:`~streamflow.lab.learning.LearningLoop`, no retraining during the replay);
2. split by time (:class:`~streamflow.lab.promotion.TimeSplit`): evaluate on the most recent
   week whose labels are all known at the file's end, train on the window before it;
3. fit (LightGBM, exported to arrays) and evaluate the model's probability on that week;
4. re-score the registry's champion (alias ``champion``) on the very same rows and apply the gate
   (:func:`~streamflow.lab.promotion.decide`): promoted versions get the alias, refused ones
   are kept with a ``rejected`` tag holding the reason;
5. record the version with its metrics, params and model file, and print the decision and both
   models' metrics as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.events import ModelSlot, RuleSet
from streamflow.lab.gbdt_train import GbdtParams, fit_gbdt
from streamflow.lab.labelled_file import Rejects, read_labelled
from streamflow.lab.learning import LearningLoop, LoopConfig
from streamflow.lab.model_delivery import DeliveryError, publish
from streamflow.lab.promotion import (
    DAY_S,
    EvalMetrics,
    GateConfig,
    GateDecision,
    TimeSplit,
    decide,
    evaluate,
    known_compromised_cards,
)
from streamflow.lab.registry import (
    MODEL_DIR,
    MODEL_FILE,
    MlflowRegistry,
    ModelVersion,
    RegistryError,
    RegistrySettings,
)
from streamflow.platform.settings import ServiceSettings, load_settings
from streamflow.scoring.gbdt import GbdtModel, model_from_bytes
from streamflow.scoring.model import DEFAULT_MODEL_PATH, AnomalyModel, ModelFormatError, load_model
from streamflow.scoring.model_release import release_of
from streamflow.scoring.rules_io import read_rules
from streamflow.scoring.rulesets import default_rules
from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

log = logging.getLogger("streamflow.lab.train_gbdt")

EXIT_NO_DATA = 2
"""The file cannot support a training: too few frauds to train on or evaluate."""
EXIT_REGISTRY = 3
"""The registry could not be reached or refused a call."""


class TrainingDataError(ValueError):
    """The file does not hold enough labelled rows for the split asked for."""


def parse_duration(text: str) -> float:
    """Seconds of ``"28d"``, ``"36h"``, ``"90m"``, ``"30s"`` or a plain number of seconds."""
    units = {"s": 1.0, "m": 60.0, "h": 3_600.0, "d": DAY_S}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 28d, 36h)") from None


@dataclass(frozen=True)
class Dataset:
    """The replayed file cut by the split: training matrix and evaluation rows."""

    split: TimeSplit
    train_matrix: npt.NDArray[np.float64]
    train_labels: npt.NDArray[np.int64]
    eval_matrix: npt.NDArray[np.float64]
    eval_labels: npt.NDArray[np.int64]
    eval_epochs: list[float]
    eval_cards: list[str]
    excluded_known_cards: int
    """Evaluation rows left out: their card had a fraud reported before the week."""
    file_rows: int


def build_dataset(
    loop: LearningLoop,
    train_window_s: float,
    feedback_delay_s: float,
    eval_s: float,
    min_frauds: int,
    *,
    labels_complete: bool = False,
) -> Dataset:
    """Cut the replayed rows of ``loop`` into training and evaluation sets.

    ``labels_complete``: every row's label is final (a warehouse export of matured transactions),
    so the evaluation week ends at the last event instead of ``feedback_delay_s`` before it.
    """
    rows = loop.rows
    if len(rows) == 0:
        raise TrainingDataError("the file holds no usable rows")
    epochs = np.asarray(rows.epoch, dtype=np.float64)
    labels = np.asarray(rows.label, dtype=np.int64)
    split_delay_s = 0.0 if labels_complete else feedback_delay_s
    split = TimeSplit.at_end(float(epochs.max()), train_window_s, split_delay_s, eval_s)
    lo, mid, hi = np.searchsorted(epochs, [split.train_from, split.eval_from, split.eval_to])
    lo, mid, hi = int(lo), int(mid), int(hi)
    train_labels = labels[lo:mid]
    frauds = int(train_labels.sum())
    if frauds < min_frauds or frauds == len(train_labels):
        raise TrainingDataError(
            f"training window {split.as_dict()['train_from']} .. {split.as_dict()['train_to']} "
            f"holds {len(train_labels)} rows with {frauds} frauds (at least {min_frauds} frauds "
            "and some legit rows needed): give a longer file or a longer --train-window"
        )
    known = known_compromised_cards(
        epochs[:mid], rows.card[:mid], labels[:mid], feedback_delay_s, split.eval_from
    )
    keep = [i for i in range(mid, hi) if rows.card[i] not in known]
    eval_labels = labels[keep]
    if eval_labels.size == 0 or eval_labels.min() == eval_labels.max():
        raise TrainingDataError(
            f"evaluation week {split.as_dict()['eval_from']} .. {split.as_dict()['eval_to']} "
            f"holds {len(keep)} rows with {int(eval_labels.sum())} frauds: both classes needed"
        )
    return Dataset(
        split=split,
        train_matrix=rows.matrix(lo, mid),
        train_labels=train_labels,
        eval_matrix=rows.matrix(mid, hi)[np.asarray(keep, dtype=np.int64) - mid],
        eval_labels=eval_labels,
        eval_epochs=[rows.epoch[i] for i in keep],
        eval_cards=[rows.card[i] for i in keep],
        excluded_known_cards=(hi - mid) - len(keep),
        file_rows=len(rows),
    )


def score_model(model: GbdtModel, data: Dataset, threshold: float) -> EvalMetrics:
    """A model's metrics on the evaluation rows."""
    return evaluate(
        model.scores(data.eval_matrix),
        data.eval_labels,
        data.eval_epochs,
        data.eval_cards,
        threshold=threshold,
    )


@dataclass(frozen=True)
class Champion:
    """The registry's current model, re-scored on the candidate's week (or why it could not be)."""

    version: ModelVersion
    model_version: str
    metrics: EvalMetrics | None
    problem: str | None


def load_champion(
    registry: MlflowRegistry, name: str, alias: str, data: Dataset, threshold: float
) -> Champion | None:
    """The champion and its metrics on ``data``'s week; None when there is no champion."""
    current = registry.alias_version(name, alias)
    if current is None:
        return None
    model_version = current.tags.get("model_version", "?")
    try:
        blob = registry.get_artifact(f"{current.source.rstrip('/')}/{MODEL_FILE}")
        expected = current.tags.get("sha256")
        if expected and hashlib.sha256(blob).hexdigest() != expected:
            raise ModelFormatError("model file does not match the sha256 recorded at registration")
        model = model_from_bytes(blob, f"{name} v{current.version}")
        return Champion(current, model.version, score_model(model, data, threshold), None)
    except (ModelFormatError, RegistryError) as exc:
        log.warning("champion v%s cannot be re-scored: %s", current.version, exc)
        return Champion(current, model_version, None, str(exc))


@dataclass(frozen=True)
class TrainOptions:
    """One training: the file, the protocol, the model's settings, the gate and the registry."""

    input: Path
    train_window: str = "28d"
    feedback_delay: str = "7d"
    eval_days: float = 7.0
    min_frauds: int = 20
    labels_complete: bool = False
    """The file's labels are final at its end (matured warehouse examples): see build_dataset."""
    params: GbdtParams = field(default_factory=GbdtParams)
    gate: GateConfig = field(default_factory=GateConfig)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    out: Path | None = None
    """Also write the candidate's model file here."""
    publish: bool = False
    """Deliver the candidate to the running job: its shadow slot, and the current slot when
    the gate promotes it (``fraud.models``, docs/adr/0062)."""

    @property
    def train_window_s(self) -> float:
        return parse_duration(self.train_window)

    @property
    def feedback_delay_s(self) -> float:
        return parse_duration(self.feedback_delay)


@dataclass(frozen=True)
class Replayed:
    """The file replayed and cut: what every candidate of one file is trained and judged on."""

    data: Dataset
    rules: RuleSet
    anomaly_version: str | None
    rejects: dict[str, Any]
    seconds: float


def replay(options: TrainOptions, rules: RuleSet, anomaly: AnomalyModel | None) -> Replayed:
    """Replay ``options.input`` through the point-in-time features and apply the time split.

    Raises :class:`TrainingDataError` when the split leaves too few frauds.
    """
    started = time.perf_counter()
    loop = LearningLoop(
        rules,
        anomaly,
        LoopConfig(
            retrain_every_s=math.inf,
            train_window_s=options.train_window_s,
            feedback_delay_s=options.feedback_delay_s,
            params=options.params,
            forest=False,
        ),
    )
    rejects = Rejects()
    loop.run(read_labelled(options.input, rejects=rejects))
    data = build_dataset(
        loop,
        options.train_window_s,
        options.feedback_delay_s,
        options.eval_days * DAY_S,
        options.min_frauds,
        labels_complete=options.labels_complete,
    )
    return Replayed(
        data,
        rules,
        anomaly.version if anomaly is not None else None,
        rejects.report(),
        time.perf_counter() - started,
    )


def run_params(options: TrainOptions, model: GbdtModel, replayed: Replayed) -> dict[str, Any]:
    """What the run records as params (MLflow keeps them as strings)."""
    meta, data = model.meta, replayed.data
    return {
        "model_version": model.version,
        "features": ",".join(SUPERVISED_FEATURE_NAMES),
        "feature_count": len(SUPERVISED_FEATURE_NAMES),
        **data.split.as_dict(),
        "train_window": options.train_window,
        "feedback_delay": options.feedback_delay,
        "eval_days": options.eval_days,
        "trees": meta["trees"],
        "num_leaves": meta["num_leaves"],
        "max_depth": meta["max_depth"],
        "learning_rate": meta["learning_rate"],
        "scale_pos_weight": round(float(meta["scale_pos_weight"]), 6),
        "seed": options.params.seed,
        "training_rows": meta["training_rows"],
        "training_frauds": meta["training_frauds"],
        "input": options.input.name,
        "input_rows": data.file_rows,
        "rules_version": replayed.rules.version,
        "alert_threshold": replayed.rules.alert_threshold,
        "anomaly_model": replayed.anomaly_version or "none",
        "gate_margin": options.gate.margin,
        "gate_max_alerts_per_1000": options.gate.max_alerts_per_1000,
    }


def run_metrics(candidate: EvalMetrics, champion: Champion | None) -> dict[str, float | None]:
    """What the run records as metrics (evaluation week)."""
    out: dict[str, float | None] = {
        "average_precision": candidate.average_precision,
        "roc_auc": candidate.roc_auc,
        "card_precision_at_100": candidate.card_precision_at_100,
        "precision_at_threshold": candidate.precision,
        "recall_at_threshold": candidate.recall,
        "alerts_per_1000": candidate.alerts_per_1000,
        "eval_rows": float(candidate.rows),
        "eval_frauds": float(candidate.frauds),
    }
    if champion is not None and champion.metrics is not None:
        out["champion_average_precision"] = champion.metrics.average_precision
        out["ap_gain"] = candidate.average_precision - champion.metrics.average_precision
    return out


def register(
    registry: MlflowRegistry,
    settings: RegistrySettings,
    model: GbdtModel,
    *,
    params: dict[str, Any],
    metrics: dict[str, float | None],
    decision: GateDecision,
    champion: Champion | None,
    split: TimeSplit,
) -> ModelVersion:
    """Record the run and the version with the gate's decision; move the alias if promoted."""
    blob = model.to_bytes()
    experiment = registry.experiment_id(settings.model_name)
    run = registry.start_run(
        experiment, model.version, {"streamflow.kind": "gbdt", "gate.decision": decision.label}
    )
    try:
        registry.log(run.run_id, params, metrics)
        registry.put_artifact(run.artifact_uri, f"{MODEL_DIR}/{MODEL_FILE}", blob)
    except RegistryError:
        registry.finish_run(run.run_id, "FAILED")
        raise
    registry.finish_run(run.run_id)
    tags: dict[str, Any] = {
        "model_version": model.version,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size_bytes": len(blob),
        **split.as_dict(),
        "average_precision": f"{metrics['average_precision']:.6f}",
        "alerts_per_1000": f"{metrics['alerts_per_1000']:.3f}",
        "gate.decision": decision.label,
        "gate.reason": decision.reason,
        "gate.champion": champion.version.version if champion else "none",
    }
    if not decision.promote:
        tags["rejected"] = decision.reason
    registry.ensure_model(
        settings.model_name, "StreamFlow's supervised fraud model (LightGBM exported to arrays)"
    )
    version = registry.create_version(
        settings.model_name,
        f"{run.artifact_uri.rstrip('/')}/{MODEL_DIR}",
        run.run_id,
        tags,
        f"{model.version}: trained on {split.as_dict()['train_from']} .. "
        f"{split.as_dict()['train_to']}, evaluated on the week to {split.as_dict()['eval_to']}",
    )
    if decision.promote:
        registry.set_alias(settings.model_name, settings.champion_alias, version.version)
    return version


def deliver(
    options: TrainOptions, model: GbdtModel, registry_version: str, decision: GateDecision
) -> list[str]:
    """Publish the candidate to the job's shadow slot, and to the current slot if promoted."""
    service = load_settings(ServiceSettings)
    topic = service.topics.fraud_models
    slots = [ModelSlot.SHADOW] + ([ModelSlot.CURRENT] if decision.promote else [])
    for slot in slots:
        release = release_of(
            model,
            model_name=options.registry.model_name,
            slot=slot,
            published_at=datetime.now(UTC),
            registry_version=registry_version,
            note=f"{decision.label}: {decision.reason}"[:2000],
        )
        publish(service.kafka, topic, release)
        log.info("published %s to the %s slot of %s", model.version, slot.value, topic)
    return [slot.value for slot in slots]


def train_and_gate(options: TrainOptions, replayed: Replayed) -> dict[str, Any]:
    """Fit a candidate on the replayed file, judge it against the champion, register it.

    Returns the report printed by the CLI; raises :class:`RegistryError` on registry failures.
    """
    data, threshold, settings = replayed.data, replayed.rules.alert_threshold, options.registry
    started = time.perf_counter()
    registry = MlflowRegistry(settings.url)
    # The champion first: an unreachable registry fails before the fit.
    champion = load_champion(
        registry, settings.model_name, settings.champion_alias, data, threshold
    )
    registry_s = time.perf_counter() - started
    started = time.perf_counter()
    model = fit_gbdt(
        data.train_matrix,
        data.train_labels,
        options.params,
        {"source": options.input.name, **data.split.as_dict()}
        | {"feedback_delay_s": options.feedback_delay_s},
    )
    fit_s = time.perf_counter() - started
    candidate = score_model(model, data, threshold)
    if options.out:
        model.save(options.out)

    started = time.perf_counter()
    decision = decide(
        candidate,
        champion.metrics if champion else None,
        options.gate,
        f"v{champion.version.version}" if champion else None,
        champion.problem if champion else None,
    )
    version = register(
        registry,
        settings,
        model,
        params=run_params(options, model, replayed),
        metrics=run_metrics(candidate, champion),
        decision=decision,
        champion=champion,
        split=data.split,
    )
    registry_s += time.perf_counter() - started
    published = deliver(options, model, version.version, decision) if options.publish else []
    return {
        "decision": decision.label,
        "published": published,
        "reason": decision.reason,
        "registry": {
            "url": settings.url,
            "model_name": settings.model_name,
            "alias": settings.champion_alias,
        },
        "candidate": {
            "registry_version": version.version,
            "model_version": model.version,
            "run_id": version.run_id,
            "metrics": candidate.as_dict(),
        },
        "champion": None
        if champion is None
        else {
            "registry_version": champion.version.version,
            "model_version": champion.model_version,
            "metrics": champion.metrics.as_dict() if champion.metrics else None,
            "problem": champion.problem,
        },
        "evaluation": {
            **data.split.as_dict(),
            "rows_excluded_known_cards": data.excluded_known_cards,
            "alert_threshold": threshold,
            "score": "the model's calibrated probability (not the rules blend)",
        },
        "gate": {
            "margin": options.gate.margin,
            "max_alerts_per_1000": options.gate.max_alerts_per_1000,
        },
        "training": {"rows": len(data.train_labels), "frauds": int(data.train_labels.sum())},
        "rejected_rows": replayed.rejects,
        "timings_s": {
            "replay": round(replayed.seconds, 3),
            "fit": round(fit_s, 3),
            "registry": round(registry_s, 3),
        },
        "load_average": round(os.getloadavg()[0], 2),
    }


def parser() -> argparse.ArgumentParser:
    settings = RegistrySettings()
    p = argparse.ArgumentParser(
        prog="make train ARGS='gbdt ...'", description=__doc__.split("\n")[0]
    )
    p.add_argument("input", type=Path, help="labelled CSV/Parquet file (any labelled stream)")
    p.add_argument("--train-window", default="28d", help="training window before the eval week")
    p.add_argument("--feedback-delay", default="7d", help="label delay, e.g. 7d, 36h")
    p.add_argument("--eval-days", type=float, default=7.0, help="evaluation window in days")
    p.add_argument(
        "--labels-complete",
        action="store_true",
        help="every label in the file is final (matured warehouse examples): evaluate on its "
        "last week instead of the week ending --feedback-delay before its end",
    )
    p.add_argument("--margin", type=float, default=0.01, help="AP gain needed over the champion")
    p.add_argument(
        "--max-alerts-per-1000",
        type=float,
        default=30.0,
        help="cap on alerts per 1,000 transactions at the alert threshold",
    )
    p.add_argument(
        "--registry",
        default=settings.url,
        help="MLflow tracking server URL (env STREAMFLOW_MLFLOW_URL)",
    )
    p.add_argument(
        "--model-name",
        default=settings.model_name,
        help="registered model name (env STREAMFLOW_MLFLOW_MODEL_NAME)",
    )
    defaults = GbdtParams()
    p.add_argument("--trees", type=int, default=defaults.trees, help="boosting rounds")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--min-frauds", type=int, default=20, help="frauds needed in the window")
    p.add_argument("--rules", type=Path, help="rule-set YAML (its alert threshold is used)")
    p.add_argument("--blacklist", type=Path, help="blacklist JSON for the built-in rules")
    p.add_argument(
        "--anomaly-model",
        type=Path,
        default=DEFAULT_MODEL_PATH,
        help="the job's anomaly model (the replay's rule blend updates state with it)",
    )
    p.add_argument("--no-anomaly-model", action="store_true", help="replay with rules only")
    p.add_argument("--out", type=Path, help="also write the candidate's model file here")
    p.add_argument(
        "--publish",
        action="store_true",
        help="deliver the candidate to the running job over fraud.models: the shadow slot, and "
        "the current slot when promoted (Kafka from STREAMFLOW_KAFKA_*)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        options = TrainOptions(
            input=args.input,
            train_window=args.train_window,
            feedback_delay=args.feedback_delay,
            eval_days=args.eval_days,
            min_frauds=args.min_frauds,
            labels_complete=args.labels_complete,
            params=GbdtParams(trees=args.trees, seed=args.seed),
            gate=GateConfig(args.margin, args.max_alerts_per_1000),
            registry=RegistrySettings(url=args.registry, model_name=args.model_name),
            out=args.out,
            publish=args.publish,
        )
        if options.eval_days <= 0 or options.train_window_s <= 0 or options.feedback_delay_s < 0:
            raise ValueError("--eval-days and --train-window must be positive")
        if args.trees < 1:
            raise ValueError("--trees must be at least 1")
    except (argparse.ArgumentTypeError, ValueError) as exc:
        cli.error(str(exc))
    if not MlflowRegistry(options.registry.url).health():
        log.error(
            "MLflow registry at %s not reachable: start it with 'make up' or "
            "'scripts/infra/up.sh mlflow', or pass --registry URL",
            options.registry.url,
        )
        return EXIT_REGISTRY
    rules = read_rules(args.rules) if args.rules else default_rules(args.blacklist)
    anomaly = None if args.no_anomaly_model else load_model(args.anomaly_model)
    try:
        replayed = replay(options, rules, anomaly)
    except TrainingDataError as exc:
        log.error("%s: %s", args.input, exc)
        return EXIT_NO_DATA
    try:
        report = train_and_gate(options, replayed)
    except (RegistryError, DeliveryError) as exc:
        log.error("%s", exc)
        return EXIT_REGISTRY
    print(json.dumps(report, indent=2, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
