"""Benchmark of the PyFlink scoring job against the local broker (run in the PyFlink env).

1. Throughput: pre-load ``--events`` transactions, start the job, time from the first to the last
   scored record visible to a read_committed consumer (job start-up excluded).
2. Latency: with the job running, produce at ``--rate`` events/s for ``--seconds``; a share of
   the customers is blacklisted (so their payments alert); latency = alert readable by a consumer
   minus the transaction's Kafka append timestamp. Alerts are at-least-once (docs/adr/0046).
3. Both again, back to back, with a current supervised model delivered over ``fraud.models``
   (200 trees of 15 splits over the 33 features, ``with_supervised_model``), so the model's cost
   is read next to the previous model's in the same sitting (issue 19).

Writes bench/results/scorer_flink.json. Command:
``PATH=services/fraud-scorer/.venv/bin:$PATH services/fraud-scorer/.venv/bin/python
bench/scorer_flink.py``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from confluent_kafka import Consumer, Producer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.thread_cpu import stop_group, tree_cpu_s
from streamflow.events import Channel, ModelSlot, PaymentMethod, Transaction, encode, encode_key
from streamflow.fraud_scorer.config import Settings as ScorerSettings
from streamflow.platform.kafka import consumer_config, delete_topics, ensure_topics, producer_config
from streamflow.platform.settings import KafkaSettings, TopicSettings
from streamflow.scoring.gbdt import GbdtModel, TreeArrays
from streamflow.scoring.model_release import release_of
from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "scorer_flink.json"
COMMAND = (
    "PATH=services/fraud-scorer/.venv/bin:$PATH services/fraud-scorer/.venv/bin/python "
    "bench/scorer_flink.py"
)


CUSTOMERS = 50_000
SPACING_MS = 60
"""Event time between consecutive bench transactions. With ``CUSTOMERS`` customers a customer
pays every 50 minutes of event time (their state and rules see what they saw at 5,000 customers
0.5 s apart), and each of the 20 stores' 1-minute windows holds ~50 payments: ~0.024 closed
window rows per transaction, what a platform taking 4,000 payments/s across ~5,800 active stores
emits. At 0.5 s apart a 1-minute window held 6 payments, and the store windows emitted ~0.2 rows
per transaction, 8x that: event time ran 2,000x faster than the bench's wall clock (issue #20
asks for realistic spacing, docs/adr/0081)."""


def txn(i: int, when: datetime, customers: int) -> Transaction:
    customer = f"B{i % customers:05d}"
    return Transaction(
        transaction_id=f"bench-{i}",
        event_time=when,
        customer_id=customer,
        card_id=f"K{customer}",
        merchant_id=f"M{i % 50:04d}",
        store_id=f"S{i % 20:04d}-01",
        amount=Decimal(f"{20 + (i * 7919) % 300}.{i % 100:02d}"),
        currency="BRL",
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel.POS,
        latitude=-23.5 + (i % 10) * 0.001,
        longitude=-46.6,
    )


def count_visible(
    consumer: Consumer, until: int, limit_s: float, job: subprocess.Popen[bytes]
) -> tuple[float, float, int, float]:
    first = last = 0.0
    seen = 0
    cpu_first = cpu_last = 0.0
    seen_first = 0
    deadline = time.monotonic() + limit_s
    while seen < until and time.monotonic() < deadline:
        if job.poll() is not None:
            msg = f"the scoring job exited with {job.returncode} after {seen} scored records"
            raise RuntimeError(msg)
        msgs = consumer.consume(5000, timeout=0.5)
        good = [m for m in msgs if m.error() is None]
        if good:
            now = time.monotonic()
            if not first:
                first, cpu_first, seen_first = now, tree_cpu_s(job.pid), len(good)
            last = now
            seen += len(good)
            if seen >= until:
                cpu_last = tree_cpu_s(job.pid)
    measured = cpu_last and seen > seen_first
    per_event = (cpu_last - cpu_first) / (seen - seen_first) if measured else 0.0
    return first, last, seen, per_event


def bench_model(trees: int = 200, depth: int = 4, seed: int = 3) -> GbdtModel:
    """A supervised model shaped like the trained one (200 trees of 15 splits over the 27
    features), random splits: what it costs to score, not what it catches."""
    rng = np.random.default_rng(seed)
    n_features = len(SUPERVISED_FEATURE_NAMES)
    per_tree = 2 ** (depth + 1) - 1
    inner = 2**depth - 1
    feature, threshold, left, right, value, roots = [], [], [], [], [], []
    for t in range(trees):
        base = t * per_tree
        roots.append(base)
        for node in range(per_tree):
            if node < inner:
                feature.append(int(rng.integers(0, n_features)))
                threshold.append(float(rng.normal(0.0, 2.0)))
                left.append(base + 2 * node + 1)
                right.append(base + 2 * node + 2)
                value.append(0.0)
            else:
                feature.append(-1)
                threshold.append(0.0)
                left.append(-1)
                right.append(-1)
                value.append(float(rng.normal(-0.02, 0.05)))
    arrays = TreeArrays(
        np.array(feature, dtype=np.int32),
        np.array(threshold),
        np.array(left, dtype=np.int32),
        np.array(right, dtype=np.int32),
        np.array(value),
        np.array(roots, dtype=np.int32),
    )
    meta = {
        "version": "gbdt-bench",
        "platt_a": 1.0,
        "platt_b": 0.0,
        "feature_names": list(SUPERVISED_FEATURE_NAMES),
    }
    return GbdtModel(arrays, meta)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=5_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument(
        "--no-supervised", action="store_true", help="skip the run with a supervised model"
    )
    args = parser.parse_args()
    kafka = KafkaSettings()
    result = run(args, kafka, supervised=False)
    if not args.no_supervised:
        # the same run again with a current supervised model (fraud.models), back to back
        with_model = run(args, kafka, supervised=True)
        result["with_supervised_model"] = {
            k: with_model.get(k)
            for k in (
                "model_version",
                "events_per_s",
                "job_cpu_us_per_event",
                "load_average_at_throughput_end",
                "p50_alert_latency_ms",
                "p99_alert_latency_ms",
            )
        }
        if result.get("job_cpu_us_per_event") and with_model.get("job_cpu_us_per_event"):
            result["with_supervised_model"]["cpu_ratio_to_previous_model"] = round(
                with_model["job_cpu_us_per_event"] / result["job_cpu_us_per_event"], 2
            )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


def run(args: argparse.Namespace, kafka: KafkaSettings, *, supervised: bool) -> dict[str, Any]:
    """One job run on fresh topics: throughput, then latency."""
    suffix = uuid.uuid4().hex[:8]
    topics = TopicSettings().model_copy(
        update={f: f"bench-{suffix}.{d}" for f, d in TopicSettings().model_dump().items()}
    )
    ensure_topics(kafka, topics)
    customers = CUSTOMERS
    blacklisted = {f"B{c:05d}" for c in range(0, customers, 100)}
    work = Path(tempfile.mkdtemp(prefix="scorer-bench-"))
    rules = work / "rules.json"
    rules.write_text(json.dumps({"version": 1, "blacklist": {"customer_ids": sorted(blacklisted)}}))
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update({f"STREAMFLOW_TOPIC_{k.upper()}": v for k, v in topics.model_dump().items()})
    env.update(
        {
            "STREAMFLOW_SCORER_GROUP_ID": f"bench-{suffix}",
            "STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX": f"bench-{suffix}",
            "STREAMFLOW_SCORER_CHECKPOINT_DIR": (work / "ckpt").as_uri(),
            "STREAMFLOW_SCORER_RULES_FILE": str(rules),
            "STREAMFLOW_FLINK_LOG_DIR": str(work / "logs"),
        }
    )
    producer = Producer(producer_config(kafka, "scorer-bench"))
    model_version = None
    if supervised:
        release = release_of(
            bench_model(),
            model_name="bench",
            slot=ModelSlot.CURRENT,
            published_at=datetime.now(UTC),
        )
        model_version = release.version
        producer.produce(topics.fraud_models, key=encode_key(release.key()), value=encode(release))
        producer.flush(30)
    # SPACING_MS of event time apart, all in the past: later ones would be dead-lettered as "too
    # far in the future" (the scorer's max_future check) and never reach transactions.scored.
    start = datetime.now(UTC) - timedelta(milliseconds=args.events * SPACING_MS + 3_600_000)
    for i in range(args.events):
        t = txn(i, start + timedelta(milliseconds=i * SPACING_MS), customers)
        producer.produce(topics.transactions_raw, key=encode_key(t.key()), value=encode(t))
        if i % 10_000 == 0:
            producer.poll(0)
    producer.flush(60)
    scored = Consumer(consumer_config(kafka, f"bench-read-{suffix}"))
    scored.assign([TopicPartition(topics.transactions_scored, p, 0) for p in range(3)])
    job = subprocess.Popen(
        [sys.executable, "-m", "streamflow.fraud_scorer.fraud_job"],
        env=env,
        stdout=(work / "job.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # What the job runs with: its own settings, read from the same environment (ADR 0042).
    scorer = ScorerSettings()
    model = scorer.model_path
    result: dict[str, Any] = {
        "events": args.events,
        "execution_mode": scorer.execution_mode,
        "parallelism": scorer.parallelism,
        "bundle_size": scorer.bundle_size,
        "bundle_time_ms": scorer.bundle_time_ms,
        "checkpoint_interval_ms": scorer.checkpoint_interval_ms,
        "alert_delivery": "at_least_once",
        "rules": "all rules plus the anomaly model when its file exists (else rules only)",
        "model_path": str(model) if model is not None else None,
        "model_loaded": model is not None and model.is_file(),
        "model_version": model_version,
        "command": COMMAND,
    }
    try:
        first, last, seen, cpu_per_event = count_visible(scored, args.events, limit_s=900, job=job)
        result["scored_seen"] = seen
        result["job_cpu_us_per_event"] = round(cpu_per_event * 1e6, 1)
        result["load_average_at_throughput_end"] = round(os.getloadavg()[0], 2)
        result["events_per_s"] = round(seen / (last - first), 1) if last > first else None
        result.update(latency(kafka, topics, producer, args, customers, blacklisted, job))
    finally:
        stop_group(job, timeout_s=60)
        scored.close()
        delete_topics(kafka, topics.as_map().values())
    return result


def latency(  # noqa: PLR0917
    kafka: KafkaSettings,
    topics: TopicSettings,
    producer: Producer,
    args: argparse.Namespace,
    customers: int,
    blacklisted: set[str],
    job: subprocess.Popen[bytes],
) -> dict[str, Any]:
    alerts = Consumer(consumer_config(kafka, f"bench-alerts-{uuid.uuid4().hex[:6]}"))
    alerts.assign([TopicPartition(topics.fraud_alerts, 0, 0)])
    while alerts.consume(10_000, timeout=2.0):
        pass  # skip the alerts of the throughput phase
    sent: dict[str, float] = {}

    def delivered(err: Any, msg: Any) -> None:
        if err is None:
            tid = json.loads(msg.value())["transaction_id"]
            if tid in sent:
                sent[tid] = msg.timestamp()[1] / 1000.0

    base = args.events
    total = args.rate * args.seconds
    t0 = time.time()
    for n in range(total):
        i = base + n
        t = txn(i, datetime.now(UTC), customers)
        if t.customer_id in blacklisted:
            sent[t.transaction_id] = 0.0
        producer.produce(
            topics.transactions_raw, key=encode_key(t.key()), value=encode(t), on_delivery=delivered
        )
        producer.poll(0)
        ahead = t0 + (n + 1) / args.rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    producer.flush(60)
    achieved = total / (time.time() - t0)
    lat: list[float] = []
    deadline = time.monotonic() + 120
    while len(lat) < len(sent) and time.monotonic() < deadline and job.poll() is None:
        for msg in alerts.consume(1000, timeout=0.5):
            if msg.error() is None:
                tid = json.loads(msg.value() or b"{}").get("transaction_id", "")
                if sent.get(tid):
                    lat.append(time.time() - sent.pop(tid))
    alerts.close()
    lat.sort()
    pct = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)) if lat else None
    return {
        "latency_rate_target": args.rate,
        "latency_rate_achieved": round(achieved, 1),
        "alerts_measured": len(lat),
        "alerts_missing": len([v for v in sent.values() if v]),
        "p50_alert_latency_ms": pct(0.5) if pct else None,
        "p99_alert_latency_ms": pct(0.99) if pct else None,
    }


if __name__ == "__main__":
    sys.exit(main())
