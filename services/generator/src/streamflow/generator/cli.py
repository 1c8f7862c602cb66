"""``streamflow-generate``: labelled transactions into Kafka and/or Parquet/JSONL files.

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
import json
import signal
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType

import numpy as np
import psycopg

from streamflow.events.rules import BlacklistRule
from streamflow.events.topics import Topic
from streamflow.generator.batch import Batch, IntArray
from streamflow.generator.config import Settings
from streamflow.generator.encoding import MALFORMED_KINDS, IdTables, encode_batch, malformed
from streamflow.generator.engine import RunSpec, Simulator, local_midnight_ms
from streamflow.generator.feedback import FeedbackQueue
from streamflow.generator.files import FileOutputs, UnsupportedFormatError, file_format
from streamflow.generator.kafka_sink import BrokerUnavailableError, KafkaSink
from streamflow.generator.metrics import GeneratorMetrics
from streamflow.generator.refdb import seed_reference
from streamflow.generator.reference import (
    FENCE_MERCHANTS,
    Reference,
    build_reference,
    card_id,
    merchant_id,
)
from streamflow.generator.scenarios import (
    FRAUD_SCENARIOS,
    LEARNING_RATES,
    Scenario,
    ScenarioConfig,
)
from streamflow.platform.settings import SettingsError, load_settings

SCENARIO_SETS = ("default", "learning")
SEND_SLICE = 5_000
ENCODE_SLICE = 10_000


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


def write_blacklist(path: str, ref: Reference) -> BlacklistRule:
    """The ids the blacklist scenario uses, as a BlacklistRule JSON the scorer can load."""
    rule = BlacklistRule(
        card_ids=frozenset(card_id(ref, int(k)) for k in ref.blacklisted_card_indices()),
        merchant_ids=frozenset(merchant_id(int(m)) for m in ref.blacklisted_merchants),
    )
    data = json.loads(rule.model_dump_json())
    for field in ("customer_ids", "card_ids", "merchant_ids"):
        data[field] = sorted(data[field])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return rule


class Runner:
    """One generator run: simulate, encode, emit, report."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.stop = False
        self.started = time.monotonic()
        self.counts: dict[str, int] = {"transactions": 0, "fraud": 0, "feedback": 0, "malformed": 0}
        self.per_scenario = dict.fromkeys((s.label for s in FRAUD_SCENARIOS), 0)
        self.metrics = GeneratorMetrics()
        self._last_progress = self.started
        self._sent = 0
        self._progress_sent = 0
        self._delivered_seen = 0
        self._errors_seen = 0
        self._resent_seen = 0
        self._event_ms = 0

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.log(f"[generator] signal {signum}: flushing and exiting")
        self.stop = True

    def run(self) -> int:
        args = self.args
        cfg = scenario_config(args)
        # fence merchants exist only when cash_out runs, so default reference data is unchanged
        fence = FENCE_MERCHANTS if cfg.params[Scenario.CASH_OUT].rate > 0 else 0
        ref = build_reference(args.seed, args.customers, args.merchants, fence_merchants=fence)
        if args.blacklist_out:
            write_blacklist(args.blacklist_out, ref)
        kafka = uses_kafka(args)
        if args.reference_only or args.seed_reference or (kafka and not args.no_seed_reference):
            try:
                written = seed_reference(self.settings.pg.dsn(), ref)
            except psycopg.OperationalError as exc:
                self.log(f"[generator] PostgreSQL unreachable while seeding reference data: {exc}")
                return 4
            self.log(f"[generator] reference data upserted: {written}")
            if args.reference_only:
                return 0
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        sink = None
        if kafka:
            sink = KafkaSink(self.settings, self.log)
            sink.stop_requested = lambda: self.stop
            try:
                sink.connect([Topic.TRANSACTIONS_RAW, Topic.FRAUD_FEEDBACK])
            except BrokerUnavailableError as exc:
                self.log(f"[generator] error: {exc}")
                return 3
            port = (
                args.metrics_port if args.metrics_port is not None else self.settings.metrics_port
            )
            self.metrics.serve(self.settings.metrics_host, port)
        files = FileOutputs(args.out, args.labels_out, args.labelled_out)
        try:
            self._loop(ref, cfg, sink, files)
        finally:
            files.close()
        return self._finish(sink)

    def _loop(
        self, ref: Reference, cfg: ScenarioConfig, sink: KafkaSink | None, files: FileOutputs
    ) -> None:
        args = self.args
        start = (
            local_midnight_ms(datetime.now(UTC).strftime("%Y-%m-%d"))
            if args.start == "today"
            else local_midnight_ms(args.start)
        )
        spec = RunSpec(
            args.seed, args.count, args.days, start, args.late_rate, args.late_max_seconds
        )
        ids = IdTables.build(ref, args.seed)
        feedback = FeedbackQueue(
            ids, args.seed, args.chargeback_delay_days, args.chargeback_jitter_hours
        )
        bad_rng = np.random.default_rng([args.seed, 3])
        topic_tx = self.settings.topics.name(Topic.TRANSACTIONS_RAW)
        topic_fb = self.settings.topics.name(Topic.FRAUD_FEEDBACK)
        for day in Simulator(ref, cfg, spec).chunks():
            # a simulated day is handled in slices so memory does not grow with events per day
            for lo in range(0, len(day), ENCODE_SLICE):
                batch = day.take(slice(lo, lo + ENCODE_SLICE))
                values, keys = encode_batch(batch, ids)
                files.write(batch, ids, values)
                if sink is not None:
                    before = self._sent
                    self._send_chunk(
                        sink=sink,
                        topic=topic_tx,
                        times=batch.t,
                        values=values,
                        keys=keys,
                        bad_rng=bad_rng,
                        start_ms=start,
                    )
                    if self.stop:  # count (and label) only what was actually produced
                        self._count(batch.take(np.arange(self._sent - before)))
                        return
                feedback.add(batch)
                self._count(batch)
            due = feedback.pop_due(int(day.t.max()) if len(day) else 0)
            if sink is not None and due[0]:
                sink.send(topic_fb, *due)
                self.counts["feedback"] += len(due[0])
                self.metrics.sent.labels("feedback").inc(len(due[0]))
        if sink is not None and not self.stop:
            rest = feedback.pop_due(None)
            if rest[0]:
                sink.send(topic_fb, *rest)
                self.counts["feedback"] += len(rest[0])
                self.metrics.sent.labels("feedback").inc(len(rest[0]))

    def _count(self, batch: Batch) -> None:
        self.counts["transactions"] += len(batch)
        self.counts["fraud"] += int(batch.label.sum())
        for s, n in zip(*np.unique(batch.scen, return_counts=True), strict=True):
            if s:
                self.per_scenario[Scenario(int(s)).label] += int(n)

    def _send_chunk(
        self,
        *,
        sink: KafkaSink,
        topic: str,
        times: IntArray,
        values: list[bytes],
        keys: list[bytes],
        bad_rng: np.random.Generator,
        start_ms: int,
    ) -> None:
        args = self.args
        for lo in range(0, len(values), SEND_SLICE):
            self._pace(int(times[lo]), start_ms)
            if self.stop:
                return
            part_v, part_k = values[lo : lo + SEND_SLICE], keys[lo : lo + SEND_SLICE]
            sent = sink.send(topic, part_v, part_k)
            self.metrics.sent.labels("transaction").inc(sent)
            if args.malformed_rate:
                picks = np.flatnonzero(bad_rng.random(len(part_v)) < args.malformed_rate)
                kinds = bad_rng.integers(0, len(MALFORMED_KINDS), len(picks))
                bad = [
                    malformed(part_v[i], MALFORMED_KINDS[k])
                    for i, k in zip(picks, kinds, strict=True)
                ]
                sink.send(topic, bad, [part_k[i] for i in picks])
                self.counts["malformed"] += len(bad)
                self.metrics.sent.labels("malformed").inc(len(bad))
            self._sent += sent
            self._event_ms = int(times[min(lo + SEND_SLICE, len(values)) - 1])
            self._progress(sink)

    def _pace(self, event_ms: int, start_ms: int) -> None:
        """Sleep until both ``--rate`` and ``--speedup`` allow the next slice."""
        args = self.args
        if args.rate is None and args.speedup is None:
            return
        target = 0.0
        if args.rate is not None:
            target = self._sent / args.rate
        if args.speedup is not None:
            target = max(target, (event_ms - start_ms) / 1000.0 / args.speedup)
        while not self.stop and (wait := target - (time.monotonic() - self.started)) > 0:
            time.sleep(min(wait, 0.2))

    def _progress(self, sink: KafkaSink, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < self.args.progress_interval:
            return
        elapsed = max(now - self._last_progress, 1e-9)
        rate = (self._sent - self._progress_sent) / elapsed
        self._progress_sent, self._last_progress = self._sent, now
        self.metrics.rate.set(rate)
        self.metrics.event_time.set(self._event_ms / 1000)
        delivered, errors, resent = sink.delivered, sink.errors, sink.resent
        self.metrics.delivered.inc(max(0, delivered - self._delivered_seen))
        self.metrics.errors.inc(max(0, errors - self._errors_seen))
        self.metrics.resent.inc(max(0, resent - self._resent_seen))
        # a timed-out (re-sent) record is a failed delivery for readiness: the broker is away
        self.metrics.note_deliveries(
            delivered - self._delivered_seen,
            errors - self._errors_seen + resent - self._resent_seen,
        )
        self._delivered_seen, self._errors_seen = delivered, errors
        self._resent_seen = resent
        if not self.args.quiet:
            event_time = datetime.fromtimestamp(self._event_ms / 1000, tz=UTC).isoformat()
            self.log(
                f"[generator] sent={self._sent} rate={rate:,.0f}/s delivered={delivered} "
                f"errors={errors} resent={resent} malformed={self.counts['malformed']} "
                f"feedback={self.counts['feedback']} event_time={event_time}"
            )

    def _finish(self, sink: KafkaSink | None) -> int:
        # Long enough for one more delivery window after a timed-out record is re-sent: a broker
        # that is down when the stream ends gets the same patience as one down mid-stream.
        patience = 2.0 * self.settings.delivery_timeout_s + 10.0
        unflushed = sink.flush(patience) if sink is not None else 0
        if sink is not None:
            self._progress(sink, force=True)
        seconds = time.monotonic() - self.started
        summary: dict[str, object] = {
            **self.counts,
            "scenarios": self.per_scenario,
            "seconds": round(seconds, 3),
            "events_per_s": round(self.counts["transactions"] / seconds, 1) if seconds else None,
            "stopped_by_signal": self.stop,
        }
        if sink is not None:
            summary |= {"delivered": sink.delivered, "errors": sink.errors, "unflushed": unflushed}
            summary["resent"] = sink.resent
        print(json.dumps(summary), flush=True)
        if sink is not None and (sink.errors or unflushed):
            self.log(
                f"[generator] {sink.errors} delivery errors, {unflushed} unflushed: "
                f"{sink.last_error}"
            )
            return 1
        return 0


def main(argv: list[str] | None = None) -> int:
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
    return Runner(args, settings).run()
