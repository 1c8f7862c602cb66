"""schemathesis (every phase, stateful included) against the live API on real PostgreSQL.

The published schema states every limit the API enforces (issue #21), so: no 5xx, every
response conforms to the schema, no schema-valid request is rejected (``positive_data_acceptance``),
every schema-invalid one is (``negative_data_rejection``), and auth is never ignored
(``ignored_auth``). Every operation that needs a key answers 401 without one and 403 to a key
without its scope (checked here for each operation of the schema).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alert_api_helpers import land_alert, land_scored, make_alert, make_scored, transaction_for

from conftest import Keys, LiveServer
from streamflow.alert_api.models import (
    EXAMPLE_ALERT_ID,
    EXAMPLE_ALERT_ID_2,
    EXAMPLE_CASE_ID,
    EXAMPLE_CLOSED_CASE_ID,
)

pytestmark = pytest.mark.integration

_SCOPES = {"get": "alerts:read", "post": "alerts:write"}
_ADMIN = {("get", "/v1/rules/whatif/{whatif_id}"), ("post", "/v1/rules/whatif")}
_ADMIN |= {("post", "/v1/rules/publish")}


def _scope(method: str, path: str) -> str:
    return "admin" if (method, path) in _ADMIN else _SCOPES[method]


def _land(live_server: LiveServer, write_key: str) -> None:
    """Alerts, among them the schema's example alerts, and open cases up to the examples' case
    ids, so the examples phase reaches every case operation, not only its 404.

    schemathesis pools the examples of ``case_id`` across operations, so the close operation
    also tries the case the other changes use. That case holds two alerts whose verdicts
    (one of each) reached the re-label limit: closing it either way is a 409, it stays open.
    """
    dsn = live_server.settings.pg.dsn()
    headers = {"X-API-Key": write_key}
    for n in range(1, 6):
        alert = make_alert(n, customer_id=f"C{n % 2}", score=0.5 + n / 20)
        land_alert(dsn, alert)
        land_scored(live_server.settings, [make_scored(transaction_for(alert), is_alert=True)])
    for n, alert_id in ((6, EXAMPLE_ALERT_ID), (7, EXAMPLE_ALERT_ID_2)):
        alert = make_alert(n, customer_id="C0001").model_copy(update={"alert_id": alert_id})
        land_alert(dsn, alert)
    stuck = []
    for n, verdicts in (
        (20, ("confirmed_fraud", "false_positive", "confirmed_fraud", "false_positive")),
        (21, ("false_positive", "confirmed_fraud", "false_positive", "confirmed_fraud")),
    ):
        alert = make_alert(n, customer_id="C0001")
        land_alert(dsn, alert)
        for verdict in verdicts:
            url = f"{live_server.url}/v1/alerts/{alert.alert_id}/feedback"
            assert httpx.post(url, json={"verdict": verdict}, headers=headers).status_code == 200
        stuck.append(alert.alert_id)
    for case_id in range(1, max(EXAMPLE_CASE_ID, EXAMPLE_CLOSED_CASE_ID) + 1):
        alert = make_alert(10 + case_id, customer_id="C0001")
        land_alert(dsn, alert)
        alert_ids = [alert.alert_id, *(stuck if case_id == EXAMPLE_CASE_ID else [])]
        created = httpx.post(
            f"{live_server.url}/v1/cases",
            json={"customer_id": "C0001", "alert_ids": alert_ids},
            headers=headers,
        )
        assert created.json()["case_id"] == case_id, created.text


def test_openapi_contract_holds(live_server: LiveServer, keys: Keys, tmp_path: Path) -> None:
    _land(live_server, keys.write)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{live_server.url}/openapi.json",
            "--header",
            f"X-API-Key: {keys.admin}",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--seed",
            "7",
            # one worker: with two, CPython 3.11's ast (used by Hypothesis to describe a filter
            # lambda) sometimes fails across threads ("SystemError: AST constructor recursion
            # depth mismatch"), a runtime error of the tool, not of the API
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--generation-database",
            ":memory:",
            "--continue-on-failure",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    report = result.stdout[-12000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "No issues found" in result.stdout, report


def test_every_operation_needs_a_key_with_its_scope(live_server: LiveServer, keys: Keys) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    alert_id = "00000000-0000-0000-0000-000000000000"
    checked = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                continue
            url = live_server.url + (
                path.replace("{alert_id}", alert_id)
                .replace("{customer_id}", "C1")
                .replace("{case_id}", "1")
                .replace("{whatif_id}", "1")
            )
            body = {"verdict": "confirmed_fraud"} if method == "post" else None
            scope = _scope(method, path)
            other = {"alerts:read": keys.write_only, "alerts:write": keys.read}.get(
                scope, keys.write
            )
            for key, status in ((None, 401), ("sfk_unknown", 401), (other, 403)):
                headers = {"X-API-Key": key} if key else {}
                response = httpx.request(method, url, headers=headers, json=body)
                assert response.status_code == status, (method, path, key, response.text)
                assert str(status) in operation["responses"], (method, path, status)
            checked.append(f"{method.upper()} {path}")
    assert sorted(checked) == [
        "GET /v1/alerts",
        "GET /v1/alerts/{alert_id}",
        "GET /v1/cases",
        "GET /v1/cases/{case_id}",
        "GET /v1/customers/{customer_id}/risk",
        "GET /v1/customers/{customer_id}/timeline",
        "GET /v1/metrics/realtime",
        "GET /v1/quality/rules",
        "GET /v1/quality/scorer",
        "GET /v1/quality/verdict-time",
        "GET /v1/queues",
        "GET /v1/rules",
        "GET /v1/rules/whatif/{whatif_id}",
        "GET /v1/search",
        "GET /v1/stats",
        "POST /v1/alerts/{alert_id}/feedback",
        "POST /v1/cases",
        "POST /v1/cases/{case_id}/alerts",
        "POST /v1/cases/{case_id}/assign",
        "POST /v1/cases/{case_id}/close",
        "POST /v1/cases/{case_id}/state",
        "POST /v1/feedback/bulk",
        "POST /v1/rules/publish",
        "POST /v1/rules/whatif",
    ]
