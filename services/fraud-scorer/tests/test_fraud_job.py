"""The scoring job against the real broker in a MiniCluster: scenarios, bad input, rule updates.

One job run covers every acceptance check that needs no restart, to keep ``make test`` short.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from streamflow.events import RuleSet, Transaction, encode, encode_key
from streamflow.platform.settings import KafkaSettings, TopicSettings

from .conftest import JobProcess, TopicReader, make_txn, produce, produce_txns, recent

pytestmark = [pytest.mark.integration, pytest.mark.flink]

MANAUS = (-3.119, -60.0217)


def legit_stream(start: datetime, customers: int, count: int, seed: int = 7) -> list[Transaction]:
    """Ordinary customers: steady amounts, home city, one payment every few hours."""
    rng = random.Random(seed)
    homes = {f"L{c:04d}": (rng.uniform(20, 200), rng.uniform(-30, -5)) for c in range(customers)}
    txns = []
    for i in range(count):
        customer = f"L{i % customers:04d}"
        mean, lat = homes[customer]
        when = start + timedelta(minutes=(i // customers) * 150 + rng.randint(0, 30))
        amount = f"{max(1.0, rng.gauss(mean, mean * 0.2)):.2f}"
        store = f"S{i % 7:04d}-01"
        txns.append(make_txn(f"legit-{i}", customer, when, amount, store=store, lat=lat, lon=-47.0))
    return txns


def scenarios(start: datetime) -> tuple[list[Transaction], dict[str, set[str]]]:
    """Fraud scenarios and the rule ids each fraudulent transaction must be alerted with."""
    txns: list[Transaction] = []
    for i in range(6):
        when = start + timedelta(hours=2 * i)
        txns.append(make_txn(f"thief-h{i}", "C-THIEF", when, "50.00"))
        txns.append(make_txn(f"burst-h{i}", "C-BURST", when, "40.00"))
    fraud_time = start + timedelta(hours=12, minutes=10)
    lat, lon = MANAUS
    txns.append(make_txn("thief-x", "C-THIEF", fraud_time, "1500.00", lat=lat, lon=lon))
    txns.extend(
        make_txn(f"burst-x{i}", "C-BURST", fraud_time + timedelta(seconds=20 * i), "400.00")
        for i in range(12)
    )
    return txns, {"thief-x": {"FR-001", "FR-003"}, "burst-x11": {"FR-001", "FR-002"}}


BAD_INPUTS = [
    (b"{not json", "json_invalid"),
    (b'{"transaction_id": 5}', None),
    (b'{"transaction_id": "x"}', "missing"),
]


def bad_inputs(now: datetime) -> list[tuple[bytes, str | None]]:
    good = json.loads(encode(make_txn("bad-base", "C-BAD", now)))
    negative = {**good, "amount": "-5.00"}
    currency = {**good, "currency": "XXQ"}
    future = {**good, "event_time": (now + timedelta(days=3)).isoformat()}
    return [
        *BAD_INPUTS,
        (json.dumps(negative).encode(), "greater_than"),
        (json.dumps(currency).encode(), None),
        (json.dumps(future).encode(), "event_time_in_future"),
    ]


def by_tid(values: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v.get("transaction_id") or v["transaction"]["transaction_id"]: v for v in values}


def test_scoring_job_end_to_end(
    job: JobProcess,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
    reader: Callable[..., TopicReader],
) -> None:
    start = recent(minutes=24 * 60)
    legit = legit_stream(start, customers=100, count=1000)
    fraud, expected = scenarios(start)
    bad = bad_inputs(recent())
    produce_txns(kafka_settings, topics.transactions_raw, legit + fraud)
    produce(
        kafka_settings,
        topics.transactions_raw,
        ((b'{"customer_id":"C-BAD"}', raw) for raw, _ in bad),
    )
    job.start()

    scored = reader(topics.transactions_scored)
    total = len(legit) + len(fraud)
    scored.poll_until(lambda values: len(values) >= total, job)
    assert len(by_tid(scored.values())) == total
    assert all(key is not None and json.loads(key)["customer_id"] for key, _ in scored.records)

    alerts = reader(topics.fraud_alerts, 1)
    alerted = by_tid(alerts.poll_until(lambda v: set(expected) <= set(by_tid(v)), job))
    for tid, rule_ids in expected.items():
        fired = {rule["rule_id"] for rule in alerted[tid]["triggered_rules"]}
        assert rule_ids <= fired, (tid, fired)
    legit_alerts = [v for v in alerts.values() if v["customer_id"].startswith("L")]
    assert len(legit_alerts) <= 2 * len(legit) / 1000

    dlq = reader(topics.dlq, 1)
    letters = dlq.poll_until(lambda v: len(v) >= len(bad), job)
    assert Counter(letter["stage"] for letter in letters) == {"scorer": len(bad)}
    kinds = [letter["error_type"] for letter in letters]
    assert all(kind is None or kind in kinds for _, kind in bad)

    # A rule update changes later scoring without a restart; bad updates are dead-lettered.
    produce_txns(kafka_settings, topics.transactions_raw, [make_txn("bl-0", "C-BL", recent())])
    v2 = RuleSet(version=2, created_at=recent()).model_copy(
        update={
            "blacklist": RuleSet(version=2, created_at=recent()).blacklist.model_copy(
                update={"customer_ids": frozenset({"C-BL"})}
            )
        }
    )
    stale = RuleSet(version=1, created_at=recent(), alert_threshold=0.9)
    produce(
        kafka_settings,
        topics.fraud_rules,
        [
            (encode_key(v2.key()), b"{broken"),
            (encode_key(v2.key()), encode(v2)),
            (encode_key(stale.key()), encode(stale)),
        ],
    )
    letters = dlq.poll_until(lambda v: sum(x["stage"] == "rules" for x in v) >= 2, job)
    assert {x["error_type"] for x in letters if x["stage"] == "rules"} == {
        "invalid_rule_set",
        "rule_set_not_newer",
    }
    probes = 0

    def rules_applied(values: list[dict[str, Any]]) -> bool:
        nonlocal probes
        probes += 1
        produce_txns(
            kafka_settings,
            topics.transactions_raw,
            [make_txn(f"probe-{probes}", "C-PROBE", recent())],
        )
        return any(
            v["rules_version"] == 2 for v in values if v["transaction"]["customer_id"] == "C-PROBE"
        )

    scored.poll_until(rules_applied, job)
    produce_txns(kafka_settings, topics.transactions_raw, [make_txn("bl-1", "C-BL", recent())])
    alerted = by_tid(alerts.poll_until(lambda v: "bl-1" in by_tid(v), job))
    assert "FR-005" in {rule["rule_id"] for rule in alerted["bl-1"]["triggered_rules"]}
    assert alerted["bl-1"]["rules_version"] == 2
    assert "bl-0" not in alerted

    # The real-time aggregator closes event-time windows of every size per store.
    metrics = reader(topics.metrics_realtime, 1)
    windows = metrics.poll_until(lambda v: {60, 300, 3600} <= {m["window_seconds"] for m in v}, job)
    assert all(m["count"] > 0 for m in windows)
    assert all(json.loads(key)["store_id"] == m["store_id"] for key, m in metrics.records if key)
