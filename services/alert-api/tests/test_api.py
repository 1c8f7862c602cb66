"""Every endpoint against the real PostgreSQL (and Kafka for feedback), through the ASGI app."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from alert_api_helpers import (
    T0,
    land_alert,
    land_scored,
    land_window,
    make_alert,
    make_scored,
    transaction_for,
)
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.config import Settings
from streamflow.events import WindowMetrics

pytestmark = pytest.mark.integration


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _dsn(settings: Settings) -> str:
    return settings.pg.dsn()


def test_list_deduplicates_filters_and_pages(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = _dsn(api_settings)
    alerts = [
        make_alert(1, customer_id="C1", score=0.55),
        make_alert(2, customer_id="C1", score=0.95, rules=("FR-002", "FR-003")),
        make_alert(3, customer_id="C2", merchant_id="M7", score=0.7),
        make_alert(4, customer_id="C2", score=0.9, rules=("FR-002",)),
        make_alert(5, customer_id="C3", score=0.65),
    ]
    for alert in alerts:
        land_alert(dsn, alert)
    land_alert(dsn, alerts[0])  # an at-least-once duplicate

    page = client.get("/v1/alerts", headers=_h(keys.read)).json()
    assert [a["transaction_id"] for a in page["items"]] == [
        "tx-000005",
        "tx-000004",
        "tx-000003",
        "tx-000002",
        "tx-000001",
    ]
    assert page["next_cursor"] is None
    assert page["items"][0]["status"] == "new"

    def ids(**params: object) -> list[str]:
        body = client.get("/v1/alerts", params=params, headers=_h(keys.read)).json()
        return [a["transaction_id"][-1] for a in body["items"]]

    assert ids(customer_id="C1") == ["2", "1"]
    assert ids(merchant_id="M7") == ["3"]
    assert ids(min_score=0.9) == ["4", "2"]
    assert ids(rule_id="FR-002") == ["4", "2"]
    assert ids(severity="critical") == ["4", "2"]
    assert ids(
        since=(T0 + timedelta(minutes=2)).isoformat(), until=(T0 + timedelta(minutes=4)).isoformat()
    ) == ["3", "2"]
    assert ids(status="confirmed_fraud") == []
    assert ids(sort="-score") == ["2", "4", "3", "5", "1"]
    assert ids(sort="score") == ["1", "5", "3", "4", "2"]

    # Keyset pagination visits every alert once, in order, for each sort.
    for sort in ("-detected_at", "detected_at", "-score", "score"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, object] = {"limit": 2, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/v1/alerts", params=params, headers=_h(keys.read)).json()
            seen += [a["transaction_id"] for a in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(a.transaction_id for a in alerts)
        assert len(seen) == 5


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"min_score": "high"}, 422, "query.min_score"),
        ({"min_score": 2}, 422, "query.min_score"),
        ({"limit": 0}, 422, "query.limit"),
        ({"limit": 500}, 422, "query.limit"),
        ({"sort": "amount"}, 422, "query.sort"),
        ({"status": "maybe"}, 422, "query.status"),
        ({"since": "yesterday"}, 422, "query.since"),
        ({"since": "2026-11-01T12:00:00"}, 422, "query.since"),
        ({"customer_id": "x'; drop"}, 422, "query.customer_id"),
        ({"cursor": "garbage"}, 422, "query.cursor"),  # outside the published pattern
    ],
)
def test_bad_filters_name_the_field(
    client: TestClient, keys: Keys, params: dict[str, object], status: int, field: str
) -> None:
    response = client.get("/v1/alerts", params=params, headers=_h(keys.read))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert field in [e["field"] for e in body["errors"]]


def test_list_route_checks_auth_first_and_reads_the_query_like_fastapi(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    # The list has its own handler (routes/alert_list.py): same order and answers as FastAPI's.
    land_alert(_dsn(api_settings), make_alert(1, customer_id="C1"))
    land_alert(_dsn(api_settings), make_alert(2, customer_id="C2"))
    assert client.get("/v1/alerts", params={"limit": 0}).status_code == 401
    assert client.get("/v1/alerts?limit=0", headers=_h(keys.write_only)).status_code == 403
    # Unknown parameters are ignored; a repeated one counts once, the last value.
    ok = client.get("/v1/alerts?colour=red&customer_id=C9&customer_id=C1", headers=_h(keys.read))
    assert ok.status_code == 200
    assert [a["customer_id"] for a in ok.json()["items"]] == ["C1"]
    bad = client.get("/v1/alerts?limit=x&min_score=3", headers=_h(keys.read))
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["query.min_score", "query.limit"]
    assert bad.json()["instance"] == "/v1/alerts"


def test_list_route_documents_every_filter(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/alerts"]["get"]
    names = [p["name"] for p in operation["parameters"]]
    assert names == [
        "since",
        "until",
        "customer_id",
        "merchant_id",
        "min_score",
        "max_score",
        "rule_id",
        "severity",
        "status",
        "sort",
        "limit",
        "cursor",
    ]
    assert operation["security"] == [{"APIKeyHeader": []}]
    # The schema states every limit the route enforces (issue #21): the page size setting, the
    # cursor's exact shape.
    schemas = {p["name"]: p["schema"]["anyOf"][0] for p in operation["parameters"][-2:]}
    assert schemas["limit"]["maximum"] == 200
    assert schemas["limit"]["minimum"] == 1
    assert schemas["cursor"]["pattern"].startswith("^(?:[no]")
    assert schemas["cursor"]["maxLength"] == 87
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/AlertPage"}


def test_detail_has_explanations_transaction_and_404(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    alert = make_alert(7, rules=("FR-001", "FR-003"))
    land_alert(_dsn(api_settings), alert)
    body = client.get(f"/v1/alerts/{alert.alert_id}", headers=_h(keys.read)).json()
    assert body["transaction"] is None
    assert [e["rule_id"] for e in body["explanations"]] == ["FR-001", "FR-003"]
    assert "test case 7" in body["explanations"][0]["explanation"]
    assert body["model_version"] == "iforest-test"

    # The transaction comes from the API's projection of scored records (ADR 0101).
    land_scored(api_settings, [make_scored(transaction_for(alert), is_alert=True)])
    body = client.get(f"/v1/alerts/{alert.alert_id}", headers=_h(keys.read)).json()
    assert body["transaction"]["transaction_id"] == alert.transaction_id
    assert body["transaction"]["amount"] == "4800.00"
    assert body["transaction"]["card_id"] == "K0001-1"
    assert body["transaction"]["latitude"] == pytest.approx(-23.5505)

    missing = client.get(f"/v1/alerts/{uuid.uuid4()}", headers=_h(keys.read))
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "path.alert_id"
    bad = client.get("/v1/alerts/not-a-uuid", headers=_h(keys.read))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "path.alert_id"


def test_auth_paths(client: TestClient, api_settings: Settings, keys: Keys) -> None:
    alert = make_alert(8)
    land_alert(_dsn(api_settings), alert)
    url = f"/v1/alerts/{alert.alert_id}/feedback"
    missing = client.get("/v1/alerts")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "ApiKey"
    assert client.get("/v1/alerts", headers=_h("sfk_wrong")).status_code == 401
    assert client.get("/v1/alerts", headers=_h("nonsense")).status_code == 401
    # Scopes: read-only cannot write; write-only cannot read.
    forbidden = client.post(url, json={"verdict": "false_positive"}, headers=_h(keys.read))
    assert forbidden.status_code == 403
    assert "alerts:write" in forbidden.json()["detail"]
    assert client.get("/v1/alerts", headers=_h(keys.write_only)).status_code == 403
    # Revoked keys stop working (the test settings disable the key cache).
    with psycopg.connect(_dsn(api_settings)) as conn:
        conn.execute("update app.api_keys set revoked_at = now() where name = 'reader'")
    assert client.get("/v1/alerts", headers=_h(keys.read)).status_code == 401
    # Only hashes are stored.
    with psycopg.connect(_dsn(api_settings)) as conn:
        hashes = [r[0] for r in conn.execute("select key_hash from app.api_keys")]
    assert keys.write not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_rate_limit_per_key(api_settings: Settings) -> None:
    from streamflow.alert_api.app import create_app
    from streamflow.alert_api.keys import create_key

    limited = create_key(api_settings, "limited", ["alerts:read"], 3)[1]
    exempt = create_key(api_settings, "bench", ["alerts:read"], 0)[1]
    with TestClient(create_app(api_settings)) as client:
        codes = [client.get("/v1/alerts", headers=_h(limited)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        last = client.get("/v1/alerts", headers=_h(limited))
        assert int(last.headers["retry-after"]) >= 1
        assert all(
            client.get("/v1/alerts", headers=_h(exempt)).status_code == 200 for _ in range(10)
        )


def test_customer_risk(client: TestClient, api_settings: Settings, keys: Keys) -> None:
    dsn = _dsn(api_settings)
    for n in (1, 2, 3):
        alert = make_alert(n, customer_id="C0001", score=0.5 + n / 10)
        land_alert(dsn, alert)
        land_scored(api_settings, [make_scored(transaction_for(alert))])
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "insert into ref.customers (customer_id, name, home_city, home_state, home_latitude, "
            "home_longitude, spending_profile) values ('C0001', 'Ana', 'Sao Paulo', 'SP', -23.5, "
            "-46.6, 'medium')"
        )
    body = client.get("/v1/customers/C0001/risk", headers=_h(keys.read)).json()
    assert body["profile"]["home_city"] == "Sao Paulo"
    stats = body["statistics"]
    assert (stats["alert_count"], stats["open_alerts"], stats["transaction_count"]) == (3, 3, 3)
    assert Decimal(stats["transaction_amount"]) == Decimal("14400.00")
    assert stats["max_score"] == pytest.approx(0.8)
    assert [a["transaction_id"] for a in body["recent_alerts"]] == [
        "tx-000003",
        "tx-000002",
        "tx-000001",
    ]
    assert client.get("/v1/customers/NOBODY/risk", headers=_h(keys.read)).status_code == 404
    assert client.get("/v1/customers/bad%20id/risk", headers=_h(keys.read)).status_code == 422


def test_stats_and_realtime_metrics(client: TestClient, api_settings: Settings, keys: Keys) -> None:
    from datetime import UTC, datetime

    dsn = _dsn(api_settings)
    now = datetime.now(UTC)
    a1 = make_alert(1, rules=("FR-001", "FR-002"), detected_at=now - timedelta(minutes=5))
    a2 = make_alert(2, rules=("FR-002",), detected_at=now - timedelta(minutes=3))
    a3 = make_alert(3, rules=("FR-002",), detected_at=now - timedelta(days=3))
    for alert in (a1, a2, a3):
        land_alert(dsn, alert)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "update app.alerts set status = 'confirmed_fraud' where alert_id = %s", (a1.alert_id,)
        )
        conn.execute(
            "update app.alerts set status = 'false_positive' where alert_id = %s", (a2.alert_id,)
        )
        conn.execute(
            "update app.alerts set status = 'confirmed_fraud' where alert_id = %s", (a3.alert_id,)
        )
    body = client.get("/v1/stats", headers=_h(keys.read)).json()
    assert body["total_alerts"] == 2
    assert body["top_rules"][0] == {"rule_id": "FR-002", "alerts": 2}
    assert body["feedback"] == {"confirmed_fraud": 2, "false_positive": 1, "precision": 2 / 3}

    start = T0
    for store, count in (("S1", 3), ("S2", 4)):
        for i in range(3):
            window = WindowMetrics(
                window_start=start + timedelta(minutes=i),
                window_end=start + timedelta(minutes=i + 1),
                window_seconds=60,
                store_id=store,
                count=count,
                amount_sum=Decimal("10.00") * count,
                amount_avg=Decimal("10.00"),
                fraud_count=1,
            )
            land_window(dsn, window)
            if i == 2:
                land_window(dsn, window)  # duplicate delivery
    body = client.get("/v1/metrics/realtime", params={"windows": 2}, headers=_h(keys.read)).json()
    assert body["window_seconds"] == 60
    assert [w["txn_count"] for w in body["windows"]] == [7, 7]
    assert body["windows"][0]["stores"] == 2
    assert Decimal(body["windows"][0]["amount_sum"]) == Decimal("70.00")
    assert body["windows"][0]["fraud_count"] == 2


def test_operations_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}
    from prometheus_client import REGISTRY

    def unauthorized() -> float:
        labels = {"method": "GET", "route": "/v1/alerts", "status": "401"}
        return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0

    before = unauthorized()
    client.get("/v1/alerts")
    assert unauthorized() == before + 1
    # Metrics have a port of their own (test_bounded_api.py), never the API's.
    assert client.get("/metrics").status_code == 404
    spec = client.get("/openapi.json").json()
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])
    assert "examples" in str(spec["components"]["schemas"]["AlertSummary"])
    assert client.get("/docs").status_code == 200
    assert "analyst console" in client.get("/").text
    unknown = client.get("/nowhere")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


def test_database_outage_is_a_503_problem(api_settings: Settings, keys: Keys) -> None:
    from streamflow.alert_api.app import create_app

    dead = api_settings.model_copy(
        update={"pg": api_settings.pg.model_copy(update={"port": 9}), "db_connect_timeout_s": 1}
    )
    with TestClient(create_app(dead), raise_server_exceptions=False) as client:
        for path in ("/v1/alerts", "/readyz"):
            response = client.get(path, headers=_h(keys.read))
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["detail"] == "the database is unavailable"
            assert "Traceback" not in response.text
        assert client.get("/healthz").status_code == 200


def test_statement_timeout_is_a_503(api_settings: Settings, keys: Keys) -> None:
    from streamflow.alert_api.app import create_app
    from streamflow.alert_api.db import Database, DatabaseUnavailableError

    slow = api_settings.model_copy(update={"db_statement_timeout_ms": 50})
    db = Database(slow)
    import asyncio

    async def run() -> None:
        try:
            with pytest.raises(DatabaseUnavailableError, match="in time"):
                await db.fetchval("select pg_sleep(1)")
        finally:
            await db.close()

    asyncio.run(run())
    assert create_app(slow).state.db is not None


def test_cors_from_settings(api_settings: Settings) -> None:
    from streamflow.alert_api.app import create_app

    cors = api_settings.model_copy(update={"cors_origins": ["http://127.0.0.1:5173"]})
    with TestClient(create_app(cors)) as client:
        response = client.options(
            "/v1/alerts",
            headers={
                "Origin": "http://127.0.0.1:5173",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
        other = client.get("/healthz", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
