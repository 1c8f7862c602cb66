"""The feedback outbox relay killed between publishing a label and marking it sent (ADR 0057).

An analyst's verdict is in the outbox. The alert API (its relay inside) starts, publishes the
label to ``fraud.feedback`` and tries to mark the row sent; the test holds that row's lock, so
the relay is provably between the two steps when the API is killed with SIGKILL. The restarted
API publishes the row again. Downstream, that is still one label per (transaction, source): one
key on the topic after de-duplication, with byte-identical records; one label in the scorer's
``MerchantLabels``; one row in the warehouse (silver ``stg_feedback``, gold ``fct_fraud_alerts``)
after the real ingestor landed both records and dbt built the models.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from fastapi.testclient import TestClient

from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings as ApiSettings
from streamflow.alert_api.keys import create_key
from streamflow.events import Feedback, FraudAlert, decode, encode, examples
from streamflow.platform.kafka import consumer_config
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings
from streamflow.scoring.merchant_risk import MerchantLabels

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tests.*` helpers are imported from the repository root
    sys.path.insert(0, str(REPO))

from tests.integration.pipeline_processes import (  # noqa: E402
    ServiceProcess,
    alert_api_process,
    describe_all,
    ingestor_process,
    pipeline_env,
)
from tests.warehouse.helpers import DBT, run_dbt  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

T = TypeVar("T")
RELAY_APP = "streamflow-alert-api-outbox-relay"
LIMIT_S = 120.0


def wait(condition: Callable[[], T | None], what: str, processes: list[ServiceProcess]) -> T:
    deadline = time.monotonic() + LIMIT_S
    while True:
        value = condition()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}\n{describe_all(processes)}")
        time.sleep(0.2)


class TopicReader:
    """Every record of the feedback topic, from the start, as raw ``(key, value)``."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.consumer = Consumer(consumer_config(kafka, f"test-outbox-{uuid.uuid4().hex[:8]}"))
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self.records: list[tuple[bytes, bytes]] = []

    def at_least(self, count: int) -> list[tuple[bytes, bytes]] | None:
        for msg in self.consumer.consume(100, timeout=0.5):
            if msg.error() is None:
                self.records.append((msg.key() or b"", msg.value() or b""))
        return self.records if len(self.records) >= count else None

    def close(self) -> None:
        self.consumer.close()


def relay_waiting_on_the_row_lock(dsn: str) -> bool | None:
    """True once the relay's ``update ... set sent_at`` waits for the lock the test holds."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and application_name = %s and wait_event_type = 'Lock' "
            "and query like 'update app.feedback_outbox set sent_at%%'",
            (RELAY_APP,),
        ).fetchone()
    return True if row and row[0] == 1 else None


def sent(dsn: str) -> list[bool]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("select sent_at is not null from app.feedback_outbox")]


def test_relay_killed_between_publishing_and_marking_sent(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
    tmp_path: Path,
) -> None:
    dsn = pg_settings.dsn()
    settings = ApiSettings(pg=pg_settings, topics=topics, kafka=kafka_settings)
    key = create_key(settings, "analyst", ["alerts:read", "alerts:write"], 0)[1]
    alert = examples.alert("tx-outbox-1")
    land_alert(dsn, alert, topics.fraud_alerts)

    # The verdict is committed with its outbox row (no relay in this process).
    quiet = settings.model_copy(update={"outbox_relay": False})
    with TestClient(create_app(quiet)) as client:
        answer = client.post(
            f"/v1/alerts/{alert.alert_id}/feedback",
            json={"verdict": "confirmed_fraud", "note": "cardholder confirmed"},
            headers={"X-API-Key": key},
        )
        assert answer.status_code == 200, answer.text
    assert sent(dsn) == [False]

    env = pipeline_env(service_env, kafka_settings)
    env.update(
        {
            "STREAMFLOW_API_OUTBOX_POLL_INTERVAL_S": "0.2",
            # the relay's mark waits on the test's row lock instead of timing out
            "STREAMFLOW_API_DB_STATEMENT_TIMEOUT_MS": "600000",
            "STREAMFLOW_API_METRICS_PORT": "0",
        }
    )
    api = alert_api_process(env, tmp_path, free_loopback_port())
    again = alert_api_process(env, tmp_path, free_loopback_port())
    again.name, again.log_path = "alert-api (restarted)", tmp_path / "alert-api-2.log"
    ingestor = ingestor_process(env, tmp_path)
    processes = [api, again, ingestor]
    reader = TopicReader(kafka_settings, topics.fraud_feedback)
    try:
        with psycopg.connect(dsn) as lock:
            lock.execute("select 1 from app.feedback_outbox for update")  # held until rollback
            api.start()
            first = wait(lambda: reader.at_least(1), "the first publish", processes)
            wait(lambda: relay_waiting_on_the_row_lock(dsn), "the relay's mark", processes)
            api.kill()  # SIGKILL: between publishing and marking sent
            # A backend blocked on a lock notices its client's death only when it wakes; end it
            # first, as PostgreSQL would, so the dead relay's mark cannot complete afterwards.
            lock.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and application_name = %s",
                (RELAY_APP,),
            )
            lock.rollback()
        assert sent(dsn) == [False]
        assert len(first) == 1

        again.start()  # the restarted relay publishes the row again, then marks it
        wait(lambda: sent(dsn) == [True] or None, "the row marked sent", processes)
        records = wait(lambda: reader.at_least(2), "the second publish", processes)
        assert len(records) == 2
        assert records[0] == records[1]  # the same bytes under the same key

        # The topic after de-duplication by key: one label per (transaction, source).
        latest = dict(records)  # the last record of each key
        assert len(latest) == 1
        label = decode(Feedback, next(iter(latest.values())))
        assert (label.transaction_id, label.source.value) == (alert.transaction_id, "analyst")

        # The scorer's merchant state, fed every record as the job is: one label.
        labels = MerchantLabels.empty()
        for _, value in records:
            labels.add_feedback(decode(Feedback, value), 7.0)
        assert labels.frauds == [True]

        # The warehouse: the ingestor lands both records, dbt keeps one.
        ingestor.start()
        wait(lambda: _bronze_feedback(dsn) == 2 or None, "both records in bronze", processes)
    finally:
        reader.close()
        for process in reversed(processes):
            process.stop()
        print(describe_all(processes))

    if not DBT.exists():
        pytest.skip("envs/dbt missing: run make setup (the topic and scorer checks passed)")
    target = tmp_path / "dbt"
    run_dbt(
        pg_settings,
        "run",
        "--select",
        "+fct_fraud_alerts",
        "--target-path",
        str(target / "target"),
        "--log-path",
        str(target / "logs"),
    )
    with psycopg.connect(dsn) as conn:
        silver = conn.execute(
            "select label, source from silver.stg_feedback where transaction_id = %s",
            (alert.transaction_id,),
        ).fetchall()
        gold = conn.execute(
            "select label, outcome from gold.fct_fraud_alerts where alert_id = %s",
            (alert.alert_id,),
        ).fetchall()
    assert silver == [("fraud", "analyst")]
    assert gold == [("fraud", "confirmed_fraud")]


def land_alert(dsn: str, alert: FraudAlert, topic: str) -> None:
    """The alert's bronze row, as the ingestor lands it (the trigger projects it)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "insert into bronze.fraud_alerts (kafka_topic, kafka_partition, kafka_offset, "
            "alert_id, transaction_id, customer_id, merchant_id, score, severity, rules_version, "
            "event_time, detected_at, schema_version, payload) "
            "values (%s, 0, 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
            (
                topic,
                alert.alert_id,
                alert.transaction_id,
                alert.customer_id,
                alert.merchant_id,
                alert.score,
                alert.severity.value,
                alert.rules_version,
                alert.event_time,
                alert.detected_at,
                alert.schema_version,
                encode(alert).decode(),
            ),
        )


def _bronze_feedback(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select count(*) from bronze.feedback").fetchone()
    return int(row[0]) if row else 0
