"""A bounded API (ADR 0090), against the real PostgreSQL: 413 before parsing, 429 for floods of
failed authentication per address, per-key budgets shared by every worker, security headers on
every response, docs behind a setting, /metrics on a port of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from alert_api_helpers import land_alert, make_alert
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.keys import create_key
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import PostgresSettings, Profile

pytestmark = pytest.mark.integration

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def assert_secured(response: httpx.Response, csp: str | None = None) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, response.url
    if csp is not None:
        assert policy == csp, response.url


def test_a_body_over_the_limit_is_413_before_it_is_read(api_settings: Settings, keys: Keys) -> None:
    settings = api_settings.model_copy(update={"max_body_bytes": 2048})
    alert = make_alert(1)
    land_alert(settings.pg.dsn(), alert)
    url = f"/v1/alerts/{alert.alert_id}/feedback"
    huge = b'{"verdict": "false_positive", "note": "' + b"x" * 4096 + b'"}'
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        # Declared length over the limit: refused before routing, auth or parsing (no key needed).
        for headers in (_h(keys.write), {}):
            refused = client.post(url, content=huge, headers=headers)
            body = assert_problem(refused, 413)
            assert body["detail"] == "the request body exceeds 2048 bytes"
            assert_secured(refused)
        # A chunked body (no Content-Length) is read up to the limit, then refused.
        chunked = client.post(url, content=iter([huge[:1000], huge[1000:]]), headers=_h(keys.write))
        assert "content-length" not in chunked.request.headers
        assert_problem(chunked, 413)
        # Under the limit, chunked or not, the request is served as before.
        small = b'{"verdict": "false_positive", "note": "fine"}'
        json_write = {**_h(keys.write), "Content-Type": "application/json"}
        assert client.post(url, content=iter([small]), headers=json_write).status_code == 200
        assert client.post(url, content=small, headers=json_write).json()["repeated"] is True
    with psycopg.connect(settings.pg.dsn()) as conn:
        notes = conn.execute("select note from app.analyst_notes").fetchall()
    assert notes == [("fine",)]


def test_an_unauthenticated_flood_is_throttled_per_address(
    api_settings: Settings, keys: Keys
) -> None:
    settings = api_settings.model_copy(
        update={"unauth_burst": 5, "unauth_per_minute": 6, "key_cache_ttl_s": 60}
    )
    app = create_app(settings)
    lookups: list[str] = []
    verifier = app.state.verifier
    real_lookup = verifier._lookup

    async def counting(digest: str) -> Any:
        lookups.append(digest)
        return await real_lookup(digest)

    verifier._lookup = counting
    attacker = ("203.0.113.7", 40000)  # other addresses keep their own buckets (test_unit.py)
    with TestClient(app, raise_server_exceptions=False, client=attacker) as flood:
        # A good client on the same address (NAT) has its key verified (and cached) first.
        assert flood.get("/v1/alerts", headers=_h(keys.read)).status_code == 200
        # Five failures (the list's fast path and a FastAPI route alike), then 429s.
        codes = [flood.get("/v1/alerts").status_code for _ in range(3)]
        codes += [flood.get("/v1/stats", headers=_h(f"sfk_bad{i}")).status_code for i in range(2)]
        assert codes == [401] * 5
        lookups.clear()
        for path, headers in (
            ("/v1/alerts", {}),
            ("/v1/alerts", _h("sfk_guess")),
            ("/v1/stats", _h("sfk_guess2")),
            ("/v1/alerts/00000000-0000-0000-0000-000000000000/feedback", {}),
        ):
            throttled = flood.request(
                "GET" if "feedback" not in path else "POST", path, headers=headers
            )
            body = assert_problem(throttled, 429)
            assert body["detail"] == "too many failed authentications from this address"
            assert 1 <= int(throttled.headers["retry-after"]) <= 10
            assert_secured(throttled)
        assert lookups == []  # the throttled bad keys never reached the database
        # The verified key still works from that address; nothing outside /v1/ is throttled.
        assert flood.get("/v1/alerts", headers=_h(keys.read)).status_code == 200
        assert flood.get("/healthz").status_code == 200
        assert flood.get("/console").status_code == 200


def test_security_headers_on_every_response(client: TestClient, keys: Keys) -> None:
    from streamflow.alert_api.guard import API_CSP, DOCS_CSP
    from streamflow.alert_api.routes.console import content_security_policy

    api = API_CSP.decode()
    for method, path, headers, status in (
        ("GET", "/healthz", {}, 200),
        ("GET", "/readyz", {}, 200),
        ("GET", "/v1/alerts", _h(keys.read), 200),  # the list's fast path
        ("GET", "/v1/alerts", {}, 401),
        ("GET", "/v1/alerts?limit=0", _h(keys.read), 422),
        ("GET", "/v1/stats", _h(keys.read), 200),
        ("GET", "/v1/alerts/not-a-uuid", _h(keys.read), 422),
        ("POST", "/v1/alerts/00000000-0000-0000-0000-000000000000/feedback", _h(keys.read), 403),
        ("GET", "/nowhere", {}, 404),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/", {}, 307),
    ):
        response = client.request(method, path, headers=headers, follow_redirects=False)
        assert response.status_code == status, (path, response.text)
        assert_secured(response, api)
    console = client.get("/console")
    assert_secured(console, content_security_policy())
    assert "script-src 'sha256-" in console.headers["content-security-policy"]
    assert_secured(client.get("/docs"), DOCS_CSP.decode())
    # The vendored Swagger UI (routes/docs.py): no CDN, so the page allows scripts from 'self' only.
    assert "script-src 'self';" in DOCS_CSP.decode()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "docs-init.js", "LICENSE"):
        response = client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200, asset
        assert_secured(response, api)
    assert_problem(client.get("/docs/assets/docs.html"), 404)
    assert_problem(client.get("/docs/assets/..%2Fconsole.html"), 404)
    assert_problem(client.get("/redoc"), 404)  # only Swagger UI is vendored (ADR 0091)


def test_docs_are_a_setting_off_in_prod(api_settings: Settings) -> None:
    prod = api_settings.model_copy(update={"profile": Profile.PROD, "docs": None})
    assert not prod.docs_enabled
    with TestClient(create_app(prod), raise_server_exceptions=False) as client:
        for path in ("/docs", "/docs/assets/swagger-ui-bundle.js", "/redoc", "/openapi.json"):
            assert_problem(client.get(path), 404)
        assert client.get("/healthz").status_code == 200
    enabled = prod.model_copy(update={"docs": True})
    with TestClient(create_app(enabled), raise_server_exceptions=False) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").status_code == 200


def test_the_rate_limit_is_shared_by_every_worker(api_settings: Settings) -> None:
    """Two app instances (two workers, or two pods) on one database share each key's budget."""
    limited = create_key(api_settings, "limited", ["alerts:read"], 4)
    exempt = create_key(api_settings, "bench", ["alerts:read"], 0)
    with (
        TestClient(create_app(api_settings), raise_server_exceptions=False) as one,
        TestClient(create_app(api_settings), raise_server_exceptions=False) as two,
    ):
        codes = [
            worker.get("/v1/alerts", headers=_h(limited[1])).status_code
            for worker in (one, two, one, two, one, two)
        ]
        assert codes == [200, 200, 200, 200, 429, 429]
        refused = one.get("/v1/alerts", headers=_h(limited[1]))
        body = assert_problem(refused, 429)
        assert body["detail"] == "rate limit exceeded for this API key"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert all(
            one.get("/v1/alerts", headers=_h(exempt[1])).status_code == 200 for _ in range(8)
        )
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        rows = conn.execute("select key_id, hits from app.api_rate_limits").fetchall()
    # Each worker counted until it saw the budget spent, then refused locally; the exempt key
    # was never counted (no round trip).
    assert rows == [(limited[0], 6)]


@pytest.fixture
def api_process(
    pg_settings: PostgresSettings, service_env: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """The console script with two workers: (API URL, metrics URL)."""
    port, metrics_port = free_loopback_port(), free_loopback_port()
    env = {
        **os.environ,
        **service_env,
        "STREAMFLOW_API_PORT": str(port),
        "STREAMFLOW_API_WORKERS": "2",
        "STREAMFLOW_API_METRICS_PORT": str(metrics_port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamflow.alert_api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the API did not start within 30 s")
        yield url, f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_metrics_have_their_own_port_and_sum_every_worker(api_process: tuple[str, str]) -> None:
    url, metrics_url = api_process
    assert_problem(httpx.get(url + "/metrics"), 404)
    with httpx.Client() as client:  # new connections land on either worker
        for _ in range(20):
            assert (
                client.get(url + "/v1/alerts", headers={"Connection": "close"}).status_code == 401
            )
    text = httpx.get(metrics_url, timeout=5).text
    line = 'http_requests_total{method="GET",route="/v1/alerts",status="401"}'
    counts = [float(row.split()[-1]) for row in text.splitlines() if row.startswith(line)]
    assert counts == [20.0]
