"""The OpenAPI docs in headless Chromium (Debian's) with every non-loopback request aborted: the
page is Swagger UI from the package's vendored assets, and it lists the endpoints (ADR 0091)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import LiveServer
from streamflow.testkit.fixtures import CHROMIUM, headless_chromium

pytestmark = pytest.mark.integration


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium missing: run make setup")
def test_docs_list_the_endpoints_offline(live_server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import Route, expect

    with headless_chromium(tmp_path / "profile") as browser:
        outside: list[str] = []

        def loopback_only(route: Route) -> None:
            url = route.request.url
            if urlsplit(url).hostname == "127.0.0.1" or url.startswith("data:"):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        browser.route("**/*", loopback_only)
        page = browser.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda msg: problems.append(msg.text) if msg.type in {"error", "warning"} else None,
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        loaded = page.goto(f"{live_server.url}/docs")
        assert loaded is not None
        assert loaded.status == 200
        policy = loaded.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "style-src 'self';" in policy
        operations = page.locator(".opblock-summary")
        # Swagger UI has rendered the schema once the list's summary shows (as text).
        expect(operations.filter(has_text="/v1/alerts").first).to_contain_text("GET")
        listed = {" ".join(text.split()[:2]) for text in operations.all_inner_texts()}
        for endpoint in (
            "GET /v1/alerts",
            "GET /v1/alerts/{alert_id}",
            "POST /v1/alerts/{alert_id}/feedback",
            "GET /v1/customers/{customer_id}/risk",
            "GET /v1/stats",
            "GET /v1/metrics/realtime",
            "GET /healthz",
            "GET /readyz",
        ):
            assert endpoint in listed, (endpoint, listed)
        # The stylesheet applied (Swagger UI's own class styles, not the browser's defaults).
        weight = page.locator(".opblock-summary-method").first.evaluate(
            "e => getComputedStyle(e).fontWeight"
        )
        assert weight == "700"
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
    assert outside == []
    assert problems == []  # no CSP violation, no failed load, no script error
