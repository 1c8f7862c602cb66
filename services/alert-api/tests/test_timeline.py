"""The customer timeline and the API's projection of scored transactions (issue #21 item 3,
ADR 0101) on real PostgreSQL. Scored records land in bronze through the ingestor's own writer,
logged in as the ingestor's role, so the projection trigger runs exactly as in production."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from alert_api_helpers import T0, land_alert, land_scored, make_alert, make_scored
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.routes.timeline import decode_cursor, encode_cursor, haversine_km
from streamflow.events import Channel, PaymentMethod, Transaction

pytestmark = pytest.mark.integration

SAO_PAULO = (-23.5505, -46.6333)
RIO = (-22.9068, -43.1729)


def txn(
    n: int, amount: str, where: tuple[float, float] | None, customer: str = "C-TL"
) -> Transaction:
    return Transaction(
        transaction_id=f"tl-{n:04d}",
        event_time=T0 + timedelta(hours=n),
        customer_id=customer,
        card_id=f"K-{customer}",
        merchant_id=f"M{n % 3}",
        store_id="S0001-01",
        amount=Decimal(amount),
        currency="BRL",
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel.POS if where else Channel.ONLINE,
        latitude=where[0] if where else None,
        longitude=where[1] if where else None,
    )


def _get(client: TestClient, key: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


def _projected(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select transaction_id, fraud_score, rules_version, rule_ids, is_alert "
            "from app.scored_transactions order by transaction_id"
        ).fetchall()


def test_unit_cursor_and_distance() -> None:
    when = T0 + timedelta(microseconds=123)
    assert decode_cursor(encode_cursor(when, "tx_1:a")) == (when, "tx_1:a")
    assert haversine_km(SAO_PAULO, RIO) == pytest.approx(361, abs=2)
    assert haversine_km(SAO_PAULO, SAO_PAULO) == 0


def test_timeline_scores_rules_alerts_ratios_distances_and_freshness(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    t1, t2, t3, t4 = (
        txn(1, "100.00", SAO_PAULO),
        txn(2, "100.00", None),  # online: no location
        txn(3, "100.00", RIO),
        txn(4, "500.00", SAO_PAULO),
    )
    scored = [
        make_scored(t1),
        make_scored(t2),
        make_scored(t3, score=0.6, rules=("FR-003",)),
        make_scored(t4, score=0.9, is_alert=True, rules=("FR-001", "FR-003")),
    ]
    assert land_scored(api_settings, scored) == 4
    land_scored(api_settings, [make_scored(txn(9, "7.00", SAO_PAULO, customer="C-OTHER"))])
    # t4 raised an alert (confirmed); an older alert of the customer was dismissed.
    alert = make_alert(4, customer_id="C-TL", rules=("FR-001", "FR-003")).model_copy(
        update={"transaction_id": t4.transaction_id}
    )
    old = make_alert(5, customer_id="C-TL").model_copy(update={"transaction_id": "tl-0000"})
    land_alert(dsn, alert)
    land_alert(dsn, old)
    for alert_id, verdict in (
        (old.alert_id, "false_positive"),
        (alert.alert_id, "confirmed_fraud"),
    ):
        response = client.post(
            f"/v1/alerts/{alert_id}/feedback",
            json={"verdict": verdict},
            headers={"X-API-Key": keys.write},
        )
        assert response.status_code == 200, response.text
    # the label carries the card of the projected transaction (Feedback v2), none when unknown
    with psycopg.connect(dsn) as conn:
        labels = {
            tid: json.loads(bytes(payload)).get("card_id")
            for tid, payload in conn.execute(
                "select transaction_id, payload from app.feedback_outbox"
                " where transaction_id in ('tl-0004', 'tl-0000')"
            )
        }
    assert labels == {"tl-0004": "K-C-TL", "tl-0000": None}

    body = _get(client, keys.read, "/v1/customers/C-TL/timeline")
    items = body["items"]
    assert [i["transaction_id"] for i in items] == ["tl-0004", "tl-0003", "tl-0002", "tl-0001"]
    newest = items[0]
    assert newest["fraud_score"] == pytest.approx(0.9)
    assert newest["is_alert"] is True
    assert newest["rule_ids"] == ["FR-001", "FR-003"]  # FR-002 did not fire
    assert newest["card_id"] == "K-C-TL"
    assert newest["model_version"] == "iforest-test"
    assert newest["alerts"] == [
        {
            "alert_id": alert.alert_id,
            "severity": alert.severity.value,
            "score": pytest.approx(alert.score),
            "status": "confirmed_fraud",
            "verdict": "confirmed_fraud",
            "verdict_at": newest["alerts"][0]["verdict_at"],
            "case_id": None,
        }
    ]
    assert newest["alerts"][0]["verdict_at"] is not None
    assert items[1]["alerts"] == []
    # Amounts against the window's mean (200.00).
    assert body["window"]["mean_amount"] == "200.00"
    assert [i["amount_to_mean"] for i in items] == [2.5, 0.5, 0.5, 0.5]
    # Distances: Sao Paulo -> (online, skipped) -> Rio -> Sao Paulo.
    assert items[2]["location"] is None
    assert items[2]["from_previous"] is None
    assert items[3]["from_previous"] is None  # the first located transaction
    rio = items[1]["from_previous"]
    assert (rio["from_transaction_id"], rio["to_transaction_id"]) == ("tl-0001", "tl-0003")
    assert rio["km"] == pytest.approx(361, abs=2)
    assert rio["hours"] == pytest.approx(2.0)
    assert rio["km_per_hour"] == pytest.approx(rio["km"] / 2, abs=0.1)
    assert items[0]["from_previous"]["hours"] == pytest.approx(1.0)
    assert body["distances"] == [items[0]["from_previous"], rio]
    # Prior verdicts on the customer's alerts, newest first.
    assert [(v["alert_id"], v["verdict"]) for v in body["prior_verdicts"]] == [
        (alert.alert_id, "confirmed_fraud"),
        (old.alert_id, "false_positive"),
    ]
    fresh = body["freshness"]
    assert fresh["source"] == "app.scored_transactions"
    assert fresh["behind_bronze_seconds"] == 0
    assert fresh["latest_landed_at"] is not None
    assert fresh["retention_days"] == api_settings.timeline_retention_days
    assert body["next_cursor"] is None

    # Cursor pagination: 3 pages of 1, 2, 1; the second page's oldest row still hops from the
    # located transaction before it (on the next page).
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2 if pages == 1 else 1}
        if cursor:
            params["cursor"] = cursor
        page = _get(client, keys.read, "/v1/customers/C-TL/timeline", **params)
        seen += [i["transaction_id"] for i in page["items"]]
        if page["items"] and page["items"][-1]["transaction_id"] == "tl-0003":
            assert page["items"][-1]["from_previous"]["from_transaction_id"] == "tl-0001"
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert seen == ["tl-0004", "tl-0003", "tl-0002", "tl-0001"]
    assert pages == 3

    empty = _get(client, keys.read, "/v1/customers/NOBODY/timeline")
    assert empty["items"] == []
    assert empty["window"]["mean_amount"] is None
    assert empty["freshness"]["latest_landed_at"] is None
    headers = {"X-API-Key": keys.read}
    assert client.get("/v1/customers/C-TL/timeline?limit=201", headers=headers).status_code == 422
    assert client.get("/v1/customers/C-TL/timeline?cursor=x", headers=headers).status_code == 422
    assert client.get("/v1/customers/C-TL/timeline").status_code == 401
    write_only = {"X-API-Key": keys.write_only}
    assert client.get("/v1/customers/C-TL/timeline", headers=write_only).status_code == 403


def test_redelivery_is_idempotent_and_the_latest_scoring_wins(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    t = txn(1, "250.00", SAO_PAULO)
    first = make_scored(t, score=0.4, rules=("FR-003",))
    assert land_scored(api_settings, [first], offsets=[1000]) == 1
    # The same Kafka record again (a re-read after a crash): bronze and projection unchanged.
    assert land_scored(api_settings, [first], offsets=[1000]) == 0
    # The same scoring at another offset (at-least-once from the scorer): still one row.
    assert land_scored(api_settings, [first], offsets=[1001]) == 1
    assert _projected(dsn) == [("tl-0001", 0.4, 1, ["FR-003"], False)]
    # A re-score under rules version 2 wins, even if an older version's record lands after it.
    rescored = make_scored(
        t,
        score=0.9,
        is_alert=True,
        rules=("FR-001",),
        rules_version=2,
        scored_at=first.scored_at + timedelta(minutes=5),
    )
    stale = make_scored(
        t, score=0.1, rules=(), rules_version=1, scored_at=first.scored_at + timedelta(hours=1)
    )
    assert land_scored(api_settings, [rescored], offsets=[1002]) == 1
    assert land_scored(api_settings, [stale], offsets=[1003]) == 1
    assert _projected(dsn) == [("tl-0001", 0.9, 2, ["FR-001"], True)]
    # Same rules version: the later scored_at wins, within one batch as across batches.
    later = make_scored(
        t,
        score=0.7,
        is_alert=True,
        rules=("FR-005",),
        rules_version=2,
        scored_at=rescored.scored_at + timedelta(seconds=1),
    )
    assert land_scored(api_settings, [later, rescored], offsets=[1004, 1005]) == 2
    assert _projected(dsn) == [("tl-0001", 0.7, 2, ["FR-005"], True)]
    with psycopg.connect(dsn) as conn:
        landed = conn.execute("select count(*) from bronze.scored_transactions").fetchone()
    assert landed == (6,)
    body = _get(client, keys.read, "/v1/customers/C-TL/timeline")
    assert [(i["transaction_id"], i["fraud_score"]) for i in body["items"]] == [("tl-0001", 0.7)]
    risk = _get(client, keys.read, "/v1/customers/C-TL/risk")
    assert risk["statistics"]["transaction_count"] == 1
    assert Decimal(risk["statistics"]["transaction_amount"]) == Decimal("250.00")


def test_retention_prunes_old_transactions(api_settings: Settings, keys: Keys) -> None:
    import asyncio

    from streamflow.alert_api.db import Database
    from streamflow.alert_api.projection import prune_once

    dsn = api_settings.pg.dsn()
    land_scored(api_settings, [make_scored(txn(n, "10.00", None)) for n in range(1, 6)])
    with psycopg.connect(dsn) as conn:  # make three of them old (as the clock moves on)
        conn.execute(
            "update app.scored_transactions set event_time = now() - interval '40 days' "
            "where transaction_id in ('tl-0001', 'tl-0002', 'tl-0003')"
        )
        conn.execute(
            "update app.scored_transactions set event_time = now() - interval '1 day' "
            "where transaction_id in ('tl-0004', 'tl-0005')"
        )
    settings = api_settings.model_copy(update={"timeline_retention_days": 30.0})
    db = Database(  # as the API's own role
        settings.model_copy(update={"pg": settings.pg.as_role(settings.pg_user)})
    )

    async def prune() -> int:
        try:
            return await prune_once(db, settings.timeline_retention_days, batch=2)
        finally:
            await db.close()

    assert asyncio.run(prune()) == 3
    assert [r[0] for r in _projected(dsn)] == ["tl-0004", "tl-0005"]
    with TestClient(create_app(settings)) as client:
        body = _get(client, keys.read, "/v1/customers/C-TL/timeline")
    assert body["freshness"]["retention_days"] == 30.0
    assert [i["transaction_id"] for i in body["items"]] == ["tl-0005", "tl-0004"]


def test_roles_api_reads_only_app_and_ingestor_needs_no_app_grant(api_settings: Settings) -> None:
    """The API role has nothing on bronze.scored_transactions (it reads the projection); the
    ingestor role has nothing on app, yet its landing fills the projection (security definer)."""
    land_scored(api_settings, [make_scored(txn(1, "10.00", SAO_PAULO))])  # as the ingestor
    api = api_settings.pg.as_role(api_settings.pg_user).dsn()
    ingestor = api_settings.pg.as_role("streamflow_ingestor").dsn()
    with psycopg.connect(api) as conn:
        assert conn.execute("select count(*) from app.scored_transactions").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from bronze.scored_transactions")
    with psycopg.connect(ingestor) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from app.scored_transactions")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select app.project_scored_transactions()")
