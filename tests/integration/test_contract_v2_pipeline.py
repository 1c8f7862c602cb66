"""A v2 transaction contract end to end: its events land next to v1 events with zero rejects.

Issue #18's acceptance: the services run as they would after the next bump of the transaction
contract (``contract_v2.TransactionV2``: version N = 2 with one new optional field, installed in
each service process at start-up), and a producer that already writes v2 shares
``transactions.raw`` with one still writing v1 (N-1). A few hundred of each, interleaved, for a
handful of customers, one of them blacklisted so both versions raise alerts. Every event must go
through the real PyFlink scorer, the real ingestor (bronze), dbt (silver and gold, with the
validation policy's vars regenerated for the v2 contract, as a bump regenerates them) and the
alert API (the customer timeline from its projection, detection quality from gold) with no dead
letter anywhere and no silver reject; bronze keeps the version each producer wrote.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from confluent_kafka import Producer

from streamflow.alert_api.config import Settings as ApiSettings
from streamflow.alert_api.keys import create_key
from streamflow.events import (
    BlacklistRule,
    Channel,
    PaymentMethod,
    RuleSet,
    Transaction,
    encode,
    encode_key,
    policy,
)
from streamflow.platform.kafka import producer_config
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings
from streamflow.testkit.accounting import scan_topic

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tests.*` helpers are imported from the repository root
    sys.path.insert(0, str(REPO))

from scripts.warehouse import policy_vars  # noqa: E402
from tests.integration.contract_v2 import NEW_FIELD, V2, TransactionV2, write_site_hook  # noqa: E402
from tests.integration.pipeline_processes import (  # noqa: E402
    FLINK_PYTHON,
    ServiceProcess,
    alert_api_process,
    describe_all,
    ingestor_process,
    pipeline_env,
    scorer_process,
    wait_for,
)
from tests.warehouse.helpers import DBT, run_dbt  # noqa: E402

V1 = Transaction.SCHEMA_VERSION
PER_VERSION = 150
"""Events per contract version."""
CUSTOMERS = 6
"""Ordinary customers; every ``BLACKLIST_EVERY``-th event is the blacklisted customer's."""
BLACKLIST_EVERY = 5
"""Odd, so the blacklisted customer pays with both versions (they alternate)."""
SPACING = timedelta(seconds=2)
PIPELINE_LIMIT_S = 480.0
"""The MiniCluster alone may take minutes to start on the shared machine."""
STEP_LIMIT_S = 120.0
GOLD = ("+fct_transactions", "+fct_fraud_alerts", "+agg_detection_quality")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(1200),
    pytest.mark.skipif(
        not FLINK_PYTHON.exists(),
        reason="services/fraud-scorer/.venv missing: run make setup (PyFlink env)",
    ),
    pytest.mark.skipif(not DBT.exists(), reason="dbt environment missing: run make setup"),
]


@dataclass
class Pipeline:
    """The running services, on this test's topics and database."""

    api_url: str
    api_settings: ApiSettings
    processes: list[ServiceProcess]
    blacklisted: str


@pytest.fixture
def pipeline(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
    tmp_path: Path,
) -> Iterator[Pipeline]:
    """Scorer, ingestor and alert API, each with the v2 contract installed; always stopped."""
    blacklisted = f"C-V2-BL-{uuid.uuid4().hex[:6]}"
    rules = tmp_path / "rules.json"
    rules.write_bytes(
        encode(
            RuleSet(
                version=1,
                created_at=datetime.now(UTC),
                blacklist=BlacklistRule(customer_ids=frozenset({blacklisted})),
            )
        )
    )
    hook = str(write_site_hook(tmp_path / "contract-v2"))
    env = pipeline_env(service_env, kafka_settings)
    port = free_loopback_port()
    processes = [
        scorer_process(env, tmp_path, rules),  # first: the slowest to start
        ingestor_process(env, tmp_path),
        alert_api_process(env, tmp_path, port),
    ]
    for process in processes:
        # the scorer's environment drops the main one's PYTHONPATH: the hook is all it gets
        inherited = process.env.get("PYTHONPATH")
        process.env["PYTHONPATH"] = hook if not inherited else f"{hook}:{inherited}"
    api_settings = ApiSettings(pg=pg_settings, topics=topics, kafka=kafka_settings)
    try:
        for process in processes:
            process.start()
        yield Pipeline(f"http://127.0.0.1:{port}", api_settings, processes, blacklisted)
    finally:
        for process in reversed(processes):
            process.stop()
        # Shown by pytest only when the test failed: every service's log.
        print(describe_all(processes))


def events(blacklisted: str) -> list[Transaction]:
    """v1 and v2 events interleaved, a ``SPACING`` apart in event time, ending a minute ago."""
    run = uuid.uuid4().hex[:6]
    total = 2 * PER_VERSION
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    out: list[Transaction] = []
    for i in range(total):
        version = V2 if i % 2 else V1
        customer = blacklisted if i % BLACKLIST_EVERY == 0 else f"C-V2-{run}-{i % CUSTOMERS}"
        fields: dict[str, Any] = {
            "transaction_id": f"v{version}-{run}-{i:04d}",
            "event_time": last - (total - 1 - i) * SPACING,
            "customer_id": customer,
            "card_id": f"K-{customer}",
            "merchant_id": f"M-V2-{i % 4}",
            "store_id": f"S-V2-{i % 4}-01",
            "amount": Decimal(20 + i % 37) + Decimal("0.45"),
            "payment_method": PaymentMethod.CREDIT_CARD,
            "channel": Channel.POS,
            "latitude": -23.55,
            "longitude": -46.63,
        }
        if version == V2:
            out.append(TransactionV2(**fields, loyalty_tier=("gold", "silver")[i % 4 == 1]))
        else:
            out.append(Transaction(**fields))
    assert {e.schema_version for e in out} == {V1, V2}
    return out


def produce(kafka: KafkaSettings, topic: str, txns: list[Transaction]) -> None:
    producer = Producer(producer_config(kafka, "test-contract-v2"))
    for txn in txns:
        producer.produce(topic, key=encode_key(txn.key()), value=encode(txn))
    assert producer.flush(30) == 0


def landed(dsn: str, ids: list[str]) -> int | None:
    """How many ids are in both bronze.transactions and bronze.scored_transactions, once all."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select count(*) from bronze.transactions t where t.transaction_id = any(%s)"
            " and exists (select 1 from bronze.scored_transactions s"
            "             where s.transaction_id = t.transaction_id)",
            (ids,),
        ).fetchone()
    count = int(row[0]) if row else 0
    return count if count == len(ids) else None


def api_get(pipeline: Pipeline, key: str, path: str, **params: Any) -> Any:
    response = httpx.get(
        f"{pipeline.api_url}{path}", params=params, headers={"X-API-Key": key}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_v2_events_land_next_to_v1_events_with_zero_rejects(
    pipeline: Pipeline, kafka_settings: KafkaSettings, topics: TopicSettings
) -> None:
    dsn = pipeline.api_settings.pg.dsn()
    txns = events(pipeline.blacklisted)
    ids = [t.transaction_id for t in txns]
    version_of = {t.transaction_id: t.schema_version for t in txns}
    produce(kafka_settings, topics.transactions_raw, txns)

    # scorer -> bronze: every event scored and landed
    wait_for(
        lambda: landed(dsn, ids),
        what=f"all {len(ids)} transactions and their scores in bronze",
        limit_s=PIPELINE_LIMIT_S,
        processes=pipeline.processes,
    )
    # zero rejects: nothing on the dead-letter topic (read_committed: the scorer's, committed
    # with the scores just landed), nothing the ingestor refused
    assert scan_topic(kafka_settings, topics.dlq).records == 0
    with psycopg.connect(dsn) as conn:
        dead = conn.execute("select count(*) from bronze.dead_letters").fetchone()
        stored = conn.execute(
            "select transaction_id, schema_version, payload ->> %s from bronze.transactions",
            (NEW_FIELD,),
        ).fetchall()
        scored = conn.execute(
            "select transaction_id, (payload -> 'transaction' ->> 'schema_version')::int,"
            " payload -> 'transaction' ->> %s from bronze.scored_transactions",
            (NEW_FIELD,),
        ).fetchall()
        alerted = {
            tid: aid
            for aid, tid in conn.execute(
                "select distinct alert_id::text, transaction_id from bronze.fraud_alerts"
            ).fetchall()
        }
    assert dead == (0,)
    # bronze keeps the version each producer wrote, and the v2 field only on v2 events
    assert {tid: v for tid, v, _ in stored} == version_of
    assert {tid for tid, _, tier in stored if tier is not None} == {
        t for t, v in version_of.items() if v == V2
    }
    # the scored record embeds the transaction in the current shape (a v1 event upgraded by
    # the contract's decode), so the new field is set only where the producer set it
    assert {tid: v for tid, v, _ in scored} == dict.fromkeys(ids, V2)
    assert {tid for tid, _, tier in scored if tier is not None} == {
        t for t, v in version_of.items() if v == V2
    }
    blacklisted_ids = {t.transaction_id for t in txns if t.customer_id == pipeline.blacklisted}
    assert {version_of[t] for t in blacklisted_ids} == {V1, V2}
    assert blacklisted_ids <= set(alerted)
    assert {version_of[t] for t in alerted} == {V1, V2}

    # bronze -> silver -> gold, with the policy's vars as the v2 contract generates them
    accepted = {**policy.accepted_schema_versions(), "Transaction": policy.accepted_versions(V2)}
    dbt_vars = json.dumps(policy_vars.dbt_vars(accepted))
    run_dbt(pipeline.api_settings.pg, "snapshot", "--vars", dbt_vars)  # dim_customer's history
    run_dbt(
        pipeline.api_settings.pg,
        "run",
        "--select",
        *GOLD,
        "stg_transactions_rejects",
        "--vars",
        dbt_vars,
    )
    with psycopg.connect(dsn) as conn:
        silver: dict[str, int] = dict(
            conn.execute(
                "select s.transaction_id, b.schema_version from silver.stg_transactions as s"
                " join bronze.transactions as b using (transaction_id)"
            ).fetchall()
        )
        rejects = conn.execute(
            "select transaction_id, reject_reason from silver.stg_transactions_rejects"
        ).fetchall()
        gold = conn.execute(
            "select transaction_id, is_scored, is_alert from gold.fct_transactions"
        ).fetchall()
        gold_alerts = {
            aid for (aid,) in conn.execute("select alert_id::text from gold.fct_fraud_alerts")
        }
    assert rejects == []
    assert silver == version_of
    assert {tid for tid, _, _ in gold} == set(ids)
    assert all(is_scored for _, is_scored, _ in gold)
    assert {tid for tid, _, is_alert in gold if is_alert} == set(alerted)
    assert gold_alerts == set(alerted.values())

    # -> API: detection quality from gold, the timeline from the API's projection
    key = create_key(pipeline.api_settings, "contract-v2", ["alerts:read"], 0)[1]
    quality = api_get(pipeline, key, "/v1/quality/rules", days=2)
    assert quality["available"] is True
    totals = {rule["rule_id"]: rule["alerts"] for rule in quality["rules"]}
    assert totals["ALL"] == len(gold_alerts)
    assert totals["FR-005"] >= len(blacklisted_ids)
    timeline = api_get(pipeline, key, f"/v1/customers/{pipeline.blacklisted}/timeline", limit=100)
    assert {item["transaction_id"] for item in timeline["items"]} == blacklisted_ids
    assert all(item["is_alert"] for item in timeline["items"])
