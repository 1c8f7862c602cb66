"""The backtest and the Flink job score one seed-pinned generator stream the same (issue #4).

The generator (main environment, as a subprocess) writes its stream to throwaway staging topics
and files: the ``transactions.raw`` values (``--out`` JSONL, emission order), the labelled file
for the backtest and its chargebacks (``fraud.feedback``, read back from the staging topic). The
job in a MiniCluster then gets those exact bytes on its own topics, and its ``transactions.scored``
(read_committed) is compared with :func:`streamflow.lab.backtest.score_rows`.

(a) No feedback, default rules: every transaction has the identical score, alert flag and fired
    rule ids (the backtest replays in arrival order, the order the job reads the topic).
(b) With the chargebacks, delivered as in a replay: all of them on ``fraud.feedback`` before the
    job starts, far ahead of the transactions they follow. The job counts a label for a payment
    only if it was reported by the payment's event time; the backtest replays in event-time order
    with each label due at its ``reported_at``. At least 99 % must agree; why the rest differ
    (late events: customer state in arrival vs event-time order): docs/adr/0043.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streamflow.events import Feedback, Label, Transaction, decode, encode_key
from streamflow.lab.backtest import FeedbackLabel, score_rows
from streamflow.lab.labelled_file import LabelledRow, read_labelled
from streamflow.platform.kafka import consumer_config
from streamflow.platform.settings import KafkaSettings, TopicSettings
from streamflow.scoring.gbdt import read_gbdt
from streamflow.scoring.model import load_model
from streamflow.scoring.rulesets import default_rules
from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

from .conftest import REPO, JobProcess, TopicReader, produce

pytestmark = [pytest.mark.integration, pytest.mark.flink, pytest.mark.timeout(1200)]

PARITY_TRANSACTIONS = 10_000
"""Size of the compared stream (the one knob for this file's run time)."""
GENERATOR_ARGS = ("--seed", "7", "--days", "30", "--customers", "1000", "--start", "2026-10-01")
"""1,000 customers: enough history per customer for the fraud scenarios (and so chargebacks)."""
MODEL = REPO / "models" / "anomaly-iforest.npz"
STARTER = REPO / "models" / "fraud-gbdt.npz"
"""The shipped starter model, current in the job as deployed: the features it sees are compared."""
MAIN_PYTHON = REPO / ".venv" / "bin" / "python"
HOT_CUSTOMERS = 300
"""The job's cache of recently active customers' states in the exact comparison: smaller than the
stream's 1,000 customers, so some events find their customer's state in memory and the others
read it back from Flink's state (docs/adr/0126); the scores must not depend on which."""
HOT_MERCHANTS = 20
"""The merchant-traffic operator's merchants held in memory: fewer than the stream's 50, so
merchants leave memory (written to Flink's state) and are read back (docs/adr/0128)."""
MIN_AGREEMENT_WITH_FEEDBACK = 0.99
WAIT_S = 600.0

Verdict = tuple[float, bool, frozenset[str]]
"""What is compared per transaction: score, is_alert, ids of the triggered rules."""


@dataclass(frozen=True)
class GeneratorRun:
    """One generator run: raw values in emission order, the labelled file, the chargebacks."""

    raw: list[bytes]
    labelled: Path
    feedback: list[bytes]


def _read_topic(kafka: KafkaSettings, topic: str, count: int) -> list[bytes]:
    consumer = Consumer(consumer_config(kafka, f"test-parity-{os.getpid()}-{time.time_ns()}"))
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        values: list[bytes] = []
        deadline = time.monotonic() + 60
        while len(values) < count:
            assert time.monotonic() < deadline, f"only {len(values)} of {count} on {topic}"
            for msg in consumer.consume(500, timeout=0.5):
                value = msg.value() if msg.error() is None else None
                if value is not None:
                    values.append(value)
        return values
    finally:
        consumer.close()


def generate(tmp_path: Path, kafka: KafkaSettings, staging: TopicSettings) -> GeneratorRun:
    """Run the generator (main environment) into the staging topics and files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "COVERAGE_"))}
    env.update({f"STREAMFLOW_TOPIC_{k.upper()}": v for k, v in staging.model_dump().items()})
    env["STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS"] = kafka.bootstrap_servers
    raw_file, labelled = tmp_path / "transactions.jsonl", tmp_path / "labelled.parquet"
    command = [str(MAIN_PYTHON), "-m", "streamflow.generator", *GENERATOR_ARGS]
    command += ["--count", str(PARITY_TRANSACTIONS), "--kafka", "--no-seed-reference", "--quiet"]
    command += ["--metrics-port", "0", "--out", str(raw_file), "--labelled-out", str(labelled)]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    summary = json.loads(done.stdout.decode().strip().splitlines()[-1])
    raw = raw_file.read_bytes().splitlines()
    assert len(raw) == summary["transactions"] == PARITY_TRANSACTIONS
    feedback = _read_topic(kafka, staging.fraud_feedback, summary["feedback"])
    return GeneratorRun(raw, labelled, feedback)


def keyed(values: Iterable[bytes]) -> list[tuple[bytes | None, bytes]]:
    """``(key, value)`` of transaction values, keyed as the generator keys them."""
    return [(encode_key(decode(Transaction, value).key()), value) for value in values]


def job_features(values: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    return {v["transaction"]["transaction_id"]: v["features"] for v in values}


def job_verdicts(values: Sequence[dict[str, Any]]) -> dict[str, Verdict]:
    return {
        v["transaction"]["transaction_id"]: (
            v["fraud_score"],
            v["is_alert"],
            frozenset(c["rule_id"] for c in v["rule_contributions"] if c["triggered"]),
        )
        for v in values
    }


def backtest_verdicts(
    rows: Iterable[LabelledRow],
    feedback: Iterable[FeedbackLabel] = (),
    features: dict[str, list[float]] | None = None,
) -> dict[str, Verdict]:
    """The backtest's verdicts (with the starter model as the job has it); ``features`` gets
    every row's feature vector."""
    rules = default_rules()
    model = load_model(MODEL)
    assert model is not None, f"{MODEL} is missing (make train)"
    out: dict[str, Verdict] = {}
    for row, ev in score_rows(rows, rules, model, feedback, read_gbdt(STARTER)):
        tid = row.view.transaction_id
        fired = frozenset(p.rule_id for p in ev.parts if p.triggered)
        out[tid] = (ev.score, ev.score >= rules.alert_threshold, fired)
        if features is not None:
            features[tid] = list(ev.features or [])
    return out


def start_job(job: JobProcess, checkpoint_ms: int = 1000) -> None:
    job.env["STREAMFLOW_SCORER_MODEL_PATH"] = str(MODEL)
    job.env["STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH"] = str(STARTER)
    job.env["STREAMFLOW_SCORER_CHECKPOINT_INTERVAL_MS"] = str(checkpoint_ms)
    job.start()


def wait_scored(scored: TopicReader, job: JobProcess, count: int) -> None:
    scored.poll_until(lambda values: len(values) >= count, job, limit_s=WAIT_S)


def labels_of(feedback: Iterable[bytes]) -> list[tuple[FeedbackLabel, bytes]]:
    out = []
    for raw in feedback:
        fb = decode(Feedback, raw)
        fraud = fb.label is Label.FRAUD
        label = FeedbackLabel(fb.reported_at.timestamp(), fb.merchant_id, fraud, fb.card_id or "")
        out.append((label, raw))
    out.sort(key=lambda item: item[0].reported_at)
    return out


def test_backtest_equals_job_without_feedback(
    job: JobProcess,
    topics: TopicSettings,
    staging_topics: TopicSettings,
    kafka_settings: KafkaSettings,
    reader: Callable[..., TopicReader],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    run = generate(tmp_path, kafka_settings, staging_topics)
    # One partition: the job reads the stream in file order, so the merchants' traffic (counted
    # in the JVM, in read order) must equal the backtest's exactly. With several partitions a
    # backlog is read partition by partition (test below; docs/adr/0058).
    raw_topic = f"{topics.transactions_raw}-one"
    _create_topic(kafka_settings, raw_topic, partitions=1)
    job.env["STREAMFLOW_TOPIC_TRANSACTIONS_RAW"] = raw_topic
    job.env["STREAMFLOW_SCORER_HOT_CUSTOMERS"] = str(HOT_CUSTOMERS)
    job.env["STREAMFLOW_SCORER_HOT_MERCHANTS"] = str(HOT_MERCHANTS)
    produce(kafka_settings, raw_topic, keyed(run.raw))
    start_job(job)
    scored = reader(topics.transactions_scored)
    wait_scored(scored, job, len(run.raw))
    from_job = job_verdicts(scored.values())
    vectors: dict[str, list[float]] = {}
    expected = backtest_verdicts(read_labelled(run.labelled, arrival_order=True), (), vectors)
    assert from_job.keys() == expected.keys()
    differing = [tid for tid in expected if from_job[tid] != expected[tid]]
    job_vectors = job_features(scored.values())
    other_vectors = [tid for tid in vectors if job_vectors[tid] != vectors[tid]]
    with capsys.disabled():
        print(
            f"\n[parity] no feedback: {len(expected) - len(differing)}/{len(expected)} identical"
            f" (score, alert, fired rules); {sum(v[1] for v in expected.values())} alerts;"
            f" {len(vectors) - len(other_vectors)} identical feature vectors (merchant traffic"
            f" counted in the JVM); {time.monotonic() - started:.0f} s"
        )
    values = [json.loads(value) for value in run.raw]
    held = _held_in_memory([value["customer_id"] for value in values], HOT_CUSTOMERS)
    merchants = [value["merchant_id"] for value in values]
    merchants_held = _held_in_memory(merchants, HOT_MERCHANTS)
    with capsys.disabled():
        print(
            f"[parity] customer state found in memory for {held} events, read from Flink's"
            f" state for {len(run.raw) - held} (cache of {HOT_CUSTOMERS} customers); merchant"
            f" buckets in memory for {merchants_held}, read for {len(run.raw) - merchants_held}"
            f" ({HOT_MERCHANTS} held of {len(set(merchants))} merchants)"
        )
    assert 0 < held < len(run.raw)
    assert 0 < merchants_held < len(run.raw)
    assert not differing, [(tid, from_job[tid], expected[tid]) for tid in differing[:10]]
    assert not other_vectors, _vector_differences(job_vectors, vectors, other_vectors)


def _held_in_memory(keys: Sequence[str], capacity: int) -> int:
    """Events whose key's state a cache of ``capacity`` keys held (least recently active out
    first), for this arrival order."""
    held: OrderedDict[str, None] = OrderedDict()
    hits = 0
    for key in keys:
        if key in held:
            hits += 1
            held.move_to_end(key)
            continue
        held[key] = None
        if len(held) > capacity:
            held.popitem(last=False)
    return hits


def test_backtest_agrees_with_job_with_feedback(
    job: JobProcess,
    topics: TopicSettings,
    staging_topics: TopicSettings,
    kafka_settings: KafkaSettings,
    reader: Callable[..., TopicReader],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    run = generate(tmp_path, kafka_settings, staging_topics)
    labelled = labels_of(run.feedback)
    labels = [label for label, _ in labelled]
    rows = list(read_labelled(run.labelled, arrival_order=True))
    assert [row.view.transaction_id for row in rows] == [
        json.loads(v)["transaction_id"] for v in run.raw
    ]
    assert labels, "no chargebacks: the stream is too small"
    # A replay: every chargeback is on the topic before the first transaction is scored. The
    # job counts a label for a payment only if it was reported by the payment's event time
    # (MerchantLabels, docs/adr/0040), so arrival order must not matter.
    produce(kafka_settings, topics.fraud_feedback, (_feedback_record(raw) for _, raw in labelled))
    produce(kafka_settings, topics.transactions_raw, keyed(run.raw))
    # sweep the card labels often: the real broadcast state is iterated, and nothing here is
    # idle long enough to be dropped, so parity must hold
    job.env["STREAMFLOW_SCORER_CARD_SWEEP_EVERY"] = "5"
    # no merchant held in memory: the merchant-traffic operator reads and writes Flink's state
    # on every record here (the exact test above holds 20 of them, docs/adr/0128)
    job.env["STREAMFLOW_SCORER_HOT_MERCHANTS"] = "0"
    start_job(job)
    scored = reader(topics.transactions_scored)
    wait_scored(scored, job, len(run.raw))
    from_job = job_verdicts(scored.values())

    vectors: dict[str, list[float]] = {}
    expected = backtest_verdicts(read_labelled(run.labelled), labels, vectors)
    job_vectors = job_features(scored.values())
    same_vectors = sum(job_vectors[tid] == vectors[tid] for tid in vectors)
    assert from_job.keys() == expected.keys()
    same_score = [tid for tid in expected if from_job[tid][0] == expected[tid][0]]
    share = len(same_score) / len(expected)
    same_all = sum(from_job[tid] == expected[tid] for tid in expected)
    differing = set(expected) - set(same_score)
    late_customers = _customers_with_late_events(rows)
    by_late = sum(
        row.view.customer_id in late_customers
        for row in rows
        if row.view.transaction_id in differing
    )
    with capsys.disabled():
        print(
            f"\n[parity] with feedback: {len(same_score)}/{len(expected)} identical scores"
            f" ({share:.2%}), {same_all} identical in score, alert and fired rules;"
            f" {len(labels)} chargebacks, all read before the transactions;"
            f" {by_late} of {len(differing)} differing at customers with a late event;"
            f" {same_vectors} identical feature vectors (3 partitions read as a backlog);"
            f" {time.monotonic() - started:.0f} s"
        )
    assert share >= MIN_AGREEMENT_WITH_FEEDBACK


def _create_topic(kafka: KafkaSettings, name: str, partitions: int) -> None:
    admin = AdminClient(kafka.client_config())
    future = admin.create_topics([NewTopic(name, num_partitions=partitions)])[name]
    future.result(timeout=30)


def _vector_differences(
    job: dict[str, list[float]], lab: dict[str, list[float]], differing: Sequence[str]
) -> dict[str, Any]:
    """Per feature, how many vectors differ in it, and the first few examples."""
    counts: dict[str, int] = {}
    examples: list[tuple[str, str, float, float]] = []
    for tid in differing:
        for name, a, b in zip(SUPERVISED_FEATURE_NAMES, job[tid], lab[tid], strict=True):
            if a != b:
                counts[name] = counts.get(name, 0) + 1
                if len(examples) < 6:
                    examples.append((tid, name, a, b))
    return {"differing": len(differing), "per_feature": counts, "examples": examples}


def _feedback_record(raw: bytes) -> tuple[bytes, bytes]:
    return encode_key(decode(Feedback, raw).key()), raw


def _customers_with_late_events(rows: Sequence[LabelledRow]) -> set[str]:
    """Customers with a payment that arrived after a later one (event-time vs arrival order)."""
    latest, late = float("-inf"), set()
    for row in rows:
        if row.view.epoch < latest:
            late.add(row.view.customer_id)
        latest = max(latest, row.view.epoch)
    return late
