"""Analyst feedback through the transactional outbox (ADR 0057), on real PostgreSQL and Kafka.

The verdict, the alert's status and the outbox row commit together; the relay publishes the
label afterwards, so a Kafka outage neither loses a verdict nor slows a read; a repeated verdict
is a no-op; a verdict changes at most ``max_verdict_changes`` times.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import psycopg
import pytest
from alert_api_helpers import land_alert, make_alert
from confluent_kafka import Consumer
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.outbox import FAILURES, OutboxRelay
from streamflow.events import Feedback, FeedbackKey, decode, decode_key, encode_key
from streamflow.platform.kafka import consumer_config

pytestmark = pytest.mark.integration


def read_records(settings: Settings, expected: int) -> list[tuple[bytes, bytes]]:
    """Every ``(key, value)`` on the feedback topic (a fresh group reads from the start)."""
    group = f"test-{settings.topics.fraud_feedback}-{uuid.uuid4().hex[:6]}"
    consumer = Consumer(consumer_config(settings.kafka, group))
    consumer.subscribe([settings.topics.fraud_feedback])
    out: list[tuple[bytes, bytes]] = []
    try:
        for _ in range(60):
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                if len(out) >= expected:
                    break
                continue
            out.append((msg.key() or b"", msg.value() or b""))
    finally:
        consumer.close()
    return out


def read_feedback(settings: Settings, expected: int) -> list[tuple[FeedbackKey, Feedback]]:
    """The feedback topic's records, decoded."""
    return [
        (decode_key(FeedbackKey, key), decode(Feedback, value))
        for key, value in read_records(settings, expected)
    ]


def outbox(dsn: str) -> list[tuple[Any, ...]]:
    """``(transaction_id, source, label, sent)`` per outbox row, in commit order."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select transaction_id, source, label, sent_at is not null from app.feedback_outbox "
            "order by outbox_id"
        ).fetchall()


def wait_all_sent(dsn: str, rows: int, limit_s: float = 60.0) -> None:
    """Wait until the relay has marked ``rows`` outbox rows sent."""
    deadline = time.monotonic() + limit_s
    while True:
        current = outbox(dsn)
        if len(current) == rows and all(sent for *_, sent in current):
            return
        assert time.monotonic() < deadline, f"outbox not relayed: {current}"
        time.sleep(0.2)


def verdict(
    client: TestClient, alert_id: str, key: str, value: str, note: str | None = None
) -> Any:
    return client.post(
        f"/v1/alerts/{alert_id}/feedback",
        json={"verdict": value, "note": note},
        headers={"X-API-Key": key},
    )


def test_feedback_is_stored_and_published(
    kafka_client: TestClient, kafka_api_settings: Settings, keys: Keys
) -> None:
    client, api_settings = kafka_client, kafka_api_settings
    dsn = api_settings.pg.dsn()
    fraud, legit = make_alert(1, customer_id="C9"), make_alert(2, merchant_id="M3")
    land_alert(dsn, fraud)
    land_alert(dsn, legit)
    h = {"X-API-Key": keys.write}
    ok = verdict(client, fraud.alert_id, keys.write, "confirmed_fraud", "card reported stolen")
    assert ok.status_code == 200, ok.text
    assert ok.json()["label"] == "fraud"
    assert ok.json()["topic"] == api_settings.topics.fraud_feedback
    assert (ok.json()["repeated"], ok.json()["verdict_changes"]) == (False, 0)
    assert verdict(client, legit.alert_id, keys.write, "false_positive").status_code == 200

    detail = client.get(f"/v1/alerts/{fraud.alert_id}", headers=h).json()
    assert detail["status"] == "confirmed_fraud"
    assert detail["notes"][0]["note"] == "card reported stolen"
    assert detail["notes"][0]["key_name"] == "analyst"
    assert detail["notes"][0]["previous_verdict"] is None
    listed = client.get("/v1/alerts", params={"status": "false_positive"}, headers=h).json()
    assert [a["alert_id"] for a in listed["items"]] == [legit.alert_id]
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select alert_id::text, verdict from app.analyst_notes order by note_id"
        ).fetchall()
    assert rows == [(fraud.alert_id, "confirmed_fraud"), (legit.alert_id, "false_positive")]

    wait_all_sent(dsn, 2)
    records = read_feedback(api_settings, 2)
    assert len(records) == 2
    by_tx = {value.transaction_id: (key, value) for key, value in records}
    key, value = by_tx[fraud.transaction_id]
    assert (key.customer_id, key.transaction_id, key.source) == (
        "C9",
        fraud.transaction_id,
        "analyst",
    )
    assert encode_key(key) == encode_key(value.key())
    assert (value.label.value, value.source.value, value.note) == (
        "fraud",
        "analyst",
        "card reported stolen",
    )
    assert by_tx[legit.transaction_id][1].label.value == "legit"
    assert by_tx[legit.transaction_id][1].merchant_id == "M3"


def test_feedback_bad_input(client: TestClient, api_settings: Settings, keys: Keys) -> None:
    alert = make_alert(3)
    land_alert(api_settings.pg.dsn(), alert)
    h = {"X-API-Key": keys.write}
    url = f"/v1/alerts/{alert.alert_id}/feedback"
    bad = client.post(url, json={"verdict": "maybe"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.verdict"
    assert (
        client.post(url, json={"verdict": "false_positive", "x": 1}, headers=h).status_code == 422
    )
    assert client.post(url, content=b"{", headers=h).status_code == 422
    missing = client.post(
        "/v1/alerts/00000000-0000-0000-0000-000000000000/feedback",
        json={"verdict": "false_positive"},
        headers=h,
    )
    assert missing.status_code == 404
    assert outbox(api_settings.pg.dsn()) == []


def test_kafka_outage_neither_loses_the_verdict_nor_blocks_reads(
    kafka_api_settings: Settings, keys: Keys
) -> None:
    """The relay cannot reach a broker (a dead port): the verdict is stored and answered at once,
    reads keep working on a one-connection pool (the relay holds none of it), and the label is
    published once a relay reaches the broker again."""
    settings = kafka_api_settings.model_copy(update={"outbox_poll_interval_s": 0.2})
    dsn = settings.pg.dsn()
    alert = make_alert(4)
    land_alert(dsn, alert)
    dead = settings.model_copy(
        update={
            "kafka": settings.kafka.model_copy(update={"bootstrap_servers": "127.0.0.1:9"}),
            "kafka_delivery_timeout_s": 1.0,
            "db_pool_max": 1,
        }
    )
    h = {"X-API-Key": keys.write}
    failures_before = FAILURES._value.get()
    with TestClient(create_app(dead), raise_server_exceptions=False) as client:
        stored = verdict(client, alert.alert_id, keys.write, "confirmed_fraud", "outage")
        assert stored.status_code == 200, stored.text
        deadline = time.monotonic() + 60
        while FAILURES._value.get() < failures_before + 2:  # the relay has failed, twice
            assert time.monotonic() < deadline, "the relay never tried to publish"
            # reads are served meanwhile, from the one pooled connection
            assert client.get("/v1/alerts", headers=h).status_code == 200
            detail = client.get(f"/v1/alerts/{alert.alert_id}", headers=h)
            assert detail.status_code == 200
            assert detail.json()["status"] == "confirmed_fraud"
            time.sleep(0.2)
        assert client.get("/readyz").status_code == 200
    assert outbox(dsn) == [(alert.transaction_id, "analyst", "fraud", False)]

    # The broker is reachable again (the relay restarts with the API): the label goes out once.
    with TestClient(create_app(settings), raise_server_exceptions=False):
        wait_all_sent(dsn, 1)
    [(key, value)] = read_feedback(settings, 1)
    assert (value.transaction_id, value.label.value, value.note) == (
        alert.transaction_id,
        "fraud",
        "outage",
    )
    assert (key.transaction_id, key.source) == (alert.transaction_id, "analyst")


def test_a_repeated_verdict_is_idempotent(
    kafka_client: TestClient, kafka_api_settings: Settings, keys: Keys
) -> None:
    dsn = kafka_api_settings.pg.dsn()
    alert = make_alert(5)
    land_alert(dsn, alert)
    first = verdict(kafka_client, alert.alert_id, keys.write, "confirmed_fraud", "first")
    again = verdict(kafka_client, alert.alert_id, keys.write, "confirmed_fraud", "retry")
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["repeated"], again.json()["repeated"]) == (False, True)
    assert again.json()["reported_at"] == first.json()["reported_at"]
    assert again.json()["verdict_changes"] == 0
    with psycopg.connect(dsn) as conn:
        notes = conn.execute("select verdict, note from app.analyst_notes").fetchall()
    assert notes == [("confirmed_fraud", "first")]
    wait_all_sent(dsn, 1)
    assert outbox(dsn) == [(alert.transaction_id, "analyst", "fraud", True)]
    assert len(read_records(kafka_api_settings, 1)) == 1


def test_a_verdict_changes_at_most_three_times_then_409(
    kafka_client: TestClient, kafka_api_settings: Settings, keys: Keys
) -> None:
    dsn = kafka_api_settings.pg.dsn()
    alert = make_alert(6)
    land_alert(dsn, alert)
    sequence = ["confirmed_fraud", "false_positive", "confirmed_fraud", "false_positive"]
    for n, value in enumerate(sequence):
        answer = verdict(kafka_client, alert.alert_id, keys.write, value, f"take {n}")
        assert answer.status_code == 200, answer.text
        assert answer.json()["verdict_changes"] == n
    refused = verdict(kafka_client, alert.alert_id, keys.write, "confirmed_fraud", "take 4")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["status"], problem["title"]) == (409, "Conflict")
    assert "changed 3 times" in problem["detail"]
    # the current verdict again is still a no-op, not a change
    same = verdict(kafka_client, alert.alert_id, keys.write, "false_positive")
    assert (same.status_code, same.json()["repeated"]) == (200, True)

    detail = kafka_client.get(
        f"/v1/alerts/{alert.alert_id}", headers={"X-API-Key": keys.read}
    ).json()
    assert detail["status"] == "false_positive"
    # the audit trail: every verdict, each re-label with the verdict it replaced
    assert [(n["verdict"], n["previous_verdict"], n["note"]) for n in detail["notes"]] == [
        ("confirmed_fraud", None, "take 0"),
        ("false_positive", "confirmed_fraud", "take 1"),
        ("confirmed_fraud", "false_positive", "take 2"),
        ("false_positive", "confirmed_fraud", "take 3"),
    ]
    wait_all_sent(dsn, 4)
    records = read_records(kafka_api_settings, 4)
    assert len(records) == 4
    assert len({key for key, _ in records}) == 1  # one fact: (transaction, analyst)
    latest = max((decode(Feedback, value) for _, value in records), key=lambda f: f.reported_at)
    assert latest.label.value == "legit"


def test_verdict_status_and_outbox_row_commit_together(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    """If the outbox row cannot be written, neither is the verdict nor the status."""
    dsn = api_settings.pg.dsn()
    alert = make_alert(7)
    land_alert(dsn, alert)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "alter table app.feedback_outbox add constraint test_refuse check (label = 'none') "
            "not valid"
        )
    failed = verdict(client, alert.alert_id, keys.write, "confirmed_fraud", "lost?")
    assert failed.status_code == 500
    with psycopg.connect(dsn) as conn:
        status = conn.execute(
            "select status, verdict_changes from app.alerts where alert_id = %s", (alert.alert_id,)
        ).fetchone()
        notes = conn.execute("select count(*) from app.analyst_notes").fetchone()
        conn.execute("alter table app.feedback_outbox drop constraint test_refuse")
    assert (status, notes) == (("new", 0), (0,))
    assert verdict(client, alert.alert_id, keys.write, "confirmed_fraud").status_code == 200
    assert [row[:3] for row in outbox(dsn)] == [(alert.transaction_id, "analyst", "fraud")]


def test_one_relay_leads_and_a_standby_takes_over(api_settings: Settings) -> None:
    """Every API process runs a relay; the advisory lock lets one of them publish."""
    settings = api_settings.model_copy(update={"outbox_poll_interval_s": 0.1})

    async def scenario() -> None:
        first, second = OutboxRelay(settings), OutboxRelay(settings)
        one = asyncio.create_task(first.run())
        await _until(lambda: first.is_leader)
        two = asyncio.create_task(second.run())
        await asyncio.sleep(0.5)  # several standby attempts
        assert (first.is_leader, second.is_leader) == (True, False)
        one.cancel()  # the leader's process ends: its session, and so its lock, go with it
        await asyncio.gather(one, return_exceptions=True)
        await _until(lambda: second.is_leader)
        two.cancel()
        await asyncio.gather(two, return_exceptions=True)

    asyncio.run(scenario())


async def _until(condition: Any, limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)
