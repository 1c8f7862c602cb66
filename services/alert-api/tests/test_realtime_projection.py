"""``GET /v1/metrics/realtime`` reads the API's projection (migration V042), never bronze, and
answers what the former query over bronze answered: real PostgreSQL, records landed in bronze the
way the ingestor lands them (one multi-row statement per batch, re-deliveries and corrections
included), each answer compared with that former query run as the owner."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from alert_api_helpers import T0
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.config import Settings
from streamflow.events import WindowMetrics

pytestmark = pytest.mark.integration

# The endpoint's query before V042, over bronze (issue 18 item 5 moved it to app); a tie in
# ingested_at (records of one batch) goes to the later offset, as in the projection.
BRONZE_WINDOWS = """
with latest as (
    select distinct on (store_id, window_start) store_id, window_start, window_end, txn_count,
           amount_sum, fraud_count
    from bronze.realtime_metrics
    where window_seconds = %(size)s::int
      and window_end > (select max(window_end) from bronze.realtime_metrics
                        where window_seconds = %(size)s::int)
                       - make_interval(secs => %(size)s::int * %(n)s::int)
    order by store_id, window_start, ingested_at desc, kafka_offset desc
)
select window_start, max(window_end) as window_end, count(*) as stores,
       sum(txn_count)::bigint as txn_count, sum(amount_sum)::text as amount_sum,
       sum(fraud_count)::bigint as fraud_count
from latest group by window_start order by window_start desc
"""
Row = tuple[str, int, int, int, Decimal, int]  # store, size, minute after T0, count, sum, fraud


def _land(conn: psycopg.Connection, rows: list[Row], offset: int) -> int:
    """One insert statement for a batch (the ingestor's ``insert ... select`` merge)."""
    values: list[Any] = []
    for store, size, minute, count, amount, fraud in rows:
        start = T0 + timedelta(minutes=minute)
        offset += 1
        values += [
            offset,
            store,
            start,
            start + timedelta(seconds=size),
            size,
            count,
            amount,
            fraud,
            WindowMetrics.SCHEMA_VERSION,
            json.dumps({"store_id": store}),
        ]
    placeholders = ", ".join(
        ["('metrics.realtime', 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows)
    )
    conn.execute(
        "insert into bronze.realtime_metrics (kafka_topic, kafka_partition, kafka_offset, "
        "store_id, window_start, window_end, window_seconds, txn_count, amount_sum, "
        f"fraud_count, schema_version, payload) values {placeholders}",
        values,
    )
    conn.commit()
    return offset


def _expected(conn: psycopg.Connection, size: int, n: int) -> list[dict[str, Any]]:
    cur = conn.execute(BRONZE_WINDOWS, {"size": size, "n": n})
    names = [c.name for c in cur.description or ()]
    return [
        {
            **dict(zip(names, r, strict=True)),
            "window_start": r[0].isoformat().replace("+00:00", "Z"),
            "window_end": r[1].isoformat().replace("+00:00", "Z"),
        }
        for r in cur.fetchall()
    ]


def _normalise(windows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            w["window_start"].replace("+00:00", "Z"),
            w["window_end"].replace("+00:00", "Z"),
            w["stores"],
            w["txn_count"],
            Decimal(w["amount_sum"]),
            w["fraud_count"],
        )
        for w in windows
    ]


def test_realtime_metrics_come_from_the_projection_as_they_came_from_bronze(
    client: TestClient, api_settings: Settings, keys: Keys
) -> None:
    rng = random.Random(18)
    dsn = api_settings.pg.dsn()
    offset = 0
    with psycopg.connect(dsn) as conn:
        # 200 one-minute windows and 40 five-minute windows for three stores, in batches of up to
        # 25 records; one record in five is re-delivered or corrected, in the same batch or later.
        records: list[Row] = [
            (store, size, minute, rng.randint(0, 50), Decimal(rng.randint(0, 99_999)) / 100, 1)
            for size, minutes in ((60, range(200)), (300, range(0, 200, 5)))
            for minute in minutes
            for store in ("S1", "S2", "S3")
            if rng.random() < 0.9
        ]
        stream = list(records)
        for record in rng.sample(records, len(records) // 5):
            stream.insert(
                rng.randint(stream.index(record), len(stream)),
                (*record[:3], record[3] + 1, record[4], 0),
            )
        while stream:
            size = rng.randint(1, 25)
            batch, stream = stream[:size], stream[size:]
            offset = _land(conn, batch, offset)

        # What the trigger kept: only windows the endpoint can still return (120 windows deep).
        oldest = conn.execute(
            "select min(window_start) from app.realtime_metrics where window_seconds = 60"
        ).fetchone()
        assert oldest == (T0 + timedelta(minutes=200 - 120),)

        for size in (60, 300, 3600):
            for n in (1, 2, 15, 120):
                body = client.get(
                    "/v1/metrics/realtime",
                    params={"window_seconds": size, "windows": n},
                    headers={"X-API-Key": keys.read},
                ).json()
                assert body["window_seconds"] == size
                assert _normalise(body["windows"]) == _normalise(_expected(conn, size, n)), (
                    size,
                    n,
                )
                assert (body["windows"] == []) is (size == 3600)
