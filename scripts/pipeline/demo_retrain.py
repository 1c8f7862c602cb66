"""``make demo``'s retrain cycle: train the supervised model, gate it, print the registry.

The demo streams a few simulated days; a training needs a training window, an evaluation week
and the label delay after it (``--train-window`` + 7 + ``--feedback-delay`` days of labelled
transactions). When the demo's warehouse spans that, it trains on the warehouse's examples
(the model_training DAG); otherwise on a generated learning-scenario file, and says why.
The file is replayed once; when the registry has no champion yet, a small model (3 trees) is
registered first as "the current model", so the cycle shows a real gate decision and precision/
recall before (the champion, re-scored on the same week) and after (the candidate). The
candidate is delivered to the running job (``fraud.models``: shadow, and current if promoted),
which scores later transactions with it without a restart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg

from streamflow.lab.gbdt_train import GbdtParams
from streamflow.lab.model_delivery import in_force, slots
from streamflow.lab.promotion import GateConfig
from streamflow.lab.registry import MlflowRegistry, RegistrySettings
from streamflow.lab.train_gbdt import TrainOptions, replay, train_and_gate
from streamflow.platform.settings import ServiceSettings, load_settings
from streamflow.scoring.model import DEFAULT_MODEL_PATH, load_model
from streamflow.scoring.rulesets import default_rules

REPO = Path(__file__).resolve().parents[2]
TRAIN_WINDOW_DAYS = 14
EVAL_DAYS = 7
DELAY_DAYS = 7


def warehouse_span(dsn: str) -> tuple[float, int]:
    """Days of silver transactions and their known frauds (0, 0 without a warehouse)."""
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            row = conn.execute(
                "select coalesce(extract(epoch from max(event_time) - min(event_time)) / 86400, 0),"
                " (select count(*) from silver.stg_feedback where is_fraud)"
                " from silver.stg_transactions"
            ).fetchone()
    except psycopg.Error:
        return 0.0, 0
    return (float(row[0]), int(row[1])) if row else (0.0, 0)


def generated_file(path: Path) -> Path:
    """A 40-day learning-scenario file (seed 7, 40k transactions, 1,000 customers), made once."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 (a fixed command line)
            [
                *(sys.executable, "-m", "streamflow.generator", "--seed", "7"),
                *("--count", "40000", "--days", "40", "--customers", "1000"),
                *("--scenarios", "learning", "--labelled-out", str(path)),
                *("--no-seed-reference", "--quiet"),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return path


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.3f}"


def _line(name: str, metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return f"  {name:<28} (none)"
    return (
        f"  {name:<28} AP {_pct(metrics['average_precision'])}  precision "
        f"{_pct(metrics['precision'])}  recall {_pct(metrics['recall'])}  alerts/1000 "
        f"{metrics['alerts_per_1000']:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--file", type=Path, default=Path(".local/train/demo-learning-seed7.parquet")
    )
    args = parser.parse_args(argv)
    settings = RegistrySettings()
    registry = MlflowRegistry(settings.url)
    if not registry.health():
        print(f"MLflow registry at {settings.url} not reachable: retrain cycle skipped")
        return 0
    needed = TRAIN_WINDOW_DAYS + EVAL_DAYS + DELAY_DAYS
    span, frauds = warehouse_span(load_settings(ServiceSettings).pg.dsn())
    if span >= needed and frauds >= 50:
        print(f"warehouse spans {span:.1f} days with {frauds} frauds: training on its examples")
        run_dags = str(REPO / "scripts" / "warehouse" / "run_dags.sh")
        env = {**os.environ, "STREAMFLOW_TRAIN_PUBLISH": "true"}
        dag = subprocess.run(  # noqa: S603
            [run_dags, "--dag", "model_training"], check=False, env=env
        )
        return dag.returncode
    print(
        f"the demo's warehouse spans {span:.1f} days with {frauds} known frauds; a training needs "
        f"{needed} (a {TRAIN_WINDOW_DAYS}-day training window, a {EVAL_DAYS}-day evaluation week, "
        f"{DELAY_DAYS} days for its labels to arrive): training on a generated learning file "
        "instead (seed 7, 40,000 transactions over 40 days, learning scenarios)"
    )
    options = TrainOptions(
        input=generated_file(args.file),
        train_window=f"{TRAIN_WINDOW_DAYS}d",
        feedback_delay=f"{DELAY_DAYS}d",
        eval_days=EVAL_DAYS,
        gate=GateConfig(margin=0.01, max_alerts_per_1000=40.0),
        registry=settings,
        publish=True,
    )
    anomaly = load_model(DEFAULT_MODEL_PATH) if DEFAULT_MODEL_PATH.exists() else None
    replayed = replay(options, default_rules(), anomaly)
    if registry.alias_version(settings.model_name, settings.champion_alias) is None:
        first = train_and_gate(
            replace(options, params=GbdtParams(trees=3), publish=False), replayed
        )
        print(f"no champion yet: registered a 3-tree model as the current one ({first['reason']})")
    report = train_and_gate(options, replayed)
    champion = report["champion"]
    print(f"\nretrain cycle: {report['decision'].upper()}: {report['reason']}")
    print(
        f"evaluation week {report['evaluation']['eval_from']} .. {report['evaluation']['eval_to']}"
    )
    print(
        _line(
            f"before (champion v{champion['registry_version']})" if champion else "before",
            champion["metrics"] if champion else None,
        )
    )
    print(
        _line(
            f"after (candidate v{report['candidate']['registry_version']})",
            report["candidate"]["metrics"],
        )
    )
    current = registry.alias_version(settings.model_name, settings.champion_alias)
    print(f"\nregistry {settings.url} model {settings.model_name}:")
    for version in sorted(registry.versions(settings.model_name), key=lambda v: int(v.version)):
        mark = "*" if current is not None and version.version == current.version else " "
        tags = version.tags
        print(
            f" {mark} v{version.version:<4} {tags.get('model_version', '?'):<22} "
            f"{tags.get('gate.decision', '?'):<9} AP {tags.get('average_precision', '?')}"
            f"  alerts/1000 {tags.get('alerts_per_1000', '?')}"
        )
    print("  (* = champion)")
    service = load_settings(ServiceSettings)
    held = in_force(slots(service.kafka, service.topics.fraud_models), settings.model_name)
    print(f"\nthe running job's model slots ({service.topics.fraud_models}):")
    for slot, release in held.items():
        text = f"{release.version} (registry v{release.registry_version})" if release else "-"
        print(f"  {slot.value:<8} {text}")
    print(json.dumps({"timings_s": report["timings_s"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
