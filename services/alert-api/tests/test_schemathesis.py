"""schemathesis against the live ``/openapi.json`` with a key: no 5xx, every response conforms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alert_api_helpers import land_alert, land_transaction, make_alert, transaction_for

from conftest import Keys, LiveServer

pytestmark = pytest.mark.integration


def test_openapi_contract_holds(live_server: LiveServer, keys: Keys, tmp_path: Path) -> None:
    dsn = live_server.settings.pg.dsn()
    for n in range(1, 4):
        alert = make_alert(n, customer_id=f"C{n}")
        land_alert(dsn, alert)
        land_transaction(dsn, transaction_for(alert))
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{live_server.url}/openapi.json",
            "--header",
            f"X-API-Key: {keys.write}",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,"
            "content_type_conformance,response_headers_conformance",
            "--max-examples",
            "10",
            "--seed",
            "7",
            "--request-timeout",
            "10",
            "--generation-database",
            ":memory:",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=tmp_path,
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "No issues found" in result.stdout or "passed" in result.stdout, report
