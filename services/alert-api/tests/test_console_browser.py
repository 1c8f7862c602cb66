"""The analyst console in headless Chromium (Debian's): see a pipeline alert, confirm it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from alert_api_helpers import (
    land_alerts_from_kafka,
    land_transaction,
    make_alert,
    produce_alert,
    transaction_for,
)
from test_feedback import read_feedback

from conftest import Keys, LiveServer
from streamflow.platform.testing import CHROMIUM, headless_chromium

pytestmark = pytest.mark.integration


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium missing: run make setup")
def test_analyst_confirms_an_alert_in_the_console(
    live_server: LiveServer, keys: Keys, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings = live_server.settings
    alert = make_alert(42, customer_id="C0042", rules=("FR-003", "FR-001"))
    produce_alert(settings, alert)
    assert land_alerts_from_kafka(settings, 1) == 1
    land_transaction(settings.pg.dsn(), transaction_for(alert))

    with headless_chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        # The page's Content-Security-Policy must not block any of its own script or style.
        blocked: list[str] = []
        page.on(
            "console",
            lambda msg: blocked.append(msg.text) if "Content Security" in msg.text else None,
        )
        loaded = page.goto(f"{live_server.url}/console")
        assert loaded is not None
        assert "script-src 'sha256-" in loaded.headers["content-security-policy"]
        assert loaded.headers["x-frame-options"] == "DENY"
        page.fill("#api-key", keys.write)
        page.click("#save-key")
        row = page.locator(f'tr[data-alert-id="{alert.alert_id}"]')
        expect(row).to_contain_text("C0042")
        expect(row).to_contain_text("new")
        row.click()
        expect(page.locator("#explanations")).to_contain_text("FR-003")
        expect(page.locator("#explanations")).to_contain_text("test case 42")
        expect(page.locator("#transaction")).to_contain_text(alert.transaction_id)
        page.fill("#note", "confirmed with the cardholder")
        page.click("#confirm")
        expect(page.locator("#detail-status")).to_have_text("confirmed_fraud")
        expect(page.locator("#feedback-result")).to_contain_text('label "fraud"')
        expect(row).to_contain_text("confirmed_fraud")
        expect(page.locator("#notes")).to_contain_text("confirmed with the cardholder")
        page.screenshot(path=str(tmp_path / "console.png"))
        assert blocked == []

    with psycopg.connect(settings.pg.dsn()) as conn:
        status = conn.execute(
            "select status from app.alerts where alert_id = %s", (alert.alert_id,)
        ).fetchone()
        notes = conn.execute(
            "select verdict, note from app.analyst_notes where alert_id = %s", (alert.alert_id,)
        ).fetchall()
    assert status == ("confirmed_fraud",)
    assert notes == [("confirmed_fraud", "confirmed with the cardholder")]
    published = read_feedback(settings, 1)
    assert [(v.transaction_id, v.label.value, v.source.value) for _, v in published] == [
        (alert.transaction_id, "fraud", "analyst")
    ]
