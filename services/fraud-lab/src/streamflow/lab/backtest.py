"""Backtest: replay a labelled file through the scoring core and report detection quality.

Rows go in event-time order through the job's own step, :func:`~streamflow.scoring.core.score_view`
(evaluation and state update). Each row's label is fed back as merchant feedback
``--feedback-delay`` after its event time (default 7 days), before any later transaction is scored,
as a chargeback would arrive. Customer state idle for longer than the state TTL is forgotten, as
in the job (in event time here). Usage::

    python -m streamflow.lab.backtest INPUT --out report.json [--scores-out s.csv]
        [--rules r.yaml] [--compare other.yaml] [--model m.npz | --no-model] [--k 100]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamflow.events import RuleSet
from streamflow.lab.label_feed import LabelFeed
from streamflow.lab.labelled_file import LabelledRow, Rejects, read_labelled
from streamflow.lab.scores_out import ScoresWriter
from streamflow.scoring.comparison import Comparison, RuleSetRun
from streamflow.scoring.context import ContextStore
from streamflow.scoring.core import NO_SUPERVISED, Supervised
from streamflow.scoring.gbdt import GbdtModel, read_gbdt
from streamflow.scoring.model import DEFAULT_MODEL_PATH, AnomalyModel, load_model
from streamflow.scoring.rules_io import read_rules, rules_diff
from streamflow.scoring.rulesets import default_rules
from streamflow.scoring.scoring import Evaluation

log = logging.getLogger("streamflow.lab.backtest")


def replay(
    rows: Iterable[LabelledRow],
    runs: list[RuleSetRun],
    model: AnomalyModel | None,
    *,
    feedback_delay_s: float,
    scores_out: ScoresWriter | None = None,
    comparison: Comparison | None = None,
    supervised: GbdtModel | None = None,
) -> dict[str, float]:
    """Score every row with every rule set (and ``supervised`` as the current model, fed the
    merchants' and cards' delayed labels as the job is); returns timing figures."""
    ctx = ContextStore()
    feed = LabelFeed(feedback_delay_s, runs, ctx)
    core_seconds = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    count = 0
    perf = time.perf_counter
    for row in rows:
        view = row.view
        now = view.epoch
        feed.deliver(now)
        t0 = perf()
        current = NO_SUPERVISED
        if supervised is not None:
            labels = ctx.labels_at(view.merchant_id, view.card_id, now)
            current = Supervised(current=supervised, labels=labels)
        evaluations = [run.score(view, model, current) for run in runs]
        core_seconds += perf() - t0
        alerts = [run.record(row, ev) for run, ev in zip(runs, evaluations, strict=True)]
        if comparison is not None:
            comparison.add(view.transaction_id, row.label, alerts[0], alerts[1])
        if scores_out is not None:
            scores_out.add(view.transaction_id, evaluations[0].score)
        feed.observe(view, row.label)
        count += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "rows": count,
        "events_per_second": count / elapsed if elapsed > 0 else 0.0,
        "events_per_cpu_second": count / cpu if cpu > 0 else 0.0,
        "core_events_per_second": count / core_seconds if core_seconds > 0 else 0.0,
        "seconds": elapsed,
        "customers": len(runs[0].states),
    }


@dataclass(frozen=True, slots=True)
class FeedbackLabel:
    """One confirmed label (e.g. a ``fraud.feedback`` chargeback) due at ``reported_at``."""

    reported_at: float
    """POSIX seconds, as the job reads them (``Feedback.reported_at.timestamp()``)."""
    merchant_id: str
    fraud: bool
    card_id: str = ""
    """The card the label is for (``Feedback.card_id``, v2); empty when unknown."""


def score_rows(
    rows: Iterable[LabelledRow],
    rules: RuleSet,
    model: AnomalyModel | None,
    feedback: Iterable[FeedbackLabel] = (),
    supervised: GbdtModel | None = None,
) -> Iterator[tuple[LabelledRow, Evaluation]]:
    """Every row with its evaluation, given explicit feedback instead of the rows' own labels.

    For comparisons with the Flink job fed the same transactions and ``fraud.feedback`` records:
    each label is applied, in ``reported_at`` order, before the first row whose event time has
    reached it (the rule :func:`replay` uses for its delayed labels). With ``supervised`` as the
    current model, the features see those labels and the merchants' traffic in row order.
    """
    run = RuleSetRun(rules, 1)
    ctx = ContextStore()
    pending = sorted(feedback, key=lambda label: label.reported_at)
    next_label = 0
    for row in rows:
        view = row.view
        now = view.epoch
        while next_label < len(pending) and pending[next_label].reported_at <= now:
            label = pending[next_label]
            run.learn(label.merchant_id, label.fraud, label.reported_at)
            if label.fraud:
                ctx.report_fraud(label.merchant_id, label.card_id, label.reported_at)
            next_label += 1
        current = NO_SUPERVISED
        if supervised is not None:
            labels = ctx.labels_at(view.merchant_id, view.card_id, now)
            current = Supervised(current=supervised, labels=labels)
        yield row, run.score(view, model, current)
        ctx.record_payment(view.merchant_id, now)


def plot_pr(run: RuleSetRun, path: Path, title: str) -> None:
    """Write the precision-recall curve as a PNG."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    recall, precision = run.histogram.pr_curve()
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    ax.plot(recall, precision, drawstyle="steps-post")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.0)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _no_nan(value: Any) -> Any:
    """The report with NaN (undefined metric, e.g. AP without frauds) as null: strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def _parse_delay(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make backtest", description=__doc__.split("\n")[0])
    parser.add_argument("input", type=Path, help="labelled CSV or Parquet file")
    parser.add_argument("--out", type=Path, required=True, help="JSON report path")
    parser.add_argument(
        "--scores-out", type=Path, help="transaction_id,score file (.parquet: Parquet, else CSV)"
    )
    parser.add_argument("--rules", type=Path, help="rule-set YAML (default: built-in rules)")
    parser.add_argument("--blacklist", type=Path, help="blacklist JSON for the built-in rules")
    parser.add_argument("--compare", type=Path, help="another rule-set YAML to compare with")
    parser.add_argument("--model", type=Path, help=f"model file (default {DEFAULT_MODEL_PATH})")
    parser.add_argument("--no-model", action="store_true", help="score with rules only")
    parser.add_argument(
        "--supervised", type=Path, help="supervised model file (.npz) scored as the current model"
    )
    parser.add_argument("--feedback-delay", default="7d", help="label delay, e.g. 7d, 36h")
    parser.add_argument("--no-feedback", action="store_true", help="never feed labels back")
    parser.add_argument(
        "--arrival-order",
        action="store_true",
        help="replay in file order (as the job reads the topic), not event-time order",
    )
    parser.add_argument("--k", type=int, default=100, help="k of card precision@k")
    parser.add_argument("--no-plot", action="store_true", help="skip the PR-curve PNG")
    loop = parser.add_argument_group("learning loop (prequential: retrain on delayed labels)")
    loop.add_argument("--retrain-every", help="retrain the supervised model every, e.g. 7d")
    loop.add_argument("--train-window", default="28d", help="labelled rows per retrain, e.g. 28d")
    loop.add_argument("--no-forest", action="store_true", help="skip the random-forest baseline")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    model = None if args.no_model else load_model(args.model or DEFAULT_MODEL_PATH)
    base = read_rules(args.rules) if args.rules else default_rules(args.blacklist)
    if args.retrain_every:
        return _prequential(args, base, model)
    runs = [RuleSetRun(base, args.k)]
    comparison = None
    supervised = read_gbdt(args.supervised) if args.supervised else None
    if args.compare:
        runs.append(RuleSetRun(read_rules(args.compare), args.k))
        comparison = Comparison()
    delay = math.inf if args.no_feedback else _parse_delay(args.feedback_delay)
    rejects = Rejects()
    writer = ScoresWriter(args.scores_out) if args.scores_out else None
    try:
        timing = replay(
            read_labelled(args.input, arrival_order=args.arrival_order, rejects=rejects),
            runs,
            model,
            feedback_delay_s=delay,
            scores_out=writer,
            comparison=comparison,
            supervised=supervised,
        )
    finally:
        if writer is not None:
            writer.close()
    report: dict[str, Any] = {
        "input": str(args.input),
        "model_version": model.version if model else None,
        "supervised_model_version": supervised.version if supervised else None,
        "feedback_delay_seconds": None if math.isinf(delay) else delay,
        **runs[0].report(),
        **timing,
        "rejected": rejects.report(),
    }
    if not args.no_plot:
        png = args.out.with_suffix(".pr.png")
        plot_pr(runs[0], png, f"PR curve (AP {report['average_precision']:.3f})")
        report["pr_curve_png"] = str(png)
    if comparison is not None:
        report["compare"] = {
            "rules_file": str(args.compare),
            "rule_changes": rules_diff(base, runs[1].rules),
            "other": runs[1].report(),
            "alerts_only_with_base": comparison.only_base,
            "alerts_only_with_other": comparison.only_other,
            "frauds_caught_only_with_base": comparison.frauds_only_base,
            "frauds_caught_only_with_other": comparison.frauds_only_other,
            "examples_only_with_base": comparison.examples_only_base,
            "examples_only_with_other": comparison.examples_only_other,
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report["load_average"] = round(os.getloadavg()[0], 2)
    text = json.dumps(_no_nan(report), indent=2, default=str, allow_nan=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    summary = {
        k: report[k]
        for k in ("rows", "average_precision", "roc_auc", "precision", "recall", "alerts_per_1000")
    }
    print(json.dumps(_no_nan(summary) | {"events_per_second": round(timing["events_per_second"])}))
    return 0


def _prequential(args: argparse.Namespace, rules: RuleSet, model: AnomalyModel | None) -> int:
    """The learning loop's replay: rules + anomaly model, the loop and a forest, side by side."""
    from streamflow.lab.learning import LearningLoop, LoopConfig

    config = LoopConfig(
        retrain_every_s=_parse_delay(args.retrain_every),
        train_window_s=_parse_delay(args.train_window),
        feedback_delay_s=_parse_delay(args.feedback_delay),
        forest=not args.no_forest,
    )
    loop = LearningLoop(rules, model, config)
    started = time.perf_counter()
    rejects = Rejects()
    loop.run(read_labelled(args.input, rejects=rejects))
    report: dict[str, Any] = {
        "input": str(args.input),
        "anomaly_model_version": model.version if model else None,
        "protocol": {
            "retrain_every_seconds": config.retrain_every_s,
            "train_window_seconds": config.train_window_s,
            "feedback_delay_seconds": config.feedback_delay_s,
            "card_precision_k": args.k,
        },
        **loop.report(args.k),
        "rows": len(loop.rows),
        "rejected": rejects.report(),
        "seconds": time.perf_counter() - started,
        "load_average": round(os.getloadavg()[0], 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(_no_nan(report), indent=2, default=str, allow_nan=False) + "\n", encoding="utf-8"
    )
    overall = report["overall"] or {}
    print(
        json.dumps(
            {
                name: {
                    "average_precision": round(v["average_precision"], 4),
                    "card_precision_at_k": round(v["card_precision_at_k"], 4),
                }
                for name, v in overall.items()
                if isinstance(v, dict)
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
