"""The rule what-if and publishing on real PostgreSQL and Kafka (issue #21 item 6, ADR 0104).

Scored transactions land through the ingestor's own writer (so the projection trigger runs); the
what-if's worker is the real subprocess the API starts; publishing goes to this test's
``fraud.rules`` topic, read back with the scorer's own rule-update check.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from alert_api_helpers import land_alert, land_scored, make_alert, make_scored
from fastapi.testclient import TestClient

from streamflow.alert_api import whatif_worker
from streamflow.alert_api.config import Settings
from streamflow.alert_api.keys import create_key
from streamflow.events import RuleSet, Transaction, examples
from streamflow.platform.kafka import read_to_end
from streamflow.scoring.rulesets import apply_rule_update

pytestmark = pytest.mark.integration

VELOCITY_CUSTOMER = "C-VEL"


def _txn(n: int, customer: str, when: datetime) -> Transaction:
    txn = examples.transaction(f"wi-{n:04d}", customer)
    return txn.model_copy(update={"event_time": when, "merchant_id": "M-WI"})


def _land_history(settings: Settings) -> list[Transaction]:
    """A day of quiet payments (warm-up and window) and a burst of four in four minutes."""
    now = datetime.now(UTC).replace(microsecond=0)
    quiet = [
        _txn(n, f"C-Q{n % 5}", now - timedelta(hours=36) + timedelta(minutes=40 * n))
        for n in range(40)
    ]
    burst = [
        _txn(100 + n, VELOCITY_CUSTOMER, now - timedelta(hours=2) + timedelta(minutes=n))
        for n in range(4)
    ]
    land_scored(settings, [make_scored(t, score=0.1) for t in quiet + burst])
    return burst


def _admin(settings: Settings) -> dict[str, str]:
    key = create_key(settings, "rules-admin", ["alerts:read", "alerts:write", "admin"], 0)[1]
    return {"X-API-Key": key}


def _wait_done(client: TestClient, headers: dict[str, str], location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    seen = []
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(location, headers=headers).json()
        seen.append((body["status"], body["rows_done"]))
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"the what-if did not finish: {seen[-5:]}")


def test_lower_velocity_threshold_predicts_more_alerts_then_publishes(
    kafka_client: TestClient, kafka_api_settings: Settings
) -> None:
    settings = kafka_api_settings
    headers = _admin(settings)
    burst = _land_history(settings)
    # An analyst confirmed the last payment of the burst (an alert of another rule set).
    alert = make_alert(1, customer_id=VELOCITY_CUSTOMER, merchant_id="M-WI").model_copy(
        update={
            "transaction_id": burst[-1].transaction_id,
            "event_time": burst[-1].event_time,
            "detected_at": burst[-1].event_time + timedelta(milliseconds=150),
        }
    )
    land_alert(settings.pg.dsn(), alert)
    verdict = kafka_client.post(
        f"/v1/alerts/{alert.alert_id}/feedback",
        json={"verdict": "confirmed_fraud"},
        headers=headers,
    )
    assert verdict.status_code == 200, verdict.text

    in_force = kafka_client.get("/v1/rules", headers=headers).json()
    assert in_force["source"] == "built-in defaults"
    assert in_force["rules"]["velocity"]["max_count"] == 5
    draft = {
        "version": in_force["next_version"],
        "velocity": {"max_count": 2},
    }
    started = kafka_client.post(
        "/v1/rules/whatif", params={"days": 1, "warmup_days": 1}, json=draft, headers=headers
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    run = _wait_done(kafka_client, headers, started.headers["Location"])
    assert run["status"] == "done", run["error"]
    result = run["result"]
    assert run["rows_done"] == run["rows_total"] == result["rows"] + result["warmup_rows"]
    assert result["warmup_rows"] > 0  # the quiet payments of 36-24 hours ago: state only
    assert result["rows"] >= len(burst)
    assert result["changes"] == ["velocity.max_count: 5 -> 2"]
    assert result["after"]["alerts"] > result["before"]["alerts"]
    assert result["alerts_added"] == result["after"]["alerts"] - result["before"]["alerts"]
    assert result["alerts_removed"] == 0
    assert result["labels"]["fraud"] == 1
    assert result["frauds_added"] == 1
    assert result["after"]["recall"] == 1.0
    added = {e["transaction_id"]: e for e in result["examples"]}
    assert burst[-1].transaction_id in added
    example = added[burst[-1].transaction_id]
    assert example["change"] == "added"
    assert example["label"] == "confirmed_fraud"
    assert "FR-002" in example["rules_after"]
    assert "FR-002" not in example["rules_before"]
    velocity = {r["rule_id"]: r for r in result["per_rule"]}["FR-002"]
    assert velocity["after"]["fired"] > velocity["before"]["fired"]
    assert not result["capped"]

    # Publishing: invalid is a 422 with the field path and nothing on the topic.
    bad = kafka_client.post(
        "/v1/rules/publish", json={**draft, "alert_threshold": 2}, headers=headers
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["body.alert_threshold"]
    stamped = kafka_client.post(
        "/v1/rules/publish", json={**draft, "created_at": "2026-12-01T00:00:00Z"}, headers=headers
    )
    assert stamped.status_code == 422
    assert stamped.json()["errors"][0]["field"] == "body.created_at"
    topic = settings.topics.fraud_rules
    assert list(read_to_end(settings.kafka, topic, "test-rules", 5)) == []

    published = kafka_client.post("/v1/rules/publish", json=draft, headers=headers)
    assert published.status_code == 201, published.text
    assert published.json()["version"] == draft["version"]
    assert published.json()["changes"] == ["velocity.max_count: 5 -> 2"]
    records = list(read_to_end(settings.kafka, topic, "test-rules", 5))
    assert len(records) == 1
    rules = apply_rule_update(records[0], None)  # exactly what the job applies
    assert (rules.version, rules.velocity.max_count) == (draft["version"], 2)
    now_in_force = kafka_client.get("/v1/rules", headers=headers).json()
    assert now_in_force["source"] == "fraud.rules"
    assert now_in_force["rules"]["version"] == draft["version"]
    again = kafka_client.post("/v1/rules/publish", json=draft, headers=headers)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "body.version"
    other = kafka_client.post(
        "/v1/rules/publish", json={**draft, "version": 9, "rule_set_id": "other"}, headers=headers
    )
    assert other.status_code == 409
    with psycopg.connect(settings.pg.dsn()) as conn:
        audit = conn.execute(
            "select rule_set_id, version, published_by_name, topic from app.rule_publications"
        ).fetchall()
    assert audit == [("default", draft["version"], "rules-admin", topic)]


def test_invalid_drafts_are_422_with_the_field_path(
    client: TestClient, api_settings: Settings
) -> None:
    headers = _admin(api_settings)
    cases: list[tuple[Any, str]] = [
        ({"velocity": {"max_count": 0}}, "body.velocity.max_count"),
        ({"blacklist": {"card_ids": ["bad id"]}}, "body.blacklist.card_ids.0"),
        ({"nope": 1}, "body.nope"),
        ({"version": 2**31}, "body.version"),
        ([1, 2], "body"),
    ]
    for body, field in cases:
        answer = client.post("/v1/rules/whatif", json=body, headers=headers)
        assert answer.status_code == 422, (body, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], (body, answer.json())
    not_json = client.post(
        "/v1/rules/whatif",
        content=b"{",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422
    nothing = {
        name: {"enabled": False}
        for name in (
            "high_value",
            "velocity",
            "impossible_travel",
            "time_of_day",
            "blacklist",
            "ml",
            "merchant_risk",
        )
    }
    assert client.post("/v1/rules/publish", json=nothing, headers=headers).status_code == 422
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        assert conn.execute("select count(*) from app.rule_whatifs").fetchone() == (0,)


def test_one_what_if_at_a_time_and_a_dead_worker_is_swept(
    client: TestClient, api_settings: Settings
) -> None:
    headers = _admin(api_settings)
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        (busy,) = conn.execute(
            "insert into app.rule_whatifs (requested_by, requested_by_name, status, days, "
            "warmup_days, base_rules, candidate_rules, heartbeat_at) "
            "values ('k', 'other admin', 'running', 7, 3, '{}', '{}', now()) returning whatif_id"
        ).fetchone()  # type: ignore[misc]
    refused = client.post("/v1/rules/whatif", json={"version": 2}, headers=headers)
    assert refused.status_code == 409
    assert refused.headers["Location"] == f"/v1/rules/whatif/{busy}"
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        conn.execute(
            "update app.rule_whatifs set heartbeat_at = now() - interval '1 hour' "
            "where whatif_id = %s",
            (busy,),
        )
    started = client.post("/v1/rules/whatif", json={"version": 2}, headers=headers)
    assert started.status_code == 202, started.text
    swept = client.get(f"/v1/rules/whatif/{busy}", headers=headers).json()
    assert swept["status"] == "failed"
    assert "no progress" in swept["error"]
    run = _wait_done(client, headers, started.headers["Location"])
    assert run["status"] == "done", run["error"]
    assert run["result"]["rows"] == 0  # nothing stored: an empty comparison, not an error
    assert client.get("/v1/rules/whatif/999999", headers=headers).status_code == 404


def test_the_worker_stops_at_its_budget(
    api_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _land_history(api_settings)
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        (whatif_id,) = conn.execute(
            "insert into app.rule_whatifs (requested_by, requested_by_name, days, warmup_days, "
            "base_rules, candidate_rules) values ('k', 'admin', 1, 1, %s, %s) returning whatif_id",
            (_rules_json(), _rules_json()),
        ).fetchone()  # type: ignore[misc]
    monkeypatch.setattr(whatif_worker, "BATCH_ROWS", 5)
    tight = api_settings.model_copy(update={"whatif_max_seconds": 1e-6})
    assert asyncio.run(whatif_worker.run(tight, whatif_id)) == "failed"
    assert asyncio.run(whatif_worker.run(tight, whatif_id)) == "skipped"
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        row = conn.execute(
            "select status, error, rows_done from app.rule_whatifs where whatif_id = %s",
            (whatif_id,),
        ).fetchone()
    assert row is not None
    assert row[0] == "failed"
    assert "wall-clock budget" in row[1]
    assert row[2] == 5


def test_the_row_cap_keeps_the_newest_rows(
    api_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    burst = _land_history(api_settings)
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        (whatif_id,) = conn.execute(
            "insert into app.rule_whatifs (requested_by, requested_by_name, days, warmup_days, "
            "base_rules, candidate_rules) values ('k', 'admin', 1, 1, %s, %s) returning whatif_id",
            (_rules_json(), _rules_json()),
        ).fetchone()  # type: ignore[misc]
    capped = api_settings.model_copy(update={"whatif_max_rows": 1000})
    monkeypatch.setattr(capped, "whatif_max_rows", 3)  # below the setting's floor: a test cap
    assert asyncio.run(whatif_worker.run(capped, whatif_id)) == "done"
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        result, total = conn.execute(
            "select result, rows_total from app.rule_whatifs where whatif_id = %s", (whatif_id,)
        ).fetchone()  # type: ignore[misc]
    assert total == 3
    assert result["capped"] is True
    assert result["rows"] + result["warmup_rows"] == 3
    assert result["replay_start"] == burst[1].event_time.isoformat()


def _rules_json() -> str:
    return RuleSet(version=1, created_at=datetime.now(UTC)).model_dump_json()


def test_a_worker_stopped_with_the_api_marks_its_run_failed(api_settings: Settings) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    many = [_txn(1000 + n, f"C-M{n % 50}", now - timedelta(seconds=n)) for n in range(2_100)]
    land_scored(api_settings, [make_scored(t) for t in many])
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        (whatif_id,) = conn.execute(
            "insert into app.rule_whatifs (requested_by, requested_by_name, days, warmup_days, "
            "base_rules, candidate_rules) values ('k', 'admin', 1, 0, %s, %s) returning whatif_id",
            (_rules_json(), _rules_json()),
        ).fetchone()  # type: ignore[misc]
    # A tiny CPU share: after its first batch the worker sleeps for minutes, still running (its
    # CPU budget, the share of the time budget, 3.6 s, is far from spent).
    slow = api_settings.model_copy(update={"whatif_cpu_share": 0.001, "whatif_max_seconds": 3600})

    def state() -> tuple[str, int, str | None]:
        with psycopg.connect(api_settings.pg.dsn()) as conn:
            row = conn.execute(
                "select status, rows_done, error from app.rule_whatifs where whatif_id = %s",
                (whatif_id,),
            ).fetchone()
        assert row is not None
        return row[0], row[1], row[2]

    async def scenario() -> None:
        workers = whatif_worker.Workers()
        await workers.start(slow, None, whatif_id)
        deadline = time.monotonic() + 60
        while state()[:2] != ("running", whatif_worker.BATCH_ROWS):
            assert time.monotonic() < deadline, state()
            await asyncio.sleep(0.2)
        await workers.stop()

    asyncio.run(scenario())
    status, done, error = state()
    assert (status, done) == ("failed", whatif_worker.BATCH_ROWS)
    assert error == "the worker was stopped (API shutdown)"


def test_the_worker_entry_point(api_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import pickle
    import sys

    niced: list[Settings] = []
    monkeypatch.setattr(whatif_worker, "lower_priority", niced.append)  # not this test process

    def stdin(payload: object) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pickle.dumps(payload))))

    stdin(api_settings)
    assert whatif_worker.main(["424242"]) == 0  # no such run: nothing to do
    assert [s.whatif_max_rows for s in niced] == [api_settings.whatif_max_rows]
    stdin(api_settings)
    assert whatif_worker.main([]) == 2
    stdin({"not": "settings"})
    assert whatif_worker.main(["1"]) == 2
