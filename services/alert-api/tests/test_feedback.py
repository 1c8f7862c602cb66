"""Analyst feedback reaches the database and ``fraud.feedback``; a Kafka outage stores nothing."""

from __future__ import annotations

import psycopg
import pytest
from alert_api_helpers import land_alert, make_alert
from confluent_kafka import Consumer
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.events import Feedback, FeedbackKey, decode, decode_key
from streamflow.platform.kafka import consumer_config

pytestmark = pytest.mark.integration


def read_feedback(settings: Settings, expected: int) -> list[tuple[FeedbackKey, Feedback]]:
    consumer = Consumer(consumer_config(settings.kafka, f"test-{settings.topics.fraud_feedback}"))
    consumer.subscribe([settings.topics.fraud_feedback])
    out: list[tuple[FeedbackKey, Feedback]] = []
    try:
        for _ in range(60):
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                if len(out) >= expected:
                    break
                continue
            out.append(
                (decode_key(FeedbackKey, msg.key() or b""), decode(Feedback, msg.value() or b""))
            )
    finally:
        consumer.close()
    return out


def test_feedback_is_stored_and_published(
    kafka_client: TestClient, kafka_api_settings: Settings, keys: Keys
) -> None:
    client, api_settings = kafka_client, kafka_api_settings
    dsn = api_settings.pg.dsn()
    fraud, legit = make_alert(1, customer_id="C9"), make_alert(2, merchant_id="M3")
    land_alert(dsn, fraud)
    land_alert(dsn, legit)
    h = {"X-API-Key": keys.write}
    ok = client.post(
        f"/v1/alerts/{fraud.alert_id}/feedback",
        json={"verdict": "confirmed_fraud", "note": "card reported stolen"},
        headers=h,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["label"] == "fraud"
    assert ok.json()["topic"] == api_settings.topics.fraud_feedback
    client.post(
        f"/v1/alerts/{legit.alert_id}/feedback", json={"verdict": "false_positive"}, headers=h
    )

    detail = client.get(f"/v1/alerts/{fraud.alert_id}", headers=h).json()
    assert detail["status"] == "confirmed_fraud"
    assert detail["notes"][0]["note"] == "card reported stolen"
    assert detail["notes"][0]["key_name"] == "analyst"
    listed = client.get("/v1/alerts", params={"status": "false_positive"}, headers=h).json()
    assert [a["alert_id"] for a in listed["items"]] == [legit.alert_id]
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select alert_id::text, verdict from app.analyst_notes order by note_id"
        ).fetchall()
    assert rows == [(fraud.alert_id, "confirmed_fraud"), (legit.alert_id, "false_positive")]

    records = read_feedback(api_settings, 2)
    by_tx = {value.transaction_id: (key, value) for key, value in records}
    key, value = by_tx[fraud.transaction_id]
    assert key.customer_id == "C9"
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


def test_kafka_outage_is_a_503_and_stores_nothing(api_settings: Settings, keys: Keys) -> None:
    alert = make_alert(4)
    land_alert(api_settings.pg.dsn(), alert)
    dead = api_settings.model_copy(
        update={
            "kafka": api_settings.kafka.model_copy(update={"bootstrap_servers": "127.0.0.1:9"}),
            "kafka_delivery_timeout_s": 1.5,
        }
    )
    with TestClient(create_app(dead), raise_server_exceptions=False) as client:
        response = client.post(
            f"/v1/alerts/{alert.alert_id}/feedback",
            json={"verdict": "confirmed_fraud"},
            headers={"X-API-Key": keys.write},
        )
        assert response.status_code == 503
        assert "nothing was stored" in response.json()["detail"]
        detail = client.get(f"/v1/alerts/{alert.alert_id}", headers={"X-API-Key": keys.write})
        assert detail.json()["status"] == "new"
        assert detail.json()["notes"] == []
