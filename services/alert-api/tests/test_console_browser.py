"""The analyst console in headless Chromium (Debian's): see a pipeline alert, confirm it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from alert_api_helpers import (
    land_alerts_from_kafka,
    land_scored,
    make_alert,
    make_scored,
    produce_alert,
    transaction_for,
)
from test_feedback import read_feedback, wait_all_sent

from conftest import Keys, LiveServer
from streamflow.testkit.fixtures import CHROMIUM, headless_chromium

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
    scored = make_scored(
        transaction_for(alert), score=0.8, is_alert=True, rules=("FR-003", "FR-001")
    )
    land_scored(settings, [scored])

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

        # The customer's timeline, opened from the alert (issue #21 item 3): the transaction of
        # this run with its score, fired rules and the alert's verdict, and the freshness.
        page.click("#open-timeline")
        expect(page.locator("#timeline-customer")).to_have_text("C0042")
        txn_row = page.locator(f'#timeline-rows tr[data-transaction-id="{alert.transaction_id}"]')
        expect(txn_row).to_contain_text(alert.transaction_id)
        expect(txn_row).to_contain_text("FR-003")
        expect(txn_row).to_contain_text("verdict confirmed_fraud")
        expect(page.locator("#timeline-freshness")).to_contain_text("0 s behind bronze")
        expect(page.locator("#timeline-verdicts")).to_contain_text(alert.transaction_id)
        assert "timeline=C0042" in page.url
        DOCS_CONSOLE.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_CONSOLE / "timeline.png"), full_page=True)
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


DOCS_CONSOLE = Path(__file__).resolve().parents[3] / "docs" / "console"


@pytest.fixture
def small_count_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live server counts filters its counters cannot answer up to 5 alerts (ADR 0100)."""
    monkeypatch.setenv("STREAMFLOW_API_QUEUE_COUNT_CAP", "5")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium missing: run make setup")
def test_analyst_filters_bulk_dismisses_and_closes_a_case(
    small_count_cap: None, live_server: LiveServer, keys: Keys, tmp_path: Path
) -> None:
    """Issue #21 items 1, 2, 4 in the page: filter to a rule and severity (the URL holds it),
    keyboard triage, bulk-dismiss two alerts, search, open a case and close it as fraud; then
    the feedback rows, the outbox and ``fraud.feedback`` hold exactly those verdicts."""
    from playwright.sync_api import expect

    settings = live_server.settings
    dsn = settings.pg.dsn()
    # Customer C-BULK: three FR-003 alerts of high severity, and two the filter must hide.
    targets = [make_alert(100 + n, customer_id="C-BULK", rules=("FR-003",)) for n in range(3)]
    hidden = [
        make_alert(110, customer_id="C-BULK", rules=("FR-001",)),
        make_alert(111, customer_id="C-BULK", rules=("FR-003",), score=0.95),
    ]
    # Customer C-CASE: two alerts that become a case.
    case_alerts = [make_alert(120 + n, customer_id="C-CASE", rules=("FR-002",)) for n in range(2)]
    every = [*targets, *hidden, *case_alerts]
    for alert in every:
        produce_alert(settings, alert)
    assert land_alerts_from_kafka(settings, len(every)) == len(every)
    # Their scored records, through the ingestor's writer (the timeline's projection).
    land_scored(
        settings,
        [
            make_scored(
                transaction_for(a),
                score=a.score,
                is_alert=True,
                rules=tuple(r.rule_id for r in a.triggered_rules),
            )
            for a in every
        ],
    )
    DOCS_CONSOLE.mkdir(parents=True, exist_ok=True)

    with headless_chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.set_viewport_size({"width": 1500, "height": 1000})
        blocked: list[str] = []
        page.on(
            "console",
            lambda msg: blocked.append(msg.text) if "Content Security" in msg.text else None,
        )
        page.goto(f"{live_server.url}/console")
        page.fill("#api-key", keys.write)
        page.click("#save-key")
        expect(page.locator("tr.alert-row")).to_have_count(len(every))
        expect(page.locator('#queues button[data-queue="new"]')).to_have_text(f"new ({len(every)})")
        # A score range is counted live, up to the cap (5 here): more than that reads "5+".
        page.fill("#min-score-filter", "0.5")
        page.click("#apply-filters")
        expect(page.locator('#queues button[data-queue="new"]')).to_have_text("new (5+)")
        expect(page.locator('#queues button[data-queue=""]')).to_have_text("all (5+)")
        expect(page.locator('#queues button[data-queue="confirmed_fraud"]')).to_have_text(
            "confirmed_fraud (0)"
        )
        page.fill("#min-score-filter", "")

        # Filter to a rule and a severity: only the three targets; the URL holds the filter.
        page.fill("#rule-filter", "FR-003")
        page.select_option("#severity-filter", "high")
        page.click("#apply-filters")
        rows = page.locator("tr.alert-row")
        expect(rows).to_have_count(3)
        for alert in targets:
            expect(page.locator(f'tr[data-alert-id="{alert.alert_id}"]')).to_contain_text("FR-003")
        assert "rule_id=FR-003" in page.url
        assert "severity=high" in page.url
        expect(page.locator('#queues button[data-queue="new"]')).to_have_text("new (3)")
        shared = browser.new_page()  # the same URL shows the same view (with one's own key)
        shared.goto(page.url)
        expect(shared.locator("#rule-filter")).to_have_value("FR-003")
        shared.fill("#api-key", keys.read)
        shared.click("#save-key")
        expect(shared.locator("tr.alert-row")).to_have_count(3)
        shared.close()

        # Bulk-dismiss two of them.
        newest_first = sorted(targets, key=lambda a: a.detected_at, reverse=True)
        dismissed, kept = newest_first[:2], newest_first[2]
        for alert in dismissed:
            page.locator(f'tr[data-alert-id="{alert.alert_id}"] input.pick').check()
        expect(page.locator("#selection-count")).to_have_text("2 selected")
        page.click("#bulk-dismiss")
        expect(page.locator("#bulk-result")).to_contain_text("2 stored, 0 unchanged, 0 refused")
        for alert in dismissed:
            expect(page.locator(f'tr[data-alert-id="{alert.alert_id}"]')).to_contain_text(
                "false_positive"
            )
        expect(page.locator('#queues button[data-queue="false_positive"]')).to_have_text(
            "false_positive (2)"
        )

        # Keyboard triage: j/k move through the list, c confirms the one left.
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("j")
        expect(page.locator("#detail-id")).to_have_text(newest_first[0].alert_id)
        page.keyboard.press("j")
        page.keyboard.press("j")
        expect(page.locator("#detail-id")).to_have_text(kept.alert_id)
        page.keyboard.press("k")
        expect(page.locator("#detail-id")).to_have_text(newest_first[1].alert_id)
        page.keyboard.press("j")
        expect(page.locator("#detail-id")).to_have_text(kept.alert_id)
        page.keyboard.press("n")
        assert page.evaluate("document.activeElement.id") == "note"
        page.keyboard.type("keyboard triage")
        page.keyboard.press("Escape")
        page.keyboard.press("c")
        expect(page.locator("#detail-status")).to_have_text("confirmed_fraud")
        expect(page.locator(f'tr[data-alert-id="{kept.alert_id}"]')).to_contain_text(
            "confirmed_fraud"
        )
        expect(page.locator("#detail-id")).to_have_text(kept.alert_id)
        page.screenshot(path=str(DOCS_CONSOLE / "queues-filters-bulk.png"), full_page=True)

        # Search by transaction id; the hit opens the alert.
        page.fill("#search", case_alerts[0].transaction_id)
        page.click("#search-go")
        hit = page.locator(f'#search-results li[data-alert-id="{case_alerts[0].alert_id}"]')
        expect(hit).to_contain_text("transaction_id")
        hit.locator("button").first.click()
        expect(page.locator("#detail-id")).to_have_text(case_alerts[0].alert_id)
        # ... and its customer's timeline opens from the hit: both C-CASE transactions of this
        # run, newest first, each with its alert; then from the alert panel, the same.
        hit.locator("button.timeline").click()
        expect(page.locator("#timeline-customer")).to_have_text("C-CASE")
        timeline_rows = page.locator("#timeline-rows tr")
        expect(timeline_rows).to_have_count(2)
        newest_case = max(case_alerts, key=lambda a: a.event_time)
        expect(timeline_rows.first).to_have_attribute(
            "data-transaction-id", newest_case.transaction_id
        )
        for alert in case_alerts:
            expect(
                page.locator(f'#timeline-rows tr[data-transaction-id="{alert.transaction_id}"]')
            ).to_contain_text(alert.alert_id[:8])
        expect(timeline_rows.first).to_contain_text("FR-002")
        expect(page.locator("#timeline-freshness")).to_contain_text("app.scored_transactions")
        page.screenshot(path=str(DOCS_CONSOLE / "timeline-from-search.png"), full_page=True)

        # Open a case of C-CASE's two alerts, review it, close it as fraud.
        page.click("#clear-filters")
        page.fill("#customer-filter", "C-CASE")
        page.click("#apply-filters")
        expect(rows).to_have_count(2)
        for alert in case_alerts:
            page.locator(f'tr[data-alert-id="{alert.alert_id}"] input.pick').check()
        page.fill("#new-case-assignee", "alice")
        page.click("#create-case")
        expect(page.locator("#case-state")).to_have_text("open")
        expect(page.locator("#case-assignee")).to_have_text("alice")
        expect(page.locator("#case-alerts li")).to_have_count(2)
        case_id = page.locator("#case-id").inner_text().lstrip("#")
        assert f"case={case_id}" in page.url
        page.click("#case-review")
        expect(page.locator("#case-state")).to_have_text("in_review")
        page.fill("#case-note", "account takeover confirmed")
        page.click("#case-close-fraud")
        expect(page.locator("#case-state")).to_have_text("closed_fraud")
        expect(page.locator("#case-result")).to_contain_text("2 alerts labelled")
        expect(page.locator("#case-events")).to_contain_text("closed")
        for alert in case_alerts:
            expect(
                page.locator(f'#case-alerts li[data-alert-id="{alert.alert_id}"]')
            ).to_contain_text("confirmed_fraud")
        expect(page.locator(f'tr.case-row[data-case-id="{case_id}"]')).to_contain_text(
            "closed_fraud"
        )
        expect(page.locator("#case-close-fraud")).to_be_disabled()
        expect(page.locator("#detail-status")).to_have_text("confirmed_fraud")  # refreshed
        expect(hit).to_contain_text("confirmed_fraud")  # the search ran again
        expect(hit).to_contain_text(f"case {case_id}")
        page.screenshot(path=str(DOCS_CONSOLE / "case-closed.png"), full_page=True)
        assert blocked == []

    with psycopg.connect(dsn) as conn:
        statuses: dict[str, str] = dict(
            conn.execute(
                "select alert_id::text, status from app.alerts where status <> 'new'"
            ).fetchall()
        )
        notes = conn.execute(
            "select alert_id::text, verdict, note from app.analyst_notes order by note_id"
        ).fetchall()
        events = conn.execute(
            "select action from app.case_events where case_id = %s order by event_id",
            (int(case_id),),
        ).fetchall()
    expected = {
        **{a.alert_id: "false_positive" for a in dismissed},
        kept.alert_id: "confirmed_fraud",
        **{a.alert_id: "confirmed_fraud" for a in case_alerts},
    }
    assert statuses == expected
    assert sorted(n[0] for n in notes) == sorted(expected)
    assert (kept.alert_id, "confirmed_fraud", "keyboard triage") in notes
    assert {n[2] for n in notes if n[0] in {a.alert_id for a in case_alerts}} == {
        "account takeover confirmed"
    }
    assert [e[0] for e in events] == ["created", "state_changed", "closed"]
    wait_all_sent(dsn, len(expected))
    by_tx = {a.transaction_id: a.alert_id for a in every}
    published = read_feedback(settings, len(expected))
    assert sorted(
        (by_tx[v.transaction_id], v.label.value, v.source.value) for _, v in published
    ) == (
        sorted(
            (alert_id, "fraud" if status == "confirmed_fraud" else "legit", "analyst")
            for alert_id, status in expected.items()
        )
    )
