"""The queue counters of V047 on real PostgreSQL: ``app.alert_counts`` equals a live count of
``app.alerts`` per status, severity and rule after every kind of write (the projection of landed
batches, single and bulk verdicts, re-labels, a closing case, direct updates, deletes, TRUNCATE),
also with writers running at once, and ``GET /v1/queues`` answers from it (exact) or counts live
up to the cap (capped)."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import psycopg
import pytest
from alert_api_helpers import land_alert, land_batch, make_alert
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.keys import create_key
from streamflow.alert_api.verdicts import record_verdict
from streamflow.events import AnalystVerdict, FraudAlert, Topic, encode

pytestmark = pytest.mark.integration

Key = tuple[str, str, str | None]  # status, severity, rule id (None: every alert, counted once)

_LIVE_SQL = """
select status, severity, null::text, count(*) from app.alerts group by status, severity
union all
select a.status, a.severity, r.rule_id, count(*)
from app.alerts as a
cross join lateral (
    select distinct x from unnest(a.rule_ids) as x where x is not null
) as r (rule_id)
group by a.status, a.severity, r.rule_id
"""
_COUNTERS_SQL = """
select status, severity, rule_id, sum(alerts) from app.alert_counts
group by status, severity, rule_id having sum(alerts) <> 0
"""


def _counts(dsn: str, statement: str) -> dict[Key, int]:
    with psycopg.connect(dsn) as conn:
        return {(s, v, r): int(n) for s, v, r, n in conn.execute(statement).fetchall()}


def assert_counters_exact(dsn: str) -> dict[Key, int]:
    """The counters equal the live count, before and after folding their deltas."""
    live = _counts(dsn, _LIVE_SQL)
    assert _counts(dsn, _COUNTERS_SQL) == live
    with psycopg.connect(dsn) as conn:
        conn.execute("select app.rollup_alert_counts()")
    assert _counts(dsn, _COUNTERS_SQL) == live
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("select count(*) from app.alert_counts").fetchone()
    assert rows is not None
    assert rows[0] == len(live)  # folded: one row per key
    return live


def _delta_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select count(*) from app.alert_counts").fetchone()
    assert row is not None
    return int(row[0])


def land_alert_batch(settings: Settings, alerts: list[FraudAlert], offsets: list[int]) -> int:
    """Land alerts as one batch with the ingestor's own batch writer, logged in as its role
    (one COPY, or the staging merge when an offset was landed before); rows bronze inserted."""
    pairs = [(a.customer_id.encode(), encode(a)) for a in alerts]
    return land_batch(settings, Topic.FRAUD_ALERTS, pairs, offsets, "fraud.alerts")


def _batch(first: int, n: int) -> list[FraudAlert]:
    """``n`` alerts: three customers, scores across every severity, one to three rules each."""
    rules = [("FR-001",), ("FR-002", "FR-001"), ("FR-003", "FR-002", "FR-005"), ("FR-004",)]
    return [
        make_alert(
            i,
            customer_id=f"C{i % 3}",
            merchant_id=f"M{i % 2}",
            score=0.5 + (i % 10) * 0.05,
            rules=rules[i % len(rules)],
        )
        for i in range(first, first + n)
    ]


def _get(client: TestClient, key: str, **params: Any) -> Any:
    response = client.get("/v1/queues", params=params, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


def _post(client: TestClient, key: str, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body, headers={"X-API-Key": key})
    assert response.status_code in {200, 201}, response.text
    return response.json()


def _per_status(live: dict[Key, int], severity: str | None, rule: str | None) -> dict[str, int]:
    out = dict.fromkeys(("new", "confirmed_fraud", "false_positive"), 0)
    for (status, sev, rule_id), n in live.items():
        if rule_id == rule and severity in {None, sev}:
            out[status] += n
    return out


def test_counters_follow_every_writer(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    assert assert_counters_exact(dsn) == {}
    # One ingest batch: one COPY, one projection statement, one delta row per key (not per
    # alert). The batch holds one alert twice (a re-sent record at another offset): once.
    alerts = _batch(1, 40)
    assert land_alert_batch(api_settings, [*alerts, alerts[0]], list(range(100, 141))) == 41
    live = _counts(dsn, _LIVE_SQL)
    assert sum(n for (_, _, rule), n in live.items() if rule is None) == 40
    assert _delta_rows(dsn) == len(live)
    assert_counters_exact(dsn)
    # A re-delivered batch (the staging merge): only its new offsets land, only new alerts count.
    more = _batch(41, 5)
    assert land_alert_batch(api_settings, [*alerts[:3], *more], [100, 101, 102, *range(141, 146)])
    land_alert(dsn, make_alert(46, rules=("FR-004", "FR-001")))  # one row, one statement
    live = assert_counters_exact(dsn)
    assert live[("new", "high", "FR-001")] == sum(
        1
        for a in [*alerts, *more, make_alert(46, rules=("FR-001",))]
        if a.severity.value == "high" and "FR-001" in _rules(a)
    )

    ids = [a.alert_id for a in [*alerts, *more]]
    # a single verdict, a repeat (no change), a re-label
    _post(client, keys.write, f"/v1/alerts/{ids[0]}/feedback", {"verdict": "confirmed_fraud"})
    _post(client, keys.write, f"/v1/alerts/{ids[0]}/feedback", {"verdict": "confirmed_fraud"})
    assert_counters_exact(dsn)
    _post(client, keys.write, f"/v1/alerts/{ids[0]}/feedback", {"verdict": "false_positive"})
    assert_counters_exact(dsn)
    # a bulk verdict
    bulk = {"alert_ids": ids[1:9], "verdict": "false_positive", "note": "bulk"}
    _post(client, keys.write, "/v1/feedback/bulk", bulk)
    assert_counters_exact(dsn)
    # a case of one customer's alerts, closed as fraud (one transaction, every alert labelled)
    c0 = [a.alert_id for a in [*alerts, *more] if a.customer_id == "C0"][4:8]
    case = _post(client, keys.write, "/v1/cases", {"customer_id": "C0", "alert_ids": c0})
    assert case["alert_count"] == 4
    _post(client, keys.write, f"/v1/cases/{case['case_id']}/close", {"outcome": "fraud"})
    live = assert_counters_exact(dsn)

    # GET /v1/queues answers from the counters, exactly, for every severity and rule
    for severity in (None, "low", "medium", "high", "critical"):
        for rule in (None, "FR-001", "FR-002", "FR-005", "FR-999"):
            params = {k: v for k, v in {"severity": severity, "rule_id": rule}.items() if v}
            expected = _per_status(live, severity, rule)
            assert _get(client, keys.read, **params) == {
                "counts": expected,
                "total": sum(expected.values()),
                "exact": True,
                "capped": [],
            }

    # Writers other than the API: an operator's changes of severity and rules, a delete.
    with psycopg.connect(dsn) as conn:
        conn.execute(
            # a rule listed twice counts once, as the list's rule filter (rule_ids @> ...) does
            "update app.alerts set severity = 'low', "
            "rule_ids = array['FR-009', 'FR-009', 'FR-001'] where alert_id = any(%s::uuid[])",
            (ids[10:14],),
        )
        conn.execute("update app.alerts set first_verdict_at = now()")  # no key changes
        deleted = conn.execute(
            "delete from app.alerts as a where alert_id = any(%s::uuid[]) and not exists "
            "(select from app.case_alerts as c where c.alert_id = a.alert_id) and not exists "
            "(select from app.analyst_notes as n where n.alert_id = a.alert_id)",
            (ids[20:30],),
        )
        assert deleted.rowcount >= 4
    assert_counters_exact(dsn)
    with psycopg.connect(dsn) as conn:
        conn.execute("truncate app.alerts cascade")
    assert assert_counters_exact(dsn) == {}


def _rules(alert: FraudAlert) -> set[str]:
    return {r.rule_id for r in alert.triggered_rules}


def test_filters_beyond_the_counters_are_counted_up_to_the_cap(
    api_settings: Settings, keys: Keys
) -> None:
    dsn = api_settings.pg.dsn()
    alerts = _batch(1, 12)
    land_alert_batch(api_settings, alerts, list(range(200, 212)))
    capped = api_settings.model_copy(update={"queue_count_cap": 3})
    with TestClient(create_app(capped), raise_server_exceptions=False) as client:
        _post(
            client,
            keys.write,
            f"/v1/alerts/{alerts[0].alert_id}/feedback",
            {"verdict": "confirmed_fraud"},
        )
        # A score range matching 9 new alerts: "more than 3"
        wide = _get(client, keys.read, min_score=0.58)
        assert wide == {
            "counts": {"new": 3, "confirmed_fraud": 0, "false_positive": 0},
            "total": 3,
            "exact": False,
            "capped": ["new"],
        }
        # within the cap: exact, though counted live
        narrow = _get(client, keys.read, merchant_id="M1", min_score=0.7)
        matching = [a for a in alerts if a.merchant_id == "M1" and a.score >= 0.7]
        assert 0 < len(matching) <= 3
        assert narrow == {
            "counts": {"new": len(matching), "confirmed_fraud": 0, "false_positive": 0},
            "total": len(matching),
            "exact": True,
            "capped": [],
        }
        confirmed = _get(client, keys.read, since="2026-01-01T00:00:00Z")
        assert confirmed["counts"] == {"new": 3, "confirmed_fraud": 1, "false_positive": 0}
        assert confirmed["capped"] == ["new"]
        # severity and rule alone: the counters, exact beyond the cap
        everything = _get(client, keys.read)
        assert everything["counts"]["new"] == 11
        assert everything["exact"] is True
        assert _get(client, keys.read, rule_id="FR-001")["counts"]["new"] == sum(
            1 for a in alerts[1:] if "FR-001" in _rules(a)
        )
    assert_counters_exact(dsn)


def test_concurrent_ingest_verdicts_and_folds_keep_exact_counts(
    api_settings: Settings,
) -> None:
    """Ingest batches (as the ingestor role, through the projection), multi-alert verdict
    transactions through the verdict path (as the API role) and folds, all at once: nothing
    deadlocks or waits for another's counters, and the counts are exact after."""
    dsn = api_settings.pg.dsn()
    seed = _batch(1, 60)
    land_alert_batch(api_settings, seed, list(range(1000, 1060)))
    key_id = create_key(api_settings, "concurrent", ["alerts:read", "alerts:write"], 0)[0]
    ingestor_dsn = api_settings.pg.as_role("streamflow_ingestor").dsn()
    api_dsn = api_settings.pg.as_role(api_settings.pg_user).dsn()
    known = [uuid.UUID(a.alert_id) for a in seed]
    errors: list[BaseException] = []

    async def ingest(worker: int) -> None:
        conn = await asyncpg.connect(ingestor_dsn)
        try:
            for round_ in range(8):
                first = 10_000 + worker * 1000 + round_ * 25
                batch = _batch(first, 25)
                async with conn.transaction():
                    await conn.execute(
                        "insert into bronze.fraud_alerts (kafka_topic, kafka_partition, "
                        "kafka_offset, alert_id, transaction_id, customer_id, merchant_id, score, "
                        "severity, rules_version, event_time, detected_at, schema_version, "
                        "payload) "
                        "select 'fraud.alerts', $1, $3 + o, (a ->> 'alert_id')::uuid, "
                        "a ->> 'transaction_id', a ->> 'customer_id', a ->> 'merchant_id', "
                        "(a ->> 'score')::numeric, a ->> 'severity', 1, "
                        "(a ->> 'event_time')::timestamptz, (a ->> 'detected_at')::timestamptz, "
                        "1, a from unnest($2::jsonb[]) with ordinality as b (a, o)",
                        worker + 1,
                        [encode(a).decode() for a in batch],
                        first,
                    )
                    await asyncio.sleep(random.random() / 50)  # hold the transaction open
                known.extend(uuid.UUID(a.alert_id) for a in batch)
        except BaseException as exc:  # every failure is the test's business
            errors.append(exc)
        finally:
            await conn.close()

    async def judge(worker: int) -> None:
        rng = random.Random(worker)
        conn = await asyncpg.connect(api_dsn)
        try:
            for _ in range(25):
                # Several alerts in one transaction, as a closing case; in id order, as the
                # verdict paths lock them (the counters take no row lock at all).
                chosen = sorted(set(rng.sample(known, 4)))
                verdict = rng.choice(list(AnalystVerdict))
                async with conn.transaction():
                    for alert_id in chosen:
                        await record_verdict(
                            conn,
                            alert_id,
                            verdict,
                            "concurrent",
                            key_id,
                            "t",
                            100,
                            datetime.now(UTC),
                        )
                        await asyncio.sleep(rng.random() / 200)
        except BaseException as exc:
            errors.append(exc)
        finally:
            await conn.close()

    async def fold() -> None:
        conn = await asyncpg.connect(api_dsn)
        try:
            for _ in range(40):
                await conn.fetchval("select app.rollup_alert_counts()")
                await asyncio.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)
        finally:
            await conn.close()

    async def run() -> None:
        await asyncio.wait_for(
            asyncio.gather(*(ingest(w) for w in range(3)), *(judge(w) for w in range(4)), fold()),
            timeout=120,
        )

    asyncio.run(run())
    assert errors == []
    live = assert_counters_exact(dsn)
    assert sum(n for (_, _, rule), n in live.items() if rule is None) == 60 + 3 * 8 * 25
    with psycopg.connect(dsn) as conn:
        judged = conn.execute("select count(*) from app.alerts where status <> 'new'").fetchone()
    assert judged is not None
    assert judged[0] > 0


def test_the_api_role_reads_and_folds_the_counters_but_never_writes_them(
    api_settings: Settings,
) -> None:
    land_alert_batch(api_settings, _batch(1, 6), list(range(300, 306)))
    with psycopg.connect(api_settings.pg.as_role(api_settings.pg_user).dsn()) as conn:
        total = conn.execute(
            "select sum(alerts) from app.alert_counts where rule_id is null"
        ).fetchone()
        assert total == (6,)
        row = conn.execute("select app.rollup_alert_counts()").fetchone()
        assert row is not None
        assert row[0] == 0  # one landed batch: one row per key already
        for statement in (
            "insert into app.alert_counts values ('new', 'high', null, 1)",
            "update app.alert_counts set alerts = alerts + 1",
            "delete from app.alert_counts",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)


def test_each_api_process_folds_the_counters_in_the_background(
    api_settings: Settings, keys: Keys
) -> None:
    import time

    dsn = api_settings.pg.dsn()
    alerts = _batch(1, 6)
    land_alert_batch(api_settings, alerts, list(range(400, 406)))
    folding = api_settings.model_copy(update={"queue_counts_rollup_interval_s": 0.05})
    with TestClient(create_app(folding), raise_server_exceptions=False) as client:
        for alert in alerts[:3]:  # each verdict appends delta rows
            _post(
                client,
                keys.write,
                f"/v1/alerts/{alert.alert_id}/feedback",
                {"verdict": "false_positive"},
            )
        live = _counts(dsn, _LIVE_SQL)
        for _ in range(100):
            if _delta_rows(dsn) == len(live):
                break
            time.sleep(0.05)
        assert _delta_rows(dsn) == len(live)
        assert _counts(dsn, _COUNTERS_SQL) == live
        assert _get(client, keys.read)["counts"]["false_positive"] == 3
