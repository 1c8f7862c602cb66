"""``GET /v1/quality/verdict-time``'s statement before and after V046, on the alert API bench's
database (``bench/alert_api.py`` seeds it: 1,000,000 alerts, verdicts on 35% of those older
than a day).

Both statements run as the API runs them: asyncpg, the pool's session settings (TimeZone UTC,
the API's 5 s statement timeout), the new one in a transaction with its ``VERDICT_SETTINGS``.
Reported per statement: wall time of each call, or ``timeout``; then the same calls without the
timeout (how long the old one really takes), and whether both give the same rows.

Usage: ``scripts/uv.sh run python bench/verdict_time_before_after.py [--days 31] [--rounds 5]``
(prints JSON; docs/benchmarks.md records the run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from streamflow.alert_api.config import Settings
from streamflow.alert_api.routes import quality as quality_route
from streamflow.platform.settings import PostgresSettings

DB = "streamflow_bench_alert_api"

# The statement of routes/quality.py before V046 (commit 28d9716), unchanged.
BEFORE_SQL = """
with first_verdict as (
    select n.alert_id, min(n.created_at) as first_at
    from app.analyst_notes as n
    where n.verdict is not null and n.created_at >= $1
    group by n.alert_id
),
a as (
    select (x.detected_at at time zone 'UTC')::date as day, x.detected_at,
           coalesce(v.first_at, case when x.status <> 'new' then x.status_updated_at end)
               as verdict_at
    from app.alerts as x
    left join first_verdict as v on v.alert_id = x.alert_id
    where x.detected_at >= $1 and x.detected_at <= $2
),
s as (
    -- greatest() skips nulls, so a pending alert (null) stays null only through the case
    select day, detected_at,
           case when verdict_at is not null then
               greatest(0, extract(epoch from (verdict_at - detected_at)))::double precision
           end as seconds
    from a
)
select day, count(*) as alerts, count(seconds) as judged,
       percentile_cont(0.5) within group (order by seconds) as p50,
       percentile_cont(0.9) within group (order by seconds) as p90,
       avg(seconds) as mean,
       max(extract(epoch from ($2 - detected_at))) filter (where seconds is null)
           as oldest_pending
from s group by grouping sets ((day), ()) order by day nulls first
"""


async def _call(
    conn: asyncpg.Connection, new: bool, since: datetime, until: datetime, first: date
) -> list[Any]:
    if not new:
        rows: list[Any] = await conn.fetch(BEFORE_SQL, since, until)
        return rows
    async with conn.transaction():
        await conn.execute(quality_route.VERDICT_SETTINGS)
        rows = await conn.fetch(quality_route._VERDICT_SQL, since, until, first, until.date())
    return rows


async def _timed(
    dsn: str, timeout_ms: int | None, new: bool, rounds: int, days: int
) -> tuple[list[float | str], list[Any]]:
    settings = {"TimeZone": "UTC", "DateStyle": "ISO"}
    if timeout_ms is not None:
        settings["statement_timeout"] = str(timeout_ms)
    conn: asyncpg.Connection = await asyncpg.connect(dsn, server_settings=settings)
    out: list[float | str] = []
    rows: list[Any] = []
    try:
        for _ in range(rounds):
            until = datetime.now(UTC)
            first = until.date() - timedelta(days=days - 1)
            since = datetime(first.year, first.month, first.day, tzinfo=UTC)
            started = time.perf_counter()
            try:
                rows = await _call(conn, new, since, until, first)
            except asyncpg.QueryCanceledError:
                out.append("timeout")
                continue
            out.append(round((time.perf_counter() - started) * 1000, 1))
    finally:
        await conn.close()
    return out, rows


def _same(before: list[Any], after: list[Any]) -> bool:
    """Same days and figures (floats to 1e-6 relative: the sums' order differs)."""
    a = {r["day"]: dict(r) for r in before}
    b = {r["day"]: dict(r) for r in after}
    if a.keys() != b.keys():
        return False
    for day, row in a.items():
        for field in ("alerts", "judged", "p50", "p90", "mean"):
            x, y = row[field], b[day][field]
            if (x is None) != (y is None):
                return False
            if x is not None and abs(float(x) - float(y)) > 1e-6 * max(1.0, abs(float(x))):
                return False
    return True


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    dsn = PostgresSettings().dsn(DB)
    timeout = Settings().db_statement_timeout_ms
    load = os.getloadavg()[0]
    result: dict[str, Any] = {"days": args.days, "statement_timeout_ms": timeout}
    for name, new in (("before", False), ("after", True)):
        result[f"{name}_ms_with_api_timeout"] = (
            await _timed(dsn, timeout, new, args.rounds, args.days)
        )[0]
    before, before_rows = await _timed(dsn, None, False, 2, args.days)
    after, after_rows = await _timed(dsn, None, True, 2, args.days)
    result["before_ms_no_timeout"] = before
    result["after_ms_no_timeout"] = after
    result["same_rows"] = _same(before_rows, after_rows)
    result["period_alerts"] = next((int(r["alerts"]) for r in after_rows if r["day"] is None), None)
    result["load_avg_1m_before"] = round(load, 2)
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
