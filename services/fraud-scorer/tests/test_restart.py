"""Kill -9 the scoring job mid-stream and restart it from its last retained checkpoint.

Every input must appear exactly once in ``transactions.scored`` (read_committed) and no alert may
be duplicated after deduplication on ``alert_id``. The short variant runs in ``make test``; the
long one (``-m slow``) in ``make test-faults``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streamflow.events import Transaction
from streamflow.fraud_scorer.runner.checkpoints import latest_checkpoint
from streamflow.platform.settings import KafkaSettings, TopicSettings
from streamflow.scoring.context import MerchantTraffic
from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

from .conftest import REPO, JobProcess, TopicReader, make_txn, produce_txns, recent
from .test_fraud_job import legit_stream, scenarios

pytestmark = [pytest.mark.integration, pytest.mark.flink]


def run_kill_restart(
    job: JobProcess,
    topics: TopicSettings,
    kafka: KafkaSettings,
    reader: Callable[..., TopicReader],
    count: int,
    kills: int,
    check_merchant_traffic: bool = False,
) -> None:
    """``check_merchant_traffic``: one partition (read order = produce order), the starter model
    (so records carry the feature vector) and 3 merchants held in memory: every record's merchant
    traffic must equal an uninterrupted count's, whatever the kills cut (docs/adr/0128)."""
    raw_topic = topics.transactions_raw
    if check_merchant_traffic:
        raw_topic = f"{topics.transactions_raw}-one"
        admin = AdminClient(kafka.client_config())
        admin.create_topics([NewTopic(raw_topic, num_partitions=1)])[raw_topic].result(timeout=30)
        job.env["STREAMFLOW_TOPIC_TRANSACTIONS_RAW"] = raw_topic
        job.env["STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH"] = str(REPO / "models/fraud-gbdt.npz")
        job.env["STREAMFLOW_SCORER_HOT_MERCHANTS"] = "3"
    customers = 200
    # Every event in the past: legit_stream spaces a customer's payments 150 min apart, and the
    # scorer dead-letters events more than 5 minutes in the future (they would never be scored).
    span_minutes = (count // customers) * 150 + 60
    start = recent(minutes=max(24 * 60, span_minutes))
    fraud, _ = scenarios(start)
    inputs = legit_stream(start, customers=customers, count=count) + fraud
    produce_txns(kafka, raw_topic, inputs)
    scored = reader(topics.transactions_scored)
    checkpoints = job.env["STREAMFLOW_SCORER_CHECKPOINT_DIR"]
    for kill in range(1, kills + 1):
        job.start()
        target = len(inputs) * kill // (kills + 1)

        def progressed(values: list[dict[str, Any]], target: int = target) -> bool:
            return len(values) >= target and latest_checkpoint(checkpoints) is not None

        scored.poll_until(progressed, job)
        job.kill()
    job.start()
    markers = [make_txn(f"marker-{i}", f"MK{i:03d}", recent()) for i in range(30)]
    produce_txns(kafka, raw_topic, markers)
    marker_ids = {m.transaction_id for m in markers}
    values = scored.poll_until(
        lambda vs: marker_ids <= {v["transaction"]["transaction_id"] for v in vs}, job
    )
    seen = Counter(v["transaction"]["transaction_id"] for v in values)
    expected = {t.transaction_id for t in inputs} | marker_ids
    assert set(seen) == expected
    assert max(seen.values()) == 1, [tid for tid, n in seen.items() if n > 1][:10]

    if check_merchant_traffic:
        assert_merchant_traffic(inputs + markers, values)

    alerted = {v["transaction"]["transaction_id"] for v in values if v["is_alert"]}
    alerts = reader(topics.fraud_alerts, 1)
    found = alerts.poll_until(lambda vs: alerted <= {a["transaction_id"] for a in vs}, job)
    deduplicated = {a["alert_id"]: a for a in found}
    assert sorted(a["transaction_id"] for a in deduplicated.values()) == sorted(alerted)


def assert_merchant_traffic(inputs: Sequence[Transaction], values: list[dict[str, Any]]) -> None:
    """Each scored record's merchant payments (1, 7, 30 days) equal the lab's count of the
    inputs in read order: nothing the kills cut was lost or counted twice."""
    first = SUPERVISED_FEATURE_NAMES.index("merchant_log_payments_1d")
    traffic: dict[str, MerchantTraffic] = {}
    expected: dict[str, list[float]] = {}
    for txn in inputs:
        merchant = traffic.setdefault(txn.merchant_id, MerchantTraffic())
        when = txn.event_time.timestamp()
        expected[txn.transaction_id] = [math.log1p(c) for c in merchant.before(when)]
        merchant.add(when)
    got = {v["transaction"]["transaction_id"]: v["features"][first : first + 3] for v in values}
    differing = [tid for tid in expected if got[tid] != expected[tid]]
    assert not differing, [(tid, got[tid], expected[tid]) for tid in differing[:5]]
    assert any(e[0] > 0 for e in expected.values())  # some day before had payments


def test_kill_and_restart_exactly_once(
    job: JobProcess,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
    reader: Callable[..., TopicReader],
) -> None:
    run_kill_restart(
        job, topics, kafka_settings, reader, count=2000, kills=1, check_merchant_traffic=True
    )


@pytest.mark.slow
# 30k events, three kill -9s and four MiniCluster starts: ~5 min idle, longer on a shared machine;
# poll_until already fails a job that stops making progress, so the session limit (600 s) is lifted.
@pytest.mark.timeout(2400)
def test_kill_and_restart_exactly_once_long(
    job: JobProcess,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
    reader: Callable[..., TopicReader],
) -> None:
    run_kill_restart(job, topics, kafka_settings, reader, count=30_000, kills=3)
