"""The quality dashboard's endpoints (issue #21 item 5, ADR 0102) on real PostgreSQL, logged in
as the API's own role, and a real Prometheus: detection quality from the gold mart (through
``app.detection_quality()``, V037), time to verdict from the API's tables, the scorer's live rate
and latency, and what each says when its source is missing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alert_api_helpers import land_alert, make_alert
from fastapi.testclient import TestClient
from psycopg import errors
from quality_helpers import (
    PENDING,
    PROMETHEUS,
    RATE,
    RunningPrometheus,
    build_mart,
    running_prometheus,
    young_series_queries,
)

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import PostgresSettings

pytestmark = pytest.mark.integration

API_ROLE = "streamflow_api"


@pytest.fixture
def role_settings(api_settings: Settings, pg_settings: PostgresSettings) -> Settings:
    """The API's settings logged in as its own role (ADR 0105), as in every deployment."""
    return api_settings.model_copy(update={"pg": pg_settings.as_role(API_ROLE)})


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _get(client: TestClient, key: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


def test_rules_read_the_gold_mart_through_its_one_function(
    role_settings: Settings, pg_settings: PostgresSettings, keys: Keys
) -> None:
    today = datetime.now(UTC).date()
    d1, d3 = today - timedelta(days=2), today
    with _client(role_settings) as client:
        # Before the first dbt run there is no mart: said in the body, not a 5xx.
        missing = _get(client, keys.read, "/v1/quality/rules", days=3)
        assert missing["available"] is False
        assert "not built yet" in missing["detail"]
        assert missing["rules"] == []
        assert missing["days"] == [
            str(d1),
            str(d1 + timedelta(1)),
            str(d3),
        ]

        build_mart(
            pg_settings,
            [
                (d1, "ALL", 2, 1, 1, 2),
                (d1, "FR-001", 2, 1, 1, 2),
                (d1, "FR-002", 1, 1, 0, 2),
                (d3, "ALL", 4, 3, 0, 4),
                (d3, "FR-002", 4, 3, 0, 4),
                (today - timedelta(days=10), "ALL", 50, 5, 5, 9),  # outside the 3 days
            ],
        )
        body = _get(client, keys.read, "/v1/quality/rules", days=3)
        assert body["available"] is True
        assert body["detail"] is None
        assert body["source"] == "gold.agg_detection_quality"
        assert body["fraud_total"] == [2, 0, 4]
        assert [r["rule_id"] for r in body["rules"]] == ["ALL", "FR-002", "FR-001"]
        all_ = body["rules"][0]
        assert {k: all_[k] for k in ("alerts", "confirmed_fraud", "false_positives")} == {
            "alerts": 6,
            "confirmed_fraud": 4,
            "false_positives": 1,
        }
        assert all_["precision"] == 0.8
        assert all_["recall"] == round(4 / 6, 4)
        assert all_["daily"]["alerts"] == [2, 0, 4]
        assert all_["daily"]["precision"] == [0.5, None, 1.0]
        assert body["rules"][2]["daily"]["recall"] == [0.5, None, 0.0]
        assert body["truncated"] is False

        # dbt rebuilds the mart (a new table): the read still works, no grant to re-apply.
        build_mart(pg_settings, [(d3, "ALL", 1, 1, 0, 1)])
        again = _get(client, keys.read, "/v1/quality/rules", days=1)
        assert [(r["rule_id"], r["alerts"], r["precision"]) for r in again["rules"]] == [
            ("ALL", 1, 1.0)
        ]
        # A key without the read scope is refused, as everywhere.
        assert (
            client.get("/v1/quality/rules", headers={"X-API-Key": keys.write_only}).status_code
            == 403
        )
        assert client.get("/v1/quality/rules").status_code == 401


def test_the_api_role_reads_the_mart_only_through_the_function(
    pg_settings: PostgresSettings,
) -> None:
    """V037 (ADR 0105's table): execute on app.detection_quality() for the API, nothing else of
    gold; the other service roles may not call it."""
    today = datetime.now(UTC).date()
    build_mart(pg_settings, [(today, "ALL", 3, 1, 1, 2)])
    with psycopg.connect(pg_settings.as_role(API_ROLE).dsn()) as conn:
        rows = conn.execute(
            "select rule_id, alerts from app.detection_quality(%s, %s, 10)", (today, today)
        ).fetchall()
        assert rows == [("ALL", 3)]
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select * from gold.agg_detection_quality")
    for role in ("streamflow_ingestor", "streamflow_generator", "streamflow_warehouse"):
        with (
            psycopg.connect(pg_settings.as_role(role).dsn()) as conn,
            pytest.raises(errors.InsufficientPrivilege),
        ):
            conn.execute("select * from app.detection_quality(current_date, current_date, 1)")
    with psycopg.connect(pg_settings.dsn()) as conn:
        definer, config = conn.execute(
            "select prosecdef, proconfig from pg_proc where oid = "
            "'app.detection_quality(date, date, integer)'::regprocedure"
        ).fetchone() or (None, None)
    assert definer is True
    assert config == ["search_path=pg_catalog, pg_temp"]


def test_time_to_verdict_from_the_apis_tables(
    role_settings: Settings, api_settings: Settings, keys: Keys
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    dsn = api_settings.pg.dsn()
    # Three alerts detected today (or just before midnight UTC, then yesterday), one waiting.
    detected = [now - timedelta(minutes=m) for m in (50, 40, 30)]
    alerts = [make_alert(700 + i, detected_at=d) for i, d in enumerate(detected)]
    for alert in alerts:
        land_alert(dsn, alert)
    with _client(role_settings) as client:
        for alert in alerts[:2]:
            response = client.post(
                f"/v1/alerts/{alert.alert_id}/feedback",
                json={"verdict": "false_positive", "note": None},
                headers={"X-API-Key": keys.write},
            )
            assert response.status_code == 200, response.text
        # The first verdicts' times, made exact: 10 and 30 minutes after detection.
        with psycopg.connect(dsn) as conn:
            for alert, minutes in zip(alerts[:2], (10, 30), strict=True):
                conn.execute(
                    "update app.analyst_notes set created_at = %s where alert_id = %s",
                    (alert.detected_at + timedelta(minutes=minutes), alert.alert_id),
                )
        body = _get(client, keys.read, "/v1/quality/verdict-time", days=2)
    overall = body["overall"]
    assert (overall["alerts"], overall["judged"], overall["pending"]) == (3, 2, 1)
    assert overall["p50_seconds"] == 1200.0  # median of 600 and 1800
    assert overall["mean_seconds"] == 1200.0
    assert overall["p90_seconds"] == 1680.0
    assert overall["oldest_pending_seconds"] >= 30 * 60
    assert len(body["days"]) == 2
    assert sum(d["alerts"] for d in body["days"]) == 3
    assert sum(d["judged"] for d in body["days"]) == 2


def test_first_verdict_follows_the_notes_whoever_writes_them(
    role_settings: Settings, api_settings: Settings, keys: Keys
) -> None:
    """V046 keeps each alert's first verdict (its oldest note with a verdict) on the alert, so
    the verdict-time statement reads no notes: a re-label keeps the first verdict, and notes
    changed or deleted outside the API move it as the notes say."""
    now = datetime.now(UTC).replace(microsecond=0)
    dsn = api_settings.pg.dsn()
    alert = make_alert(750, detected_at=now - timedelta(hours=2))
    land_alert(dsn, alert)

    def first_verdict() -> Any:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "select first_verdict_at from app.alerts where alert_id = %s", (alert.alert_id,)
            ).fetchone()
        assert row is not None
        return row[0]

    assert first_verdict() is None
    with _client(role_settings) as client:
        for verdict in ("false_positive", "confirmed_fraud"):  # a verdict, then a re-label
            response = client.post(
                f"/v1/alerts/{alert.alert_id}/feedback",
                json={"verdict": verdict, "note": None},
                headers={"X-API-Key": keys.write},
            )
            assert response.status_code == 200, response.text
        with psycopg.connect(dsn) as conn:
            notes = conn.execute(
                "select created_at from app.analyst_notes where alert_id = %s order by note_id",
                (alert.alert_id,),
            ).fetchall()
        assert len(notes) == 2
        assert first_verdict() == notes[0][0]
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "update app.analyst_notes set created_at = %s where alert_id = %s "
                "and verdict = 'false_positive'",
                (alert.detected_at + timedelta(minutes=5), alert.alert_id),
            )
        assert first_verdict() == alert.detected_at + timedelta(minutes=5)
        body = _get(client, keys.read, "/v1/quality/verdict-time", days=2)
        assert body["overall"]["p50_seconds"] == 300.0
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "delete from app.analyst_notes where alert_id = %s and verdict = 'false_positive'",
                (alert.alert_id,),
            )
        assert first_verdict() == notes[1][0]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    if not PROMETHEUS.exists():
        pytest.skip("prometheus missing: run make setup (Debian package prometheus)")
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as running:
        yield running


def test_scorer_rate_and_latency_from_a_real_prometheus(
    role_settings: Settings, keys: Keys, prometheus: RunningPrometheus
) -> None:
    settings = role_settings.model_copy(
        update={"prometheus_url": prometheus.url, **young_series_queries(Settings)}
    )
    with _client(settings) as client:
        body = _get(client, keys.read, "/v1/quality/scorer", minutes=5)
    assert body["available"] is True, body["detail"]
    assert body["source"] == "prometheus"
    # Only the scorer's transactions source: not its feedback source, its scoring operator
    # (7x) nor the other job (50x); latency = its pending records over that rate.
    assert body["rate_per_second"] == pytest.approx(RATE, rel=0.05)
    assert body["latency_seconds"] == pytest.approx(PENDING / RATE, rel=0.05)
    series = body["series"]
    assert len(series["t"]) == len(series["rate_per_second"]) == len(series["latency_seconds"])
    assert body["step_seconds"] == 5
    assert len(series["t"]) == 61
    assert any(v is not None for v in series["rate_per_second"])


def test_scorer_says_so_when_prometheus_refuses_the_query(
    role_settings: Settings, keys: Keys, prometheus: RunningPrometheus
) -> None:
    settings = role_settings.model_copy(
        update={"prometheus_url": prometheus.url, "scorer_rate_query": "sum(("}
    )
    with _client(settings) as client:
        body = _get(client, keys.read, "/v1/quality/scorer")
    assert body["available"] is False
    assert "refused the query" in body["detail"]


def test_scorer_says_so_when_prometheus_is_unreachable(role_settings: Settings, keys: Keys) -> None:
    nobody = f"http://127.0.0.1:{free_loopback_port()}"
    settings = role_settings.model_copy(update={"prometheus_url": nobody})
    with _client(settings) as client:
        response = client.get("/v1/quality/scorer", headers={"X-API-Key": keys.read})
    assert response.status_code == 200
    body = response.json()
    assert body["available"] is False
    assert body["detail"].startswith("Prometheus unreachable")
    assert body["rate_per_second"] is None
    assert body["series"]["t"] == []


def test_dashboard_endpoints_are_documented_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/v1/quality/rules", "/v1/quality/verdict-time", "/v1/quality/scorer"):
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["quality"]
        assert "401" in operation["responses"]
        assert "403" in operation["responses"]
    for name in ("DetectionQuality", "TimeToVerdict", "ScorerLive"):
        assert schema["components"]["schemas"][name]["examples"], name


def test_static_assets_are_allow_listed(client: TestClient, tmp_path: Path) -> None:
    for name, media in (
        ("uPlot.iife.min.js", "text/javascript"),
        ("uPlot.min.css", "text/css"),
        ("uPlot.LICENSE", "text/plain"),
        ("quality.js", "text/javascript"),
        ("dom.js", "text/javascript"),
    ):
        response = client.get(f"/console/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media)
    assert "MIT License" in client.get("/console/assets/uPlot.LICENSE").text
    assert client.get("/console/assets/console.html").status_code == 404
    assert client.get("/console/assets/..%2Fconfig.py").status_code == 404
