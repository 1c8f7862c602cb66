"""``streamflow-generate``: the command line (flags, their validation, what they select).

The run itself is :class:`streamflow.generator.runner.Runner`: labelled transactions into Kafka
and/or Parquet/JSONL files.

Examples::

    streamflow-generate --seed 7 --count 200000 --days 30 --out tx.parquet --labels-out y.parquet
    streamflow-generate --seed 7 --count 100000 --rate 5000 --malformed-rate 0.001   # to Kafka
    streamflow-generate --seed 7 --count 200000 --days 60 --scenarios learning \
        --labelled-out learn.parquet     # plus the not rule-shaped scenarios (docs/adr/0032)

Exit codes: 0 done (also after SIGTERM, once flushed), 1 delivery errors, 2 bad usage or
settings, 3 Kafka unreachable, 4 PostgreSQL unreachable while seeding the reference data.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from streamflow.generator.config import Settings
from streamflow.generator.files import UnsupportedFormatError, file_format
from streamflow.generator.runner import Runner
from streamflow.generator.scenarios import (
    FRAUD_SCENARIOS,
    LEARNING_RATES,
    Scenario,
    ScenarioConfig,
)
from streamflow.platform.settings import SettingsError, load_settings

SCENARIO_SETS = ("default", "learning")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="streamflow-generate",
        description="Generate a labelled, reproducible stream of Brazilian card transactions "
        "with fraud scenarios, into Kafka (default) or Parquet/JSONL files.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("what to generate")
    g.add_argument(
        "--seed", type=int, default=42, help="seed of everything (same seed, same bytes)"
    )
    g.add_argument("--count", type=int, default=10_000, help="transactions to generate")
    g.add_argument("--days", type=int, default=30, help="days of event time they span")
    g.add_argument(
        "--start", default="2026-10-01", help="first day (YYYY-MM-DD, Brasília time) or 'today'"
    )
    g.add_argument("--customers", type=int, default=10_000, help="customers in the reference data")
    g.add_argument("--merchants", type=int, default=None, help="merchants (default customers/20)")
    g.add_argument(
        "--scenarios",
        choices=SCENARIO_SETS,
        default="default",
        help="default: the rule-shaped scenarios (docs/adr/0030); learning: also "
        + ", ".join(f"{s.label}={r}" for s, r in LEARNING_RATES.items())
        + " (not rule-shaped, docs/adr/0032)",
    )
    g.add_argument(
        "--fraud-rate",
        type=float,
        default=None,
        help="total fraud share; scenario rates keep their proportions "
        "(default 0.015; 0.0195 with --scenarios learning)",
    )
    g.add_argument(
        "--scenario-rate",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help="one scenario's rate, e.g. card_testing=0.004 (repeatable); names: "
        + ", ".join(s.label for s in FRAUD_SCENARIOS),
    )
    g.add_argument(
        "--perturb",
        action="store_true",
        help="shift every scenario's rates/amounts/timing/bursts by seeded factors",
    )
    g.add_argument(
        "--perturb-seed", type=int, default=None, help="seed of --perturb (default --seed)"
    )
    g.add_argument(
        "--chargeback-delay-days",
        type=float,
        default=7.0,
        help="event-time delay before a fraud's chargeback is published",
    )
    g.add_argument(
        "--chargeback-jitter-hours",
        type=float,
        default=48.0,
        help="extra uniform random delay of chargebacks",
    )
    g.add_argument(
        "--late-rate", type=float, default=0.005, help="share of late/out-of-order events"
    )
    g.add_argument(
        "--late-max-seconds", type=float, default=900.0, help="max lateness (event time)"
    )
    g.add_argument(
        "--malformed-rate",
        type=float,
        default=0.0,
        help="extra broken payloads per transaction (Kafka only; exercises the DLQ)",
    )
    o = p.add_argument_group("outputs")
    o.add_argument("--out", help="transactions file (.parquet or .jsonl); contract fields only")
    o.add_argument("--labels-out", help="labels file: transaction_id, label 0/1, scenario")
    o.add_argument("--labelled-out", help="transactions joined with labels (backtest input)")
    o.add_argument(
        "--blacklist-out", help="JSON of the blacklisted cards/merchants (BlacklistRule)"
    )
    o.add_argument(
        "--kafka", action="store_true", help="also produce to Kafka when files are written"
    )
    o.add_argument(
        "--seed-reference",
        action="store_true",
        help="upsert the reference data into PostgreSQL (automatic with Kafka)",
    )
    o.add_argument("--no-seed-reference", action="store_true", help="never touch PostgreSQL")
    o.add_argument("--reference-only", action="store_true", help="seed the reference data and exit")
    s = p.add_argument_group("streaming")
    s.add_argument("--rate", type=float, default=None, help="max events/s (default: unlimited)")
    s.add_argument(
        "--speedup",
        type=float,
        default=None,
        help="event time runs this many times faster than wall time (default: no pacing)",
    )
    s.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="Prometheus /metrics port when streaming (0 disables; default 9101)",
    )
    s.add_argument(
        "--progress-interval", type=float, default=5.0, help="seconds between progress lines"
    )
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    return p  # fmt: skip


def validate(args: argparse.Namespace) -> list[str]:
    """Every problem with the flags (empty when they make sense together)."""
    problems: list[str] = []
    if args.count < 1:
        problems.append("--count must be >= 1")
    if args.days < 1:
        problems.append("--days must be >= 1")
    if args.customers < 50:
        problems.append("--customers must be >= 50")
    if args.merchants is not None and args.merchants < 20:
        problems.append("--merchants must be >= 20")
    for flag in ("rate", "speedup"):
        value = getattr(args, flag)
        if value is not None and not value > 0:
            problems.append(f"--{flag} must be > 0 (got {value})")
    for flag in ("fraud_rate", "late_rate", "malformed_rate"):
        value = getattr(args, flag)
        if value is not None and not 0.0 <= value <= 1.0:
            problems.append(f"--{flag.replace('_', '-')} must be within [0, 1] (got {value})")
    problems += _validate_timing(args) + _validate_outputs(args)
    return problems


def _validate_timing(args: argparse.Namespace) -> list[str]:
    problems: list[str] = []
    if args.chargeback_delay_days < 0 or args.chargeback_jitter_hours < 0:
        problems.append("chargeback delay and jitter must be >= 0")
    if args.late_max_seconds <= 1:
        problems.append("--late-max-seconds must be > 1")
    if args.metrics_port is not None and not 0 <= args.metrics_port <= 65535:
        problems.append("--metrics-port must be within [0, 65535]")
    try:
        rates = parse_scenario_rates(args.scenario_rate)
        if sum(rates.values()) > 1.0:
            problems.append("scenario rates add up to more than 1")
    except ValueError as exc:
        problems.append(str(exc))
    if args.start != "today":
        try:
            date.fromisoformat(args.start)
        except ValueError:
            problems.append(f"--start must be YYYY-MM-DD or 'today' (got {args.start!r})")
    return problems


def _validate_outputs(args: argparse.Namespace) -> list[str]:
    problems: list[str] = []
    paths = [x for x in (args.out, args.labels_out, args.labelled_out) if x]
    for path in paths:
        try:
            file_format(path)
        except UnsupportedFormatError as exc:
            problems.append(str(exc))
    if len(set(paths)) != len(paths):
        problems.append("--out, --labels-out and --labelled-out must be different files")
    if args.malformed_rate and not uses_kafka(args):
        problems.append("--malformed-rate needs Kafka output (no --out, or --kafka)")
    if args.seed_reference and args.no_seed_reference:
        problems.append("--seed-reference and --no-seed-reference contradict each other")
    if args.reference_only and args.no_seed_reference:
        problems.append("--reference-only needs PostgreSQL")
    return problems


def parse_scenario_rates(items: list[str]) -> dict[Scenario, float]:
    names = {s.label: s for s in FRAUD_SCENARIOS}
    rates: dict[Scenario, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in names:
            raise ValueError(
                f"--scenario-rate: unknown scenario {name!r}; known: {', '.join(names)}"
            )
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"--scenario-rate {item!r}: rate must be a number") from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"--scenario-rate {item!r}: rate must be within [0, 1]")
        rates[names[name]] = rate
    return rates


def uses_kafka(args: argparse.Namespace) -> bool:
    return bool(args.kafka or not (args.out or args.labelled_out))


def scenario_config(args: argparse.Namespace) -> ScenarioConfig:
    """Scenario set, then --fraud-rate scaling, then --scenario-rate overrides, then --perturb."""
    cfg = ScenarioConfig()
    if args.scenarios == "learning":
        cfg = cfg.with_learning()
    if args.fraud_rate is not None:
        cfg = cfg.scaled(args.fraud_rate)
    cfg = cfg.with_rates(parse_scenario_rates(args.scenario_rate))
    if args.perturb:
        cfg = cfg.perturbed(args.perturb_seed if args.perturb_seed is not None else args.seed)
    return cfg


def main(argv: list[str] | None = None) -> int:
    """Parse and check the flags, load the settings, run; the exit code (see above)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problems = validate(args)
    if problems:
        parser.error("; ".join(problems))
    try:
        settings = load_settings(Settings)
    except SettingsError as exc:
        print(f"streamflow-generate: {exc}", file=sys.stderr)
        return 2
    return Runner(args, settings, scenario_config(args), uses_kafka(args)).run()
