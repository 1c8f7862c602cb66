"""The list's ASGI fast path answers exactly as the declared FastAPI route (real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alert_api_helpers import land_alert, make_alert
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.fast_path import AlertApi

pytestmark = pytest.mark.integration


@pytest.fixture
def clients(api_settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """(fast path, FastAPI route) on the same database."""
    fast, route = create_app(api_settings), create_app(api_settings)
    assert isinstance(fast, AlertApi)
    assert fast.fast_list
    assert isinstance(route, AlertApi)
    route.fast_list = False
    with (
        TestClient(fast, raise_server_exceptions=False) as fast_client,
        TestClient(route, raise_server_exceptions=False) as route_client,
    ):
        yield fast_client, route_client


def _requests(keys: Keys) -> list[tuple[str, dict[str, str]]]:
    read, write_only = {"X-API-Key": keys.read}, {"X-API-Key": keys.write_only}
    return [
        ("/v1/alerts", read),
        ("/v1/alerts?limit=2", read),
        ("/v1/alerts?sort=-score&min_score=0.6&limit=2", read),
        ("/v1/alerts?customer_id=C1&since=2026-01-01T00:00:00Z", read),
        ("/v1/alerts?rule_id=FR-002&severity=critical&status=new", read),
        ("/v1/alerts?limit=3&limit=1&unknown=x", read),  # last repeated value wins, unknown ignored
        ("/v1/alerts", {}),  # 401 missing key
        ("/v1/alerts", {"X-API-Key": "sfk_unknown"}),  # 401 unknown key
        ("/v1/alerts", write_only),  # 403 scope
        ("/v1/alerts?min_score=2&severity=extreme", read),  # 422 naming both fields
        ("/v1/alerts?since=2026-01-01T00:00:00", read),  # 422 naive timestamp
        ("/v1/alerts?limit=5000", read),  # 422 over the model's bound
        ("/v1/alerts?limit=201", read),  # 422 over page_size_max (the schema's maximum)
        ("/v1/alerts?cursor=not-a-cursor", read),  # 422 outside the cursor's pattern
        # Any cursor of the pattern is a position; the page follows the cursor's own sort.
        (
            "/v1/alerts?sort=-score&cursor=n1793000000000000_"
            + "0" * 8
            + "-0000-0000-0000-"
            + "0" * 12,
            read,
        ),
    ]


def test_fast_path_matches_the_route(
    clients: tuple[TestClient, TestClient], api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    for i, (customer, score, rules) in enumerate(
        [
            ("C1", 0.55, ("FR-001",)),
            ("C1", 0.95, ("FR-002", "FR-003")),
            ("C2", 0.7, ("FR-002",)),
            ("C2", 0.92, ("FR-002",)),
            ("C3", 0.65, ("ML",)),
        ],
        start=1,
    ):
        land_alert(dsn, make_alert(i, customer_id=customer, score=score, rules=rules))
    fast, route = clients
    statuses = set()
    for path, headers in _requests(keys):
        got, want = fast.get(path, headers=headers), route.get(path, headers=headers)
        assert got.status_code == want.status_code, path
        assert got.headers["content-type"] == want.headers["content-type"], path
        assert got.headers.get("www-authenticate") == want.headers.get("www-authenticate")
        assert got.content == want.content, path
        for name in ("x-content-type-options", "x-frame-options", "referrer-policy"):
            assert got.headers[name] == want.headers[name], (path, name)
        assert got.headers["content-security-policy"] == want.headers["content-security-policy"]
        statuses.add(got.status_code)
    assert statuses == {200, 401, 403, 422}
    # Follow a cursor made by the fast path through the route, and back.
    first = fast.get("/v1/alerts?limit=2", headers={"X-API-Key": keys.read}).json()
    second = route.get(
        f"/v1/alerts?limit=2&cursor={first['next_cursor']}", headers={"X-API-Key": keys.read}
    ).json()
    assert [a["transaction_id"] for a in first["items"] + second["items"]] == [
        "tx-000005",
        "tx-000004",
        "tx-000003",
        "tx-000002",
    ]
    assert first["items"][0]["detected_at"].endswith("+00:00")


def test_fast_path_counts_requests_under_the_route_template(
    clients: tuple[TestClient, TestClient], keys: Keys
) -> None:
    fast, _ = clients

    def count(status: str) -> float:
        labels = {"method": "GET", "route": "/v1/alerts", "status": status}
        return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0

    before_ok, before_401 = count("200"), count("401")
    assert fast.get("/v1/alerts", headers={"X-API-Key": keys.read}).status_code == 200
    assert fast.get("/v1/alerts").status_code == 401
    assert count("200") == before_ok + 1
    assert count("401") == before_401 + 1


def test_cors_requests_go_through_fastapi(api_settings: Settings, keys: Keys) -> None:
    cors = api_settings.model_copy(update={"cors_origins": ["http://console.example"]})
    app = create_app(cors)
    assert isinstance(app, AlertApi)
    assert not app.fast_list
    with TestClient(app) as client:
        response = client.get(
            "/v1/alerts",
            headers={"X-API-Key": keys.read, "Origin": "http://console.example"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "http://console.example"
