"""The console's rule what-if in headless Chromium (Debian's) against the API process on real
PostgreSQL and Kafka: an admin lowers the velocity threshold, runs the what-if (a real worker
process), sees more alerts predicted with this run's transactions among the examples, publishes
the rule set and finds it on ``fraud.rules`` (issue #21 item 6, ADR 0104)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_rules_whatif import VELOCITY_CUSTOMER, _land_history

from conftest import Keys, LiveServer
from streamflow.platform.kafka import read_to_end
from streamflow.scoring.rulesets import apply_rule_update
from streamflow.testkit.fixtures import CHROMIUM, headless_chromium

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium missing: run make setup"),
]

DOCS_CONSOLE = Path(__file__).resolve().parents[3] / "docs" / "console"
UI_TIMEOUT_MS = 60_000


def test_an_admin_runs_a_what_if_and_publishes_it(
    live_server: LiveServer, keys: Keys, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings = live_server.settings
    burst = _land_history(settings)
    with headless_chromium(tmp_path / "chromium-profile") as browser:
        browser.set_default_timeout(UI_TIMEOUT_MS)
        page = browser.new_page()
        page.set_viewport_size({"width": 1400, "height": 1000})
        blocked: list[str] = []
        page.on(
            "console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None
        )
        page.goto(f"{live_server.url}/console?view=rules")
        page.fill("#api-key", keys.admin)
        page.click("#save-key")
        expect(page.locator("#rw-source")).to_contain_text("version 1 in force")
        expect(page.locator("#rw-source")).to_contain_text("built-in defaults")
        expect(page.locator("#rw-velocity-max_count")).to_have_value("5")
        page.fill("#rw-velocity-max_count", "2")
        page.select_option("#rw-days", "1")
        page.select_option("#rw-warmup", "1")
        page.click("#rw-run")
        expect(page.locator("#rw-status")).to_have_attribute("data-status", "done")
        expect(page.locator("#rw-changes")).to_contain_text("velocity.max_count: 5 -> 2")
        summary = page.locator("#rw-summary tr")
        expect(summary).to_have_count(2)
        before = int(summary.nth(0).locator("td").nth(1).inner_text())
        after = int(summary.nth(1).locator("td").nth(1).inner_text())
        assert after > before
        expect(page.locator("#rw-delta")).to_contain_text(f"{after - before} alerts added")
        example = page.locator(f'#rw-examples tr[data-transaction-id="{burst[-1].transaction_id}"]')
        expect(example).to_contain_text("added")
        expect(example).to_contain_text(VELOCITY_CUSTOMER)
        expect(example).to_contain_text("FR-002")
        expect(page.locator("#rw-per-rule tr.changed")).to_contain_text("FR-002")
        DOCS_CONSOLE.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_CONSOLE / "rule-whatif.png"), full_page=True)

        # An invalid value is a 422 naming the field, and nothing is published.
        page.fill("#rw-alert_threshold", "1.5")
        expect(page.locator("#rw-publish")).to_be_enabled()
        page.click("#rw-publish")
        expect(page.locator("#rw-errors")).to_contain_text("body.alert_threshold")
        topic = settings.topics.fraud_rules
        assert list(read_to_end(settings.kafka, topic, "test-rules-browser", 5)) == []

        page.fill("#rw-alert_threshold", "0.5")
        page.click("#rw-publish")
        expect(page.locator("#rw-published")).to_contain_text(f"version 2 to {topic}")
        expect(page.locator("#rw-source")).to_contain_text("version 2 in force")
        expect(page.locator("#rw-source")).to_contain_text("from fraud.rules")
        assert blocked == []
    records = list(read_to_end(settings.kafka, topic, "test-rules-browser", 5))
    assert len(records) == 1
    rules = apply_rule_update(records[0], None)
    assert (rules.version, rules.velocity.max_count, rules.alert_threshold) == (2, 2, 0.5)


def test_the_publish_needs_the_admin_scope(live_server: LiveServer, keys: Keys) -> None:
    import httpx

    for key in (keys.read, keys.write):
        answer = httpx.post(
            f"{live_server.url}/v1/rules/publish",
            json={"version": 2},
            headers={"X-API-Key": key},
        )
        assert answer.status_code == 403
        assert "admin" in answer.json()["detail"]
