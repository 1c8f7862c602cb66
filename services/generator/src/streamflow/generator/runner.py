"""One generator run from parsed flags: simulate, encode, write files and/or produce to Kafka.

The simulation is handled a day at a time and encoded in slices (memory stays flat); each slice
goes to the files, then to Kafka (paced by :mod:`~streamflow.generator.pacing`, with the
``--malformed-rate`` broken copies), and its frauds join the chargeback queue, whose due
chargebacks go to ``fraud.feedback`` after each day (the rest at the end). A SIGTERM/SIGINT stops
at the next slice; only what was produced is counted. The summary is one JSON line on stdout.
Exit codes as documented in :mod:`~streamflow.generator.cli`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from datetime import UTC, datetime
from types import FrameType

import numpy as np
import psycopg

from streamflow.events.topics import Topic
from streamflow.generator.batch import Batch, IntArray
from streamflow.generator.config import Settings
from streamflow.generator.encoding import MALFORMED_KINDS, IdTables, encode_batch, malformed
from streamflow.generator.engine import RunSpec, Simulator, local_midnight_ms
from streamflow.generator.feedback import FeedbackQueue
from streamflow.generator.files import FileOutputs, write_blacklist
from streamflow.generator.kafka_sink import BrokerUnavailableError, KafkaSink
from streamflow.generator.metrics import GeneratorMetrics
from streamflow.generator.pacing import Pacer
from streamflow.generator.progress import Progress
from streamflow.generator.refdb import seed_reference
from streamflow.generator.reference import FENCE_MERCHANTS, Reference, build_reference
from streamflow.generator.scenarios import FRAUD_SCENARIOS, Scenario, ScenarioConfig

SEND_SLICE = 5_000
ENCODE_SLICE = 10_000


class Runner:
    """One generator run: simulate, encode, emit, report."""

    def __init__(
        self, args: argparse.Namespace, settings: Settings, cfg: ScenarioConfig, kafka: bool
    ) -> None:
        self.args = args
        """The parsed, validated flags (``cli.build_parser``, ``cli.validate``)."""
        self.settings = settings
        self.cfg = cfg
        """The scenario rates and parameters the flags select (``cli.scenario_config``)."""
        self.kafka = kafka
        """Whether to produce to Kafka (``cli.uses_kafka``)."""
        self.stop = False
        self.started = time.monotonic()
        self.counts: dict[str, int] = {"transactions": 0, "fraud": 0, "feedback": 0, "malformed": 0}
        self.per_scenario = dict.fromkeys((s.label for s in FRAUD_SCENARIOS), 0)
        self.metrics = GeneratorMetrics()
        self.progress = Progress(
            self.metrics, args.progress_interval, None if args.quiet else self.log, self.started
        )
        self._sent = 0
        self._event_ms = 0

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.log(f"[generator] signal {signum}: flushing and exiting")
        self.stop = True

    def run(self) -> int:
        args, cfg = self.args, self.cfg
        # fence merchants exist only when cash_out runs, so default reference data is unchanged
        fence = FENCE_MERCHANTS if cfg.params[Scenario.CASH_OUT].rate > 0 else 0
        ref = build_reference(args.seed, args.customers, args.merchants, fence_merchants=fence)
        if args.blacklist_out:
            write_blacklist(args.blacklist_out, ref)
        kafka = self.kafka
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
        pacer = Pacer(args.rate, args.speedup, start, self.started)
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
                        pacer=pacer,
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
        pacer: Pacer,
    ) -> None:
        args = self.args
        for lo in range(0, len(values), SEND_SLICE):
            pacer.wait(self._sent, int(times[lo]), lambda: self.stop)
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

    def _progress(self, sink: KafkaSink, force: bool = False) -> None:
        self.progress.report(
            sink, sent=self._sent, event_ms=self._event_ms, counts=self.counts, force=force
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
