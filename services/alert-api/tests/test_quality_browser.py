"""The console's quality dashboard in headless Chromium (Debian's), against the real API (its
own PostgreSQL role) and a real Prometheus: the charts render (uPlot canvases, legends), the
numbers of this run are on the page, the vendored library comes from the API (nothing else is
fetched), and the page's CSP blocks nothing (issue #21 item 5, ADR 0102)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from alert_api_helpers import land_alert, make_alert
from quality_helpers import (
    PROMETHEUS,
    RunningPrometheus,
    build_mart,
    running_prometheus,
    young_series_queries,
)

from conftest import Keys, LiveServer
from streamflow.alert_api.config import Settings
from streamflow.platform.ports import free_loopback_port
from streamflow.testkit.fixtures import CHROMIUM, headless_chromium

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium missing: run make setup"),
    pytest.mark.skipif(not PROMETHEUS.exists(), reason="prometheus missing: run make setup"),
]

DOCS_CONSOLE = Path(__file__).resolve().parents[3] / "docs" / "console"
RULES = ("FR-001", "FR-002", "FR-003", "FR-004")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[RunningPrometheus]:
    workdir = tmp_path / "prometheus"
    workdir.mkdir()
    with running_prometheus(workdir) as running:
        yield running


@pytest.fixture
def dashboard_server(
    prometheus: RunningPrometheus, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> LiveServer:
    """The API process, reading this test's Prometheus (5 s rate windows: the series is new)."""
    monkeypatch.setenv("STREAMFLOW_API_PROMETHEUS_URL", prometheus.url)
    for field, query in young_series_queries(Settings).items():
        monkeypatch.setenv(f"STREAMFLOW_API_{field.upper()}", query)
    server: LiveServer = request.getfixturevalue("live_server")
    return server


def _mart_rows(today: date) -> list[tuple[date, str, int, int, int, int]]:
    """Two weeks of a plausible mart: per day the rules' alerts and labels, and ALL."""
    rows = []
    for back in range(14):
        day = today - timedelta(days=13 - back)
        fraud_total = 3 + back % 4
        per_rule = [(rule, 4 + (back * (i + 3)) % 9, i) for i, rule in enumerate(RULES)]
        all_alerts = sum(n for _, n, _ in per_rule)
        all_fraud = min(fraud_total, 2 + back % 3)
        rows.append((day, "ALL", all_alerts, all_fraud, 2 + back % 2, fraud_total))
        for rule, alerts, i in per_rule:
            fraud = min(all_fraud, max(0, 2 - i + back % 2))
            rows.append((day, rule, alerts, fraud, (i + back) % 3, fraud_total))
    return rows


def test_the_quality_dashboard_draws_its_charts(
    dashboard_server: LiveServer, keys: Keys, pg_settings: object, tmp_path: Path
) -> None:
    from playwright.sync_api import Route, expect

    server = dashboard_server
    settings = server.settings
    today = datetime.now(UTC).date()
    build_mart(settings.pg, _mart_rows(today))
    # Three alerts of this run, two judged through the API (10 and 30 minutes after detection).
    now = datetime.now(UTC).replace(microsecond=0)
    alerts = [
        make_alert(800 + i, detected_at=now - timedelta(minutes=m))
        for i, m in enumerate((50, 40, 30))
    ]
    for alert in alerts:
        land_alert(settings.pg.dsn(), alert)
    for alert in alerts[:2]:
        response = httpx.post(
            f"{server.url}/v1/alerts/{alert.alert_id}/feedback",
            json={"verdict": "confirmed_fraud", "note": None},
            headers={"X-API-Key": keys.write},
        )
        assert response.status_code == 200, response.text
    with psycopg.connect(settings.pg.dsn()) as conn:
        for alert, minutes in zip(alerts[:2], (10, 30), strict=True):
            conn.execute(
                "update app.analyst_notes set created_at = %s where alert_id = %s",
                (alert.detected_at + timedelta(minutes=minutes), alert.alert_id),
            )
    all_alerts = sum(r[2] for r in _mart_rows(today) if r[1] == "ALL")

    with headless_chromium(tmp_path / "profile") as browser:
        outside: list[str] = []

        def loopback_only(route: Route) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        browser.route("**/*", loopback_only)
        page = browser.new_page()
        page.set_viewport_size({"width": 1400, "height": 1000})
        problems: list[str] = []
        page.on(
            "console",
            lambda msg: problems.append(msg.text) if msg.type in {"error", "warning"} else None,
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(f"{server.url}/console")
        page.fill("#api-key", keys.read)
        page.click("#save-key")
        page.click("#show-quality")
        expect(page.locator("#quality")).to_be_visible()
        assert "view=quality" in page.url

        # Detection quality from the mart: two charts with their legends, the table's numbers.
        for chart in (
            "#q-volume-chart",
            "#q-precision-chart",
            "#q-verdict-chart",
            "#q-scorer-chart",
        ):
            expect(page.locator(f"{chart} canvas")).to_have_count(1)
            assert page.locator(f"{chart} canvas").bounding_box()["height"] > 100  # type: ignore[index]
        volume_legend = page.locator("#q-volume-chart .u-legend")
        for label in ("ALL", *RULES):
            expect(volume_legend).to_contain_text(label)
        expect(page.locator("#q-precision-chart .u-legend")).to_contain_text("precision")
        expect(page.locator("#q-precision-chart .u-legend")).to_contain_text("recall")
        all_row = page.locator('#q-rules-rows tr[data-rule-id="ALL"]')
        expect(all_row).to_contain_text(str(all_alerts))
        expect(all_row).to_contain_text(re.compile(r"\d+\.\d %"))
        expect(page.locator('#q-rules-rows tr[data-rule-id="FR-004"]')).to_be_visible()
        expect(page.locator("#q-rules-status")).to_contain_text("gold.agg_detection_quality")

        # Time to verdict of this run's alerts: 10 and 30 minutes, one waiting.
        summary = page.locator("#q-verdict-summary")
        expect(summary).to_contain_text("2 of 3 alerts judged")
        expect(summary).to_contain_text("median 20.0 min")
        expect(summary).to_contain_text("1 waiting")
        expect(page.locator("#q-verdict-chart .u-legend")).to_contain_text("median (min)")

        # The scorer from Prometheus: about 100 transactions/s, 25 pending: 0.25 s.
        scorer = page.locator("#q-scorer-summary")
        expect(scorer).to_have_attribute("data-available", "true")
        expect(scorer).to_contain_text(re.compile(r"(9\d|10\d)\.\d transactions/s"))
        expect(scorer).to_contain_text(re.compile(r"latency 0\.2[45]\d s"))
        expect(page.locator("#q-scorer-chart .u-legend")).to_contain_text("transactions/s")
        expect(page.locator("#q-error")).to_have_text("")

        DOCS_CONSOLE.mkdir(parents=True, exist_ok=True)
        page.locator("#quality").screenshot(path=str(DOCS_CONSOLE / "quality-dashboard.png"))

        # Reloading the shared URL opens the dashboard again.
        page.reload()
        expect(page.locator("#quality")).to_be_visible()
        expect(page.locator("#q-volume-chart canvas")).to_have_count(1)

    assert outside == []
    assert problems == [], problems


@pytest.fixture
def server_without_sources(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> LiveServer:
    """The API process with nothing at its Prometheus URL (and no dbt run: no mart)."""
    monkeypatch.setenv("STREAMFLOW_API_PROMETHEUS_URL", f"http://127.0.0.1:{free_loopback_port()}")
    server: LiveServer = request.getfixturevalue("live_server")
    return server


def test_the_dashboard_says_what_is_missing(
    server_without_sources: LiveServer, keys: Keys, tmp_path: Path
) -> None:
    """No mart yet and Prometheus down: each panel says so, the charts are still drawn (empty),
    and the page shows no error."""
    from playwright.sync_api import expect

    with headless_chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(f"{server_without_sources.url}/console?view=quality")
        page.fill("#api-key", keys.read)
        page.click("#save-key")  # the dashboard, open from the URL, reloads with the key
        expect(page.locator("#q-rules-status")).to_contain_text(
            "not available: gold.agg_detection_quality is not built yet"
        )
        expect(page.locator("#q-rules-rows")).to_contain_text("no alerts in the mart")
        scorer = page.locator("#q-scorer-summary")
        expect(scorer).to_contain_text("Prometheus not available: Prometheus unreachable")
        expect(scorer).to_have_attribute("data-available", "false")
        expect(page.locator("#q-verdict-summary")).to_contain_text("0 of 0 alerts judged")
        for chart in (
            "#q-volume-chart",
            "#q-precision-chart",
            "#q-verdict-chart",
            "#q-scorer-chart",
        ):
            expect(page.locator(f"{chart} canvas")).to_have_count(1)
        expect(page.locator("#q-error")).to_have_text("")
    assert problems == []
