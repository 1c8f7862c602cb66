"""An analyst confirms, in the console in headless Chromium, an alert the real pipeline raised;
an admin runs a rule what-if on what the pipeline stored and publishes the new rules to the job.

Transactions go to ``transactions.raw``; the PyFlink scoring job (its own environment) scores them
and raises an alert for a customer on its blacklist; the ingestor lands the scored records and
the alert in bronze (and so in the ``app.alerts`` projection); the alert API serves the console.
Nothing is landed or produced by a test helper between those steps. The analyst's verdict must
then be stored in PostgreSQL and published to ``fraud.feedback``. The what-if (issue #21 item 6)
must predict more alerts for a lowered velocity threshold, and once the console publishes that
rule set to ``fraud.rules``, the running job's next alert must carry its version.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from streamflow.alert_api.config import Settings as ApiSettings
from streamflow.alert_api.keys import create_key
from streamflow.events import (
    BlacklistRule,
    Channel,
    Feedback,
    PaymentMethod,
    RuleSet,
    Transaction,
    decode,
    encode,
    encode_key,
)
from streamflow.platform.kafka import consumer_config, produce_one, producer_config
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings
from streamflow.testkit.fixtures import CHROMIUM, headless_chromium

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tests.integration.*` helpers are imported from the repository root
    sys.path.insert(0, str(REPO))

from tests.integration.pipeline_processes import (  # noqa: E402
    FLINK_PYTHON,
    ServiceProcess,
    alert_api_process,
    describe_all,
    ingestor_process,
    pipeline_env,
    scorer_process,
    wait_for,
)

DOCS_CONSOLE = REPO / "docs" / "console"
BLACKLISTED = "C-CONSOLE-BL"
ORDINARY = "C-CONSOLE-OK"
# The machine is shared with other Flink jobs: the MiniCluster alone may take minutes to start.
PIPELINE_LIMIT_S = 420.0
STEP_LIMIT_S = 120.0
UI_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not FLINK_PYTHON.exists(),
        reason="services/fraud-scorer/.venv missing: run make setup (PyFlink env)",
    ),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium missing: run make setup"),
]


@dataclass
class Pipeline:
    """The running services and what the test needs to talk to them."""

    api_url: str
    api_settings: ApiSettings
    processes: list[ServiceProcess]


@pytest.fixture
def pipeline(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
    tmp_path: Path,
) -> Iterator[Pipeline]:
    """Scorer, ingestor and alert API on this test's topics and database; always stopped."""
    rules = tmp_path / "rules.json"
    rule_set = RuleSet(
        version=1,
        created_at=datetime.now(UTC),
        blacklist=BlacklistRule(customer_ids=frozenset({BLACKLISTED})),
    )
    rules.write_bytes(encode(rule_set))
    # The same rule set on fraud.rules, as `make rules publish` leaves it: the job takes it as a
    # no-op (same version and content), and the API reads the rule set in force from there.
    produce_one(
        kafka_settings,
        "test-console-rules",
        topics.fraud_rules,
        encode_key(rule_set.key()),
        encode(rule_set),
    )
    env = pipeline_env(service_env, kafka_settings)
    port = free_loopback_port()
    processes = [
        scorer_process(env, tmp_path, rules),  # first: the slowest to start
        ingestor_process(env, tmp_path),
        alert_api_process(env, tmp_path, port),
    ]
    api_settings = ApiSettings(pg=pg_settings, topics=topics, kafka=kafka_settings)
    try:
        for process in processes:
            process.start()
        yield Pipeline(f"http://127.0.0.1:{port}", api_settings, processes)
    finally:
        for process in reversed(processes):
            process.stop()
        # Shown by pytest only when the test failed: every service's log.
        print(describe_all(processes))


def transaction(tid: str, customer: str, amount: str, ago_s: float = 5.0) -> Transaction:
    return Transaction(
        transaction_id=tid,
        # Recent: the scorer dead-letters events from the future.
        event_time=datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=ago_s),
        customer_id=customer,
        card_id=f"K-{customer}",
        merchant_id="M-CONSOLE",
        store_id="S0001-01",
        amount=Decimal(amount),
        currency="BRL",
        payment_method=PaymentMethod.CREDIT_CARD,
        channel=Channel.POS,
        latitude=-23.55,
        longitude=-46.63,
    )


def produce(kafka: KafkaSettings, topic: str, txns: list[Transaction]) -> None:
    producer = Producer(producer_config(kafka, "test-console-pipeline"))
    for txn in txns:
        producer.produce(topic, key=encode_key(txn.key()), value=encode(txn))
    assert producer.flush(30) == 0


def alert_over_api(url: str, key: str, customer: str) -> dict[str, Any] | None:
    """The customer's alert with its transaction landed, once the API shows both."""
    headers = {"X-API-Key": key}
    try:
        page = httpx.get(
            f"{url}/v1/alerts", params={"customer_id": customer}, headers=headers, timeout=10
        )
        if page.status_code != 200 or not page.json()["items"]:
            return None
        alert_id = page.json()["items"][0]["alert_id"]
        detail = httpx.get(f"{url}/v1/alerts/{alert_id}", headers=headers, timeout=10)
    except httpx.HTTPError:
        return None  # not listening yet
    body: dict[str, Any] = detail.json()
    return body if detail.status_code == 200 and body["transaction"] is not None else None


def scored_rows(dsn: str, tids: list[str]) -> dict[str, bool] | None:
    """``transaction_id -> is_alert`` of the landed scored records, once all of them landed."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select transaction_id, bool_or(is_alert) from bronze.scored_transactions "
            "where transaction_id = any(%s) group by transaction_id",
            (tids,),
        ).fetchall()
    found = {tid: bool(alerted) for tid, alerted in rows}
    return found if set(found) == set(tids) else None


class FeedbackReader:
    """A read_committed consumer of every partition of ``fraud.feedback`` from the start."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.consumer = Consumer(consumer_config(kafka, f"test-console-{uuid.uuid4().hex[:8]}"))
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self.events: list[Feedback] = []

    def poll(self) -> list[Feedback] | None:
        for msg in self.consumer.consume(100, timeout=0.5):
            if msg.error() is None:
                self.events.append(decode(Feedback, msg.value() or b""))
        return self.events or None

    def close(self) -> None:
        self.consumer.close()


def test_analyst_confirms_a_pipeline_alert_in_the_console(
    pipeline: Pipeline, kafka_settings: KafkaSettings, topics: TopicSettings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings = pipeline.api_settings
    dsn = settings.pg.dsn()
    key = create_key(settings, "console-analyst", ["alerts:read", "alerts:write"], 0)[1]
    run = uuid.uuid4().hex[:6]
    fraud = transaction(f"console-bl-{run}", BLACKLISTED, "250.00")
    ordinary = transaction(f"console-ok-{run}", ORDINARY, "42.00")
    produce(kafka_settings, topics.transactions_raw, [ordinary, fraud])

    alert = wait_for(
        lambda: alert_over_api(pipeline.api_url, key, BLACKLISTED),
        what="the blacklisted customer's alert (with its transaction) over the API",
        limit_s=PIPELINE_LIMIT_S,
        processes=pipeline.processes,
    )
    assert alert["transaction_id"] == fraud.transaction_id
    assert alert["status"] == "new"
    assert "FR-005" in alert["rule_ids"]
    scored = wait_for(
        lambda: scored_rows(dsn, [fraud.transaction_id, ordinary.transaction_id]),
        what="both scored records in bronze.scored_transactions",
        limit_s=STEP_LIMIT_S,
        processes=pipeline.processes,
    )
    assert scored == {fraud.transaction_id: True, ordinary.transaction_id: False}
    with psycopg.connect(dsn) as conn:
        projected = conn.execute("select alert_id::text, customer_id from app.alerts").fetchall()
    assert projected == [(alert["alert_id"], BLACKLISTED)]  # the ordinary payment raised none

    alert_id = alert["alert_id"]
    note = f"confirmed with the cardholder ({run})"
    with headless_chromium(tmp_path / "chromium-profile") as browser:
        browser.set_default_timeout(UI_TIMEOUT_MS)
        page = browser.new_page()
        page.goto(f"{pipeline.api_url}/console")
        page.fill("#api-key", key)
        page.click("#save-key")
        row = page.locator(f'tr[data-alert-id="{alert_id}"]')
        expect(row).to_contain_text(BLACKLISTED, timeout=UI_TIMEOUT_MS)
        expect(row).to_contain_text("FR-005")
        expect(row).to_contain_text("new")
        row.click()
        explanations = page.locator("#explanations")
        expect(explanations).to_contain_text("FR-005", timeout=UI_TIMEOUT_MS)
        expect(explanations).to_contain_text(f"customer {BLACKLISTED} is blacklisted")
        expect(page.locator("#transaction")).to_contain_text(fraud.transaction_id)
        page.fill("#note", note)
        page.click("#confirm")
        expect(page.locator("#detail-status")).to_have_text(
            "confirmed_fraud", timeout=UI_TIMEOUT_MS
        )
        expect(page.locator("#feedback-result")).to_contain_text('label "fraud"')
        expect(page.locator("#feedback-result")).to_contain_text(topics.fraud_feedback)
        expect(row).to_contain_text("confirmed_fraud", timeout=UI_TIMEOUT_MS)
        expect(page.locator("#notes")).to_contain_text(note)
        page.screenshot(path=str(tmp_path / "console.png"))

        # The customer's timeline from the alert (issue #21 item 3): the transaction of this run,
        # scored by the job and projected by the ingestor's landing, with FR-005 and the verdict.
        page.click("#open-timeline")
        expect(page.locator("#timeline-customer")).to_have_text(BLACKLISTED, timeout=UI_TIMEOUT_MS)
        txn_row = page.locator(f'#timeline-rows tr[data-transaction-id="{fraud.transaction_id}"]')
        expect(txn_row).to_contain_text(fraud.transaction_id, timeout=UI_TIMEOUT_MS)
        expect(txn_row).to_contain_text("FR-005")
        expect(txn_row).to_contain_text("verdict confirmed_fraud")
        expect(page.locator("#timeline-freshness")).to_contain_text("0 s behind bronze")
        DOCS_CONSOLE.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_CONSOLE / "timeline-pipeline.png"), full_page=True)

    with psycopg.connect(dsn) as conn:
        status = conn.execute(
            "select status from app.alerts where alert_id = %s", (alert_id,)
        ).fetchone()
        notes = conn.execute(
            "select verdict, note from app.analyst_notes where alert_id = %s", (alert_id,)
        ).fetchall()
    assert status == ("confirmed_fraud",)
    assert notes == [("confirmed_fraud", note)]

    reader = FeedbackReader(kafka_settings, topics.fraud_feedback)
    try:
        published = wait_for(
            reader.poll,
            what="the analyst's Feedback event on fraud.feedback",
            limit_s=STEP_LIMIT_S,
            processes=pipeline.processes,
        )
    finally:
        reader.close()
    labels = [(f.transaction_id, f.customer_id, f.label.value, f.source.value) for f in published]
    assert labels == [(fraud.transaction_id, BLACKLISTED, "fraud", "analyst")]
    assert published[0].note == note


def alerts_of(url: str, key: str, customer: str) -> list[dict[str, Any]] | None:
    """The customer's alerts over the API (None until there is one)."""
    try:
        page = httpx.get(
            f"{url}/v1/alerts",
            params={"customer_id": customer},
            headers={"X-API-Key": key},
            timeout=10,
        )
    except httpx.HTTPError:
        return None
    items: list[dict[str, Any]] = page.json()["items"] if page.status_code == 200 else []
    return items or None


def projected(dsn: str, tids: list[str]) -> bool | None:
    """True once every transaction is in the API's projection (landed by the ingestor)."""
    with psycopg.connect(dsn) as conn:
        (count,) = conn.execute(
            "select count(*) from app.scored_transactions where transaction_id = any(%s)", (tids,)
        ).fetchone() or (0,)
    return True if count == len(tids) else None


def test_admin_what_if_then_publish_reaches_the_running_job(
    pipeline: Pipeline, kafka_settings: KafkaSettings, topics: TopicSettings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings = pipeline.api_settings
    key = create_key(settings, "rules-admin", ["alerts:read", "alerts:write", "admin"], 0)[1]
    run = uuid.uuid4().hex[:6]
    burst_customer = f"C-CONSOLE-VEL-{run}"
    # Four payments of one customer within four seconds: velocity v1 (more than 5) stays quiet.
    burst = [
        transaction(f"console-vel-{run}-{n}", burst_customer, "30.00", ago_s=9 - n)
        for n in range(4)
    ]
    fraud = transaction(f"console-bl-{run}", BLACKLISTED, "250.00")
    produce(kafka_settings, topics.transactions_raw, [*burst, fraud])
    first = wait_for(
        lambda: alerts_of(pipeline.api_url, key, BLACKLISTED),
        what="the blacklisted customer's alert over the API",
        limit_s=PIPELINE_LIMIT_S,
        processes=pipeline.processes,
    )
    assert [a["rules_version"] for a in first] == [1]
    tids = [t.transaction_id for t in [*burst, fraud]]
    wait_for(
        lambda: projected(settings.pg.dsn(), tids),
        what="every scored transaction in the API's projection",
        limit_s=STEP_LIMIT_S,
        processes=pipeline.processes,
    )
    assert alerts_of(pipeline.api_url, key, burst_customer) is None

    with headless_chromium(tmp_path / "chromium-profile") as browser:
        browser.set_default_timeout(UI_TIMEOUT_MS)
        page = browser.new_page()
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{pipeline.api_url}/console?view=rules")
        page.fill("#api-key", key)
        page.click("#save-key")
        expect(page.locator("#rw-source")).to_contain_text("version 1 in force, from fraud.rules")
        expect(page.locator("#rw-blacklist-customer_ids")).to_have_value(BLACKLISTED)
        page.fill("#rw-velocity-max_count", "2")
        page.select_option("#rw-days", "1")
        page.click("#rw-run")
        expect(page.locator("#rw-status")).to_have_attribute("data-status", "done")
        summary = page.locator("#rw-summary tr")
        before = int(summary.nth(0).locator("td").nth(1).inner_text())
        after = int(summary.nth(1).locator("td").nth(1).inner_text())
        assert before >= 1  # the blacklisted payment
        assert after >= before + 2  # the burst's third and fourth payments
        added = page.locator(f'#rw-examples tr[data-transaction-id="{burst[-1].transaction_id}"]')
        expect(added).to_contain_text("added")
        expect(page.locator("#rw-examples")).to_contain_text(burst_customer)
        DOCS_CONSOLE.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_CONSOLE / "rule-whatif-pipeline.png"), full_page=True)
        page.click("#rw-publish")
        expect(page.locator("#rw-published")).to_contain_text(f"version 2 to {topics.fraud_rules}")

    # The running job applies version 2 without a restart: the rules and the transactions are
    # separate streams, so a payment is sent every few seconds until one is alerted under v2.
    sent: list[str] = []

    def alert_under_v2() -> dict[str, Any] | None:
        txn = transaction(f"console-bl2-{run}-{len(sent)}", BLACKLISTED, "260.00")
        produce(kafka_settings, topics.transactions_raw, [txn])
        sent.append(txn.transaction_id)
        for _ in range(10):
            for alert in alerts_of(pipeline.api_url, key, BLACKLISTED) or []:
                if alert["transaction_id"] in sent:
                    return alert
            time.sleep(1)
        return None

    alert = wait_for(
        alert_under_v2,
        what="an alert scored after the publication",
        limit_s=STEP_LIMIT_S,
        processes=pipeline.processes,
    )
    assert alert["rules_version"] == 2
