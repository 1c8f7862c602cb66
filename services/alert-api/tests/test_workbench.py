"""The analyst workbench on real PostgreSQL (issue #21 items 1, 2, 4): filters and queues, bulk
verdicts, search, cases with their audit trail; every verdict through the single-verdict path."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from alert_api_helpers import T0, land_alert, make_alert
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.config import Settings
from streamflow.events import FraudAlert

pytestmark = pytest.mark.integration


def _land(settings: Settings) -> list[FraudAlert]:
    """Eight alerts: two customers, two merchants, scores 0.55 .. 0.97, two rule mixes."""
    dsn = settings.pg.dsn()
    alerts = []
    for n in range(8):
        alert = make_alert(
            n + 1,
            customer_id="C1" if n % 2 == 0 else "C2",
            merchant_id="M1" if n < 4 else "M2",
            score=0.55 + n * 0.06,
            rules=("FR-002", "FR-001") if n % 3 == 1 else ("FR-001",),
        )
        land_alert(dsn, alert)
        alerts.append(alert)
    return alerts


def _get(client: TestClient, key: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


def _post(client: TestClient, key: str, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(path, json=body, headers={"X-API-Key": key})
    assert response.status_code == status, response.text
    return response.json()


def _outbox(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select transaction_id, label from app.feedback_outbox order by outbox_id"
        ).fetchall()
    return [(str(t), str(label)) for t, label in rows]


def test_filters_sort_and_queue_counts(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    alerts = _land(api_settings)
    k = keys.read
    # rule + severity + merchant + score range + time range together
    page = _get(
        client,
        k,
        "/v1/alerts",
        rule_id="FR-002",
        severity="high",
        merchant_id="M2",
        min_score=0.7,
        max_score=0.9,
        since=(T0 + timedelta(minutes=5)).isoformat(),
        until=(T0 + timedelta(minutes=8)).isoformat(),
    )
    expected = [
        a.alert_id
        for a in alerts
        if "FR-002" in [r.rule_id for r in a.triggered_rules]
        and a.severity.value == "high"
        and a.merchant_id == "M2"
        and 0.7 <= a.score <= 0.9
        and T0 + timedelta(minutes=5) <= a.detected_at < T0 + timedelta(minutes=8)
    ]
    assert expected  # the filter is not trivially empty
    assert [a["alert_id"] for a in page["items"]] == expected
    # score sort, paged by the cursor that carries the sort
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "-score", "limit": 3, "max_score": 0.9}
        if cursor:
            params = {"cursor": cursor, "limit": 3, "max_score": 0.9}
        page = _get(client, k, "/v1/alerts", **params)
        seen += [a["alert_id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor.startswith("h")
    by_score = sorted((a for a in alerts if a.score <= 0.9), key=lambda a: -a.score)
    assert seen == [a.alert_id for a in by_score]
    # oldest first (age)
    oldest = _get(client, k, "/v1/alerts", sort="detected_at", limit=2)
    assert [a["alert_id"] for a in oldest["items"]] == [alerts[0].alert_id, alerts[1].alert_id]

    _post(
        client,
        keys.write,
        "/v1/feedback/bulk",
        {"alert_ids": [alerts[0].alert_id, alerts[1].alert_id], "verdict": "false_positive"},
    )
    _post(
        client,
        keys.write,
        f"/v1/alerts/{alerts[2].alert_id}/feedback",
        {"verdict": "confirmed_fraud"},
    )
    counts = _get(client, k, "/v1/queues")
    assert counts == {
        "counts": {"new": 5, "confirmed_fraud": 1, "false_positive": 2},
        "total": 8,
        "exact": True,
        "capped": [],
    }
    m1 = _get(client, k, "/v1/queues", merchant_id="M1", min_score=0.6)
    assert m1["counts"] == {"new": 1, "confirmed_fraud": 1, "false_positive": 1}
    empty = _get(client, k, "/v1/queues", min_score=0.9, max_score=0.1)
    assert empty["total"] == 0
    bad = client.get("/v1/queues", params={"max_score": 2}, headers={"X-API-Key": k})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "query.max_score"


def test_bulk_verdicts_take_the_single_verdict_path(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    a, b = make_alert(1), make_alert(2)
    land_alert(dsn, a)
    land_alert(dsn, b)
    unknown = str(uuid.uuid4())
    out = _post(
        client,
        keys.write,
        "/v1/feedback/bulk",
        {
            "alert_ids": [a.alert_id, b.alert_id, unknown, a.alert_id],
            "verdict": "false_positive",
            "note": "test charges",
        },
    )
    assert (out["stored"], out["repeated"], out["refused"]) == (2, 0, 1)
    assert [(i["alert_id"], i["status"]) for i in out["items"]] == [
        (a.alert_id, 200),
        (b.alert_id, 200),
        (unknown, 404),
    ]
    assert out["items"][0]["feedback"]["label"] == "legit"
    assert _outbox(dsn) == [(a.transaction_id, "legit"), (b.transaction_id, "legit")]
    # the same verdict again: no new label
    again = _post(
        client,
        keys.write,
        "/v1/feedback/bulk",
        {"alert_ids": [a.alert_id], "verdict": "false_positive"},
    )
    assert (again["stored"], again["repeated"]) == (0, 1)
    # three changes are allowed, the fourth is a 409 item; the other alert still changes
    for verdict in ("confirmed_fraud", "false_positive", "confirmed_fraud"):
        _post(
            client,
            keys.write,
            "/v1/feedback/bulk",
            {"alert_ids": [a.alert_id], "verdict": verdict},
        )
    last = _post(
        client,
        keys.write,
        "/v1/feedback/bulk",
        {"alert_ids": [a.alert_id, b.alert_id], "verdict": "false_positive"},
    )
    assert [i["status"] for i in last["items"]] == [409, 200]
    assert "limit" in last["items"][0]["detail"]
    assert last["items"][1]["feedback"]["repeated"]
    assert len(_outbox(dsn)) == 2 + 3
    with psycopg.connect(dsn) as conn:
        notes = conn.execute(
            "select count(*) from app.analyst_notes where alert_id = %s", (a.alert_id,)
        ).fetchone()
    assert notes == (4,)
    # limits and scopes
    too_many = {"alert_ids": [str(uuid.uuid4()) for _ in range(201)], "verdict": "false_positive"}
    refused = client.post("/v1/feedback/bulk", json=too_many, headers={"X-API-Key": keys.write})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.alert_ids"
    forbidden = client.post(
        "/v1/feedback/bulk",
        json={"alert_ids": [a.alert_id], "verdict": "false_positive"},
        headers={"X-API-Key": keys.read},
    )
    assert forbidden.status_code == 403


def test_search_by_transaction_customer_and_merchant(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    alerts = _land(api_settings)
    k = keys.read
    by_tx = _get(client, k, "/v1/search", q=alerts[3].transaction_id)
    assert [(h["alert_id"], h["matched"]) for h in by_tx["items"]] == [
        (alerts[3].alert_id, ["transaction_id"])
    ]
    assert by_tx["items"][0]["link"] == f"/v1/alerts/{alerts[3].alert_id}"
    assert by_tx["items"][0]["case_id"] is None
    by_customer = _get(client, k, "/v1/search", q="C2")
    assert [h["alert_id"] for h in by_customer["items"]] == [
        a.alert_id for a in reversed(alerts) if a.customer_id == "C2"
    ]
    assert not by_customer["truncated"]
    by_merchant = _get(client, k, "/v1/search", q="M1", limit=3)
    assert len(by_merchant["items"]) == 3
    assert by_merchant["truncated"]
    assert all(h["matched"] == ["merchant_id"] for h in by_merchant["items"])
    assert _get(client, k, "/v1/search", q="nobody")["items"] == []
    bad = client.get("/v1/search", params={"q": "x' or 1=1"}, headers={"X-API-Key": k})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.q"
    limited = client.get("/v1/search", params={"q": "C1", "limit": 51}, headers={"X-API-Key": k})
    assert limited.status_code == 422
    assert client.get("/v1/search", params={"q": "C1"}).status_code == 401


def test_case_lifecycle_and_audit_trail(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    alerts = _land(api_settings)
    c1 = [a for a in alerts if a.customer_id == "C1"]
    c2 = [a for a in alerts if a.customer_id == "C2"]
    w = keys.write
    case = _post(
        client,
        w,
        "/v1/cases",
        {"customer_id": "C1", "alert_ids": [c1[0].alert_id, c1[1].alert_id], "assignee": "alice"},
        201,
    )
    case_id = case["case_id"]
    assert (case["state"], case["assignee"], case["alert_count"]) == ("open", "alice", 2)
    assert case["created_by"] == "analyst"
    assert case["age_seconds"] >= 0
    # another customer's alert, an alert in a case already, an unknown alert
    other = client.post(
        "/v1/cases",
        json={"customer_id": "C1", "alert_ids": [c2[0].alert_id]},
        headers={"X-API-Key": w},
    )
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "body.alert_ids"
    assert "a case holds one customer's alerts" in other.json()["detail"]
    twice = client.post(
        "/v1/cases",
        json={"customer_id": "C1", "alert_ids": [c1[0].alert_id]},
        headers={"X-API-Key": w},
    )
    assert twice.status_code == 409
    assert f"already in case {case_id}" in twice.json()["detail"]
    unknown = client.post(
        "/v1/cases",
        json={"customer_id": "C1", "alert_ids": [str(uuid.uuid4())]},
        headers={"X-API-Key": w},
    )
    assert unknown.status_code == 404
    with psycopg.connect(dsn) as conn:  # the refused requests left no case behind
        assert conn.execute("select count(*) from app.cases").fetchone() == (1,)

    _post(client, w, f"/v1/cases/{case_id}/alerts", {"alert_ids": [c1[2].alert_id]})
    _post(client, w, f"/v1/cases/{case_id}/assign", {"assignee": "bob@bank"})
    review = _post(client, w, f"/v1/cases/{case_id}/state", {"state": "in_review"})
    assert (review["state"], review["assignee"], review["alert_count"]) == (
        "in_review",
        "bob@bank",
        3,
    )
    same = _post(client, w, f"/v1/cases/{case_id}/state", {"state": "in_review"})
    assert len(same["events"]) == len(review["events"])
    detail = _get(client, keys.read, f"/v1/alerts/{c1[0].alert_id}")
    assert detail["case_id"] == case_id
    hit = _get(client, keys.read, "/v1/search", q=c1[0].transaction_id)
    assert hit["items"][0]["case_id"] == case_id

    closed = _post(
        client, w, f"/v1/cases/{case_id}/close", {"outcome": "fraud", "note": "confirmed"}
    )
    assert closed["state"] == "closed_fraud"
    assert closed["closed_at"] is not None
    assert {a["status"] for a in closed["alerts"]} == {"confirmed_fraud"}
    assert [e["action"] for e in closed["events"]] == [
        "created",
        "alerts_added",
        "assigned",
        "state_changed",
        "closed",
    ]
    assert {e["actor"] for e in closed["events"]} == {"analyst"}
    assert closed["events"][2]["detail"] == {"from": "alice", "to": "bob@bank"}
    assert sorted(closed["events"][-1]["detail"]["labelled"]) == sorted(a.alert_id for a in c1[:3])
    assert sorted(_outbox(dsn)) == sorted((a.transaction_id, "fraud") for a in c1[:3])
    with psycopg.connect(dsn) as conn:
        notes = conn.execute(
            "select verdict, note from app.analyst_notes order by note_id"
        ).fetchall()
    assert notes == [("confirmed_fraud", "confirmed")] * 3
    # a closed case no longer changes
    for path, body in (
        ("close", {"outcome": "legit"}),
        ("state", {"state": "open"}),
        ("assign", {"assignee": None}),
        ("alerts", {"alert_ids": [c1[3].alert_id]}),
    ):
        response = client.post(f"/v1/cases/{case_id}/{path}", json=body, headers={"X-API-Key": w})
        assert response.status_code == 409, (path, response.text)
    # the list: filters and the cursor
    second = _post(
        client, w, "/v1/cases", {"customer_id": "C2", "alert_ids": [c2[0].alert_id]}, 201
    )
    listed = _get(client, keys.read, "/v1/cases", limit=1)
    assert [c["case_id"] for c in listed["items"]] == [second["case_id"]]
    rest = _get(client, keys.read, "/v1/cases", limit=1, cursor=listed["next_cursor"])
    assert [c["case_id"] for c in rest["items"]] == [case_id]
    assert rest["next_cursor"] is None
    assert [
        c["case_id"] for c in _get(client, keys.read, "/v1/cases", state="closed_fraud")["items"]
    ] == [case_id]
    assert _get(client, keys.read, "/v1/cases", assignee="nobody")["items"] == []
    assert [
        c["case_id"] for c in _get(client, keys.read, "/v1/cases", customer_id="C2")["items"]
    ] == [second["case_id"]]
    missing = client.get("/v1/cases/999999", headers={"X-API-Key": keys.read})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/cases", headers={"X-API-Key": keys.write_only}).status_code == 403
    assert (
        client.post(
            f"/v1/cases/{second['case_id']}/close",
            json={"outcome": "legit"},
            headers={"X-API-Key": keys.read},
        ).status_code
        == 403
    )


def test_closing_a_case_is_all_or_nothing(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    a, b = make_alert(1), make_alert(2)
    land_alert(dsn, a)
    land_alert(dsn, b)
    w = keys.write
    # alert b has used up its re-label limit and stays confirmed_fraud
    for verdict in ("false_positive", "confirmed_fraud", "false_positive", "confirmed_fraud"):
        _post(client, w, f"/v1/alerts/{b.alert_id}/feedback", {"verdict": verdict})
    before = _outbox(dsn)
    case = _post(
        client, w, "/v1/cases", {"customer_id": "C0001", "alert_ids": [a.alert_id, b.alert_id]}, 201
    )
    refused = client.post(
        f"/v1/cases/{case['case_id']}/close",
        json={"outcome": "legit"},
        headers={"X-API-Key": w},
    )
    assert refused.status_code == 409, refused.text
    assert b.alert_id in refused.json()["detail"]
    after = _get(client, keys.read, f"/v1/cases/{case['case_id']}")
    assert after["state"] == "open"
    assert {x["alert_id"]: x["status"] for x in after["alerts"]} == {
        a.alert_id: "new",
        b.alert_id: "confirmed_fraud",
    }
    assert [e["action"] for e in after["events"]] == ["created"]
    assert _outbox(dsn) == before
    # closing with b's own verdict labels a and leaves b as it is (a repeat, no new label)
    closed = _post(client, w, f"/v1/cases/{case['case_id']}/close", {"outcome": "fraud"})
    assert closed["events"][-1]["detail"]["labelled"] == [a.alert_id]
    assert closed["events"][-1]["detail"]["unchanged"] == [b.alert_id]
    assert _outbox(dsn) == [*before, (a.transaction_id, "fraud")]


def test_the_case_audit_trail_is_append_only(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    a = make_alert(1)
    land_alert(dsn, a)
    _post(client, keys.write, "/v1/cases", {"customer_id": "C0001", "alert_ids": [a.alert_id]}, 201)
    for statement in (
        "update app.case_events set actor = 'someone else'",
        "delete from app.case_events",
        "truncate app.case_events cascade",
    ):
        with psycopg.connect(dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select actor from app.case_events").fetchall() == [("analyst",)]


def test_unknown_case_and_wrong_method_are_problems(client: TestClient, keys: Keys) -> None:
    missing = client.post(
        "/v1/cases/999999/assign", json={"assignee": "bob"}, headers={"X-API-Key": keys.write}
    )
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "path.case_id"
    # GET and POST /v1/cases are two routes: the 405 names both.
    wrong = client.put("/v1/cases", headers={"X-API-Key": keys.write})
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, POST"
    assert wrong.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/feedback/bulk").headers["allow"] == "POST"
    too_big = client.get("/v1/cases/9223372036854775808", headers={"X-API-Key": keys.read})
    assert too_big.status_code == 422
