"""Benchmark of the alert API over >= 1,000,000 alerts: the list of issue #6 and the analyst
workbench's requests of issue #21 (queues and filters, queue counts, search, customer timeline,
time to verdict).

Against the real local PostgreSQL (``make up``): a throwaway database, migrated, seeded with N
transactions by COPY into bronze in the ingestor's batches of 10,000: each one's scored record into
``bronze.scored_transactions`` (V036's statement trigger projects it into
``app.scored_transactions``, the timeline's source, ADR 0101) and its alert into
``bronze.fraud_alerts`` (V047's statement trigger projects each batch into ``app.alerts``, whose
counters V047's triggers keep), as the ingestor lands them; then verdicts on 35% of the alerts
older than a day, written as the verdict path writes them (status and analyst note; 3%
re-labelled), ANALYZEd. The API runs as its console script
(``streamflow-alert-api``) in its own processes with ``--workers`` uvicorn workers; load comes from
``wrk`` in another process (Debian's ``wrk``, installed if missing) with a rate-limit-exempt bench
key.

wrk runs once per concurrency level of a sweep (``--connections 8,16,24,32``) over a rotation of
request shapes (:data:`SHAPES` with ``in_sweep``: issue #6's five list shapes and the workbench's
pages: timeline and its older page, the queues' filtered lists sorted by age or score, search):
past the point where the API and PostgreSQL saturate the two cores, more connections add only
queueing (Little's law), so one concurrency alone says little. The headline figures are those of
the level with the most requests/s whose p99 meets the 50 ms target (the capacity at that latency
objective); if no level meets it, of the level with the most requests/s. Every level is recorded
under ``sweep``; ``sweep_issue6_only`` repeats the sweep over issue #6's five shapes alone (the
rotation of earlier runs). Then every shape runs alone (``--shape-connections 1,8``,
``--shape-duration`` s each) for its own p99, including the aggregates kept out of the rotation
(queue counts, verdict time: their cost grows with the alerts they match, not with a page).

Besides wrk's figures it records the CPU seconds the API processes and their PostgreSQL backends
spent during each measured run, per request (from /proc: comparable across runs on this shared
machine, where req/s depends on whatever else is running), and the p50/p99 EXPLAIN ANALYZE
execution time of the API's own SQL for each request shape (summed over a request's statements).

Usage: ``scripts/uv.sh run python bench/alert_api.py [--alerts 1000000] [--workers 2]
[--connections 8,16,24,32] [--duration 20] [--shapes all] [--shape-connections 1,8]
[--shape-duration 5] [--no-issue6-sweep] [--skip-seed] [--explain-only] [--shapes-only]
[--write-cost]``; writes ``bench/results/alert_api.json`` (``--shapes-only`` adds its run to that
file's ``shape_runs``, ``--write-cost`` sets its ``write_cost``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, LiteralString

import asyncpg
import httpx
import psycopg
from psycopg import sql

from streamflow.alert_api import alert_query as q
from streamflow.alert_api.config import Settings
from streamflow.alert_api.keys import create_key
from streamflow.alert_api.routes import quality as quality_route
from streamflow.alert_api.routes import search as search_route
from streamflow.alert_api.routes import timeline as timeline_route
from streamflow.alert_api.routes.alert_list import AlertListParams, FilterParams
from streamflow.platform.migrations import migrate
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import PostgresSettings

RESULTS = Path(__file__).resolve().parent / "results" / "alert_api.json"
DB = "streamflow_bench_alert_api"
RULES = ["FR-001", "FR-002", "FR-003", "FR-004", "FR-005", "ML", "MERCHANT"]
SPAN_S = 30 * 86_400
CUSTOMERS, MERCHANTS = 50_000, 2_000
VERDICT_SHARE = 0.35
"""Share of the alerts older than a day with an analyst verdict (ADR 0102 measured a third)."""


def bench_end(today: date | None = None) -> datetime:
    """The end of the seeded period: midnight UTC at the start of ``today`` (the seed day), so
    every alert lies in the past and inside the timeline's 90-day retention and the quality
    endpoints' 90-day look-back."""
    day = today or datetime.now(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


T_END = bench_end()
"""Set again from the database by ``--skip-seed`` / ``--explain-only`` (:func:`seeded_end`)."""


def _severity(score: float) -> str:
    return (
        "critical"
        if score >= 0.9
        else "high"
        if score >= 0.75
        else "medium"
        if score >= 0.6
        else "low"
    )


def _rows(i: int, rng: random.Random, end: datetime) -> tuple[str, str]:
    """The bronze COPY lines of transaction ``i``: its scored record (transactions.scored) and
    its alert (fraud.alerts), sharing customer, merchant, times, score and fired rules, as the
    scorer emits them."""
    tx = f"tx-{i:09d}"
    alert_id = str(uuid.uuid5(uuid.NAMESPACE_URL, tx))
    customer, merchant = f"C{rng.randrange(CUSTOMERS)}", f"M{rng.randrange(MERCHANTS)}"
    score = round(0.5 + rng.random() * 0.5, 5)
    severity = _severity(score)
    detected = end - timedelta(seconds=rng.randrange(SPAN_S))
    event = detected - timedelta(milliseconds=150)
    scored = detected - timedelta(milliseconds=30)
    rules = rng.sample(RULES, rng.randint(1, 3))
    amount = f"{rng.randint(100, 900_000) / 100:.2f}"
    # ~1 in 10 transactions has no location (card-not-present without geolocation).
    located = rng.random() >= 0.1
    lat, lon = -23.55 + rng.uniform(-8, 8), -46.63 + rng.uniform(-8, 8)
    payload = {
        "schema_version": 1,
        "alert_id": alert_id,
        "transaction_id": tx,
        "customer_id": customer,
        "merchant_id": merchant,
        "amount": amount,
        "score": score,
        "severity": severity,
        "triggered_rules": [
            {"rule_id": r, "score": 1.0, "contribution": 0.3, "explanation": f"{r} fired"}
            for r in rules
        ],
        "rules_version": 1,
        "model_version": None,
        "event_time": event.isoformat(),
        "detected_at": detected.isoformat(),
    }
    alert = [
        "fraud.alerts",
        "0",
        str(i),
        alert_id,
        tx,
        customer,
        merchant,
        str(score),
        severity,
        "1",
        event.isoformat(),
        detected.isoformat(),
        "1",
        json.dumps(payload).replace("\\", "\\\\"),
    ]
    contributions = [
        {
            "schema_version": 1,
            "rule_id": r,
            "triggered": r in rules,
            "score": 1.0 if r in rules else 0.0,
            "weight": 0.3,
            "contribution": 0.3 if r in rules else 0.0,
            "explanation": f"{r} fired for {tx}" if r in rules else "not fired",
        }
        for r in RULES[:5]
    ]
    record = {
        "schema_version": 2,
        "transaction": {
            "schema_version": 1,
            "transaction_id": tx,
            "event_time": event.isoformat(),
            "customer_id": customer,
            "card_id": f"K{customer[1:]}-{i % 2 + 1}",
            "merchant_id": merchant,
            "store_id": f"S{merchant[1:]}-01",
            "product_id": f"P{i % 500:04d}",
            "amount": amount,
            "currency": "BRL",
            "payment_method": "credit_card",
            "channel": "pos" if located else "online",
            "latitude": round(lat, 4) if located else None,
            "longitude": round(lon, 4) if located else None,
            "device_id": None,
        },
        "fraud_score": score,
        "is_alert": True,
        "rule_contributions": contributions,
        "ml_score": score,
        "reasons": [c["explanation"] for c in contributions if c["triggered"]],
        "rules_version": 1,
        "model_version": "iforest-bench",
        "scored_at": scored.isoformat(),
        "model_score": None,
        "shadow_model_version": None,
        "shadow_score": None,
        "feature_set": None,
        "features": None,
    }
    scored_line = [
        "transactions.scored",
        "0",
        str(i),
        tx,
        customer,
        merchant,
        str(score),
        "t",
        "1",
        event.isoformat(),
        scored.isoformat(),
        "2",
        json.dumps(record).replace("\\", "\\\\"),
    ]
    return "\t".join(scored_line) + "\n", "\t".join(alert) + "\n"


_COPY_SCORED = (
    "copy bronze.scored_transactions (kafka_topic, kafka_partition, kafka_offset, transaction_id, "
    "customer_id, merchant_id, fraud_score, is_alert, rules_version, event_time, scored_at, "
    "schema_version, payload) from stdin"
)
_COPY_ALERTS = (
    "copy bronze.fraud_alerts (kafka_topic, kafka_partition, kafka_offset, alert_id, "
    "transaction_id, customer_id, merchant_id, score, severity, rules_version, "
    "event_time, detected_at, schema_version, payload) from stdin"
)
BATCH = 10_000
"""Rows per COPY statement: the ingestor's order of magnitude, so the projection's statement
trigger runs once per batch as it does in production (ADR 0101)."""

# Verdicts on a share of the alerts older than a day, as the verdict path writes them
# (verdicts.py: the alert's status and one analyst note per verdict, at the verdict's time): 80%
# false positives, first verdicts minutes to days after detection (log-uniform, 1 min .. 3 days),
# 3% of the judged re-labelled once a day later. Deterministic (setseed). No outbox rows: the
# bench's API would publish them to Kafka.
_VERDICT_SEED_SQL: tuple[LiteralString, ...] = (
    "select setseed(0.42)",
    """create temp table bench_verdicts as
    select alert_id,
           case when random() < 0.2 then 'confirmed_fraud' else 'false_positive' end as verdict,
           detected_at + make_interval(secs => exp(ln(60) + random() * ln(4320)))
               as first_at,
           random() < 0.03 as relabel
    from app.alerts
    where detected_at < %(cutoff)s and random() < %(share)s""",
    """insert into app.analyst_notes (alert_id, verdict, note, created_at)
    select alert_id, verdict, 'bench verdict', first_at from bench_verdicts""",
    """insert into app.analyst_notes (alert_id, verdict, previous_verdict, note, created_at)
    select alert_id,
           case verdict when 'confirmed_fraud' then 'false_positive' else 'confirmed_fraud' end,
           verdict, 'bench re-label', first_at + interval '1 day'
    from bench_verdicts where relabel""",
    """update app.alerts as a
    set status = case when v.relabel then
                     case v.verdict when 'confirmed_fraud' then 'false_positive'
                                    else 'confirmed_fraud' end
                 else v.verdict end,
        status_updated_at = v.first_at + case when v.relabel then interval '1 day'
                                              else interval '0' end,
        status_updated_by = 'bench',
        verdict_changes = v.relabel::int
    from bench_verdicts as v where v.alert_id = a.alert_id""",
)


def seed(pg: PostgresSettings, alerts: int, end: datetime) -> dict[str, float]:
    """Fresh database, migrated, N transactions COPYed into bronze in the ingestor's batches: each
    one's scored record (projected into app.scored_transactions by V036's statement trigger) and
    its alert (projected into app.alerts by V047's statement trigger); then verdicts on a share of
    the alerts. Returns the seconds each step took and the verdicts seeded."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(DB)))
    dsn = pg.dsn(DB)
    migrate(dsn)
    rng = random.Random(42)
    scored_s = alerts_s = 0.0
    with psycopg.connect(dsn) as conn:
        for first in range(0, alerts, BATCH):
            lines = [_rows(i, rng, end) for i in range(first, min(first + BATCH, alerts))]
            mark = time.perf_counter()
            with conn.cursor().copy(_COPY_SCORED) as copy:
                copy.write("".join(line[0] for line in lines))
            mark2 = time.perf_counter()
            with conn.cursor().copy(_COPY_ALERTS) as copy:
                copy.write("".join(line[1] for line in lines))
            conn.commit()
            scored_s += mark2 - mark
            alerts_s += time.perf_counter() - mark2
    timings["copy_scored_s"] = round(scored_s, 1)
    timings["copy_alerts_s"] = round(alerts_s, 1)
    mark = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        for statement in _VERDICT_SEED_SQL:
            conn.execute(statement, {"cutoff": end - timedelta(days=1), "share": VERDICT_SHARE})
        judged = conn.execute("select count(*) from bench_verdicts").fetchone()
        conn.commit()
    timings["verdicts_s"] = round(time.perf_counter() - mark, 1)
    timings["verdicts"] = float(judged[0]) if judged else 0.0
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("alerts", "scored_transactions", "analyst_notes"):
            conn.execute(sql.SQL("vacuum analyze {}").format(sql.Identifier("app", table)))
        count = conn.execute("select count(*) from app.alerts").fetchone()
        projected = conn.execute("select count(*) from app.scored_transactions").fetchone()
    if count is None or count[0] != alerts or projected is None or projected[0] != alerts:
        raise RuntimeError(f"seeded {count} alerts and {projected} transactions, expected {alerts}")
    timings["seed_s"] = round(time.perf_counter() - started, 1)
    return timings


def seeded_end(dsn: str) -> datetime:
    """The ``end`` the bench database was seeded with (the midnight after its newest alert)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select max(detected_at) from app.alerts").fetchone()
    if row is None or row[0] is None:
        raise RuntimeError("the bench database has no alerts: run without --skip-seed")
    return bench_end(row[0].astimezone(UTC).date() + timedelta(days=1))


def ensure_wrk() -> str:
    """Path of wrk, installing Debian's package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = shutil.which("apt-get") or "/usr/bin/apt-get"
    subprocess.run([apt, "update", "-q"], check=True, env=env, capture_output=True)  # noqa: S603 - fixed argv
    subprocess.run(  # noqa: S603 - fixed argv
        [apt, "install", "-y", "-q", "--no-install-recommends", "wrk"],
        check=True,
        env=env,
        capture_output=True,
    )
    return shutil.which("wrk") or "/usr/bin/wrk"


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(text)
    value, unit = float(match[1]), match[2]
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/s, percentiles, error counts from ``wrk --latency`` output."""
    result: dict[str, float] = {}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(rps[1]) if rps else 0.0
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE)
        if match:
            result[f"p{pct}_ms"] = round(_ms(match[1]), 2)
    total = re.search(r"(\d+) requests in", out)
    result["requests"] = float(total[1]) if total else 0.0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = float(non2xx[1]) if non2xx else 0.0
    errors = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = (
        float(sum(int(n) for n in re.findall(r"\d+", errors[1]))) if errors else 0.0
    )
    return result


_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """utime + stime of one process in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (the uvicorn supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _connections_per_worker(api_pid: int, port: int) -> list[int]:
    """Established connections to ``port`` held by each API worker, largest first (/proc)."""
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])  # socket inode
    counts = []
    for pid in _tree(api_pid)[1:]:  # the workers (the supervisor accepts nothing)
        if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes():
            continue  # multiprocessing's helper, not a worker
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            held += target.startswith("socket:[") and target[8:-1] in established
        counts.append(held)
    return sorted(counts, reverse=True)


def _backends(dsn: str) -> list[int]:
    """PostgreSQL backend pids serving the API's pool (by application_name)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "select pid from pg_stat_activity where datname = %s and application_name = %s",
            (DB, Settings().client_id),
        ).fetchall()
    return [row[0] for row in rows]


Sample = tuple[dict[int, float], dict[int, float]]


def _cpu_sample(api_pid: int, dsn: str) -> Sample:
    """CPU seconds so far of each API process and of each of its PostgreSQL backends."""
    return (
        {pid: _cpu_s(pid) for pid in _tree(api_pid)},
        {pid: _cpu_s(pid) for pid in _backends(dsn)},
    )


def _cpu_delta(before: Sample, after: Sample) -> tuple[float, float]:
    """CPU seconds spent between the samples by the API processes and by their backends (a
    process started during the run counts from zero)."""
    api, pg = (
        sum(cpu - old.get(pid, 0.0) for pid, cpu in new.items())
        for old, new in zip(before, after, strict=True)
    )
    return api, pg


@dataclass(frozen=True, slots=True)
class Shape:
    """One request shape: its path (``{customer}``, ``{merchant}``, ``{tx}`` are drawn at random
    per request; the other ``{...}`` are fixed by :func:`fixed_values`), what it reads, and
    whether it is in the mixed sweep's rotation."""

    name: str
    path: str
    kind: str  # list | count | timeline | search | verdict_time (how _explain times its SQL)
    group: str
    in_sweep: bool = True
    solo: bool = False  # measured alone at one connection only (a dashboard's aggregate)


ISSUE6 = "issue #6 list"
WORKBENCH = "workbench page (issue #21)"
AGGREGATE = "workbench aggregate (issue #21)"
SHAPES: tuple[Shape, ...] = (
    # The list shapes of issue #6 (the bench's rotation before issue #21).
    Shape("customer", "/v1/alerts?customer_id={customer}&limit=20", "list", ISSUE6),
    Shape(
        "merchant_since",
        "/v1/alerts?merchant_id={merchant}&since={since_17d}&limit=20",
        "list",
        ISSUE6,
    ),
    Shape("min_score_status", "/v1/alerts?min_score=0.9&status=new&limit=50", "list", ISSUE6),
    Shape("rule_severity", "/v1/alerts?rule_id=FR-003&severity=critical&limit=50", "list", ISSUE6),
    Shape("score_sort", "/v1/alerts?sort=-score&min_score=0.7&limit=50", "list", ISSUE6),
    # The workbench's pages as the console asks for them (limits of console.html): the customer
    # timeline and its "Older" page, the queues' filtered lists (status, severity, rule, score
    # range, time range, merchant; sorted by score or age) and search.
    Shape("timeline", "/v1/customers/{customer}/timeline?limit=25", "timeline", WORKBENCH),
    Shape(
        "timeline_older",
        "/v1/customers/{customer}/timeline?limit=25&cursor={timeline_cursor}",
        "timeline",
        WORKBENCH,
    ),
    Shape(
        "queue_new_high_rule",
        "/v1/alerts?status=new&severity=high&rule_id=FR-002&limit=50",
        "list",
        WORKBENCH,
    ),
    Shape(
        "queue_score_range_by_score",
        "/v1/alerts?status=new&min_score=0.8&max_score=0.95&sort=-score&limit=50",
        "list",
        WORKBENCH,
    ),
    Shape(
        "queue_day_oldest_first",
        "/v1/alerts?since={day_start}&until={day_end}&sort=detected_at&limit=50",
        "list",
        WORKBENCH,
    ),
    Shape(
        "queue_merchant_new",
        "/v1/alerts?merchant_id={merchant}&status=new&limit=50",
        "list",
        WORKBENCH,
    ),
    Shape("queue_confirmed", "/v1/alerts?status=confirmed_fraud&limit=50", "list", WORKBENCH),
    Shape("search_transaction", "/v1/search?q={tx}&limit=20", "search", WORKBENCH),
    Shape("search_customer", "/v1/search?q={customer}&limit=20", "search", WORKBENCH),
    Shape("search_merchant", "/v1/search?q={merchant}&limit=20", "search", WORKBENCH),
    # Aggregates: their cost grows with the alerts the filter matches, not with a page, so they
    # are measured one shape at a time and kept out of the sweep's rotation. The console asks
    # for the queue counts with every list load (and every 5 s), the dashboard for verdict time.
    Shape("counts_all", "/v1/queues", "count", AGGREGATE, in_sweep=False),
    Shape(
        "counts_rule_severity",
        "/v1/queues?rule_id=FR-003&severity=critical",
        "count",
        AGGREGATE,
        in_sweep=False,
    ),
    Shape(
        "counts_score_range",
        "/v1/queues?min_score=0.8&max_score=0.95",
        "count",
        AGGREGATE,
        in_sweep=False,
    ),
    Shape(
        "counts_merchant", "/v1/queues?merchant_id={merchant}", "count", AGGREGATE, in_sweep=False
    ),
    # A rule with a score bound: beyond the counters, counted live up to the cap (ADR 0100).
    Shape(
        "counts_rule_score",
        "/v1/queues?rule_id=FR-001&min_score=0.8",
        "count",
        AGGREGATE,
        in_sweep=False,
    ),
    Shape(
        "counts_day",
        "/v1/queues?since={day_start}&until={day_end}",
        "count",
        AGGREGATE,
        in_sweep=False,
    ),
    Shape(
        "verdict_time",
        "/v1/quality/verdict-time?days={verdict_days}",
        "verdict_time",
        AGGREGATE,
        in_sweep=False,
        solo=True,
    ),
)
SHAPE_NAMES = tuple(shape.name for shape in SHAPES)
_RANDOM = re.compile(r"\{(customer|merchant|tx)\}")


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def fixed_values(end: datetime, today: date) -> dict[str, str]:
    """The fixed parts of the shapes' paths for a database seeded up to ``end``: the issue #6
    merchant shape's ``since`` (17 days before the end, as before), one day of alerts in the
    middle of the period, a timeline cursor half-way back (the "Older" page), and the
    verdict-time look-back covering the whole seeded period (the endpoint counts back from
    today)."""
    day = end - timedelta(days=10)
    middle = end - timedelta(seconds=SPAN_S // 2)
    micros = (middle - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    first_day = (end - timedelta(seconds=SPAN_S)).date()
    return {
        "since_17d": _rfc3339(end - timedelta(days=17)),
        "day_start": _rfc3339(day),
        "day_end": _rfc3339(day + timedelta(days=1)),
        "timeline_cursor": f"{micros}_tx-999999999",
        "verdict_days": str(min(90, (today - first_day).days + 1)),
    }


def path_of(shape: Shape, fixed: dict[str, str]) -> str:
    """The shape's path with its fixed values filled in (random parts still ``{...}``)."""
    return re.sub(
        r"\{(\w+)\}",
        lambda m: m[0] if _RANDOM.fullmatch(m[0]) else fixed[m[1]],
        shape.path,
    )


def draw(path: str, rng: random.Random, transactions: int) -> str:
    """One request's path: the random parts drawn as wrk's script draws them."""
    values = {
        "customer": lambda: f"C{rng.randrange(CUSTOMERS)}",
        "merchant": lambda: f"M{rng.randrange(MERCHANTS)}",
        "tx": lambda: f"tx-{rng.randrange(transactions):09d}",
    }
    return _RANDOM.sub(lambda m: values[m[1]](), path)


def lua_script(paths: list[str], transactions: int) -> str:
    """A wrk script sending ``paths`` in rotation, each with its random parts drawn."""
    random_lua = {
        "customer": f'"C" .. math.random(0, {CUSTOMERS - 1})',
        "merchant": f'"M" .. math.random(0, {MERCHANTS - 1})',
        "tx": f'string.format("tx-%09d", math.random(0, {transactions - 1}))',
    }
    functions = []
    for path in paths:
        parts = [
            random_lua[part[1:-1]] if _RANDOM.fullmatch(part) else json.dumps(part)
            for part in re.split(r"(\{(?:customer|merchant|tx)\})", path)
            if part
        ]
        functions.append(f"  function() return {' .. '.join(parts)} end,")
    return "\n".join(
        [
            'wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")',
            "math.randomseed(7)",
            "local paths = {",
            *functions,
            "}",
            "local n = 0",
            "request = function()",
            "  n = n + 1",
            '  return wrk.format("GET", paths[(n % #paths) + 1]())',
            "end",
            "",
        ]
    )


def _query(path: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))


def _percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(times[len(times) // 2], 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
    }


async def _explain_ms(conn: asyncpg.Connection, text: str, *args: Any) -> tuple[float, int]:
    """Execution time and shared buffers of one statement (EXPLAIN ANALYZE, extended protocol
    as the API sends it)."""
    plan = json.loads(
        await conn.fetchval(f"explain (analyze, buffers, format json) {text}", *args)
    )[0]
    top = plan["Plan"]
    return plan["Execution Time"], top.get("Shared Hit Blocks", 0) + top.get(
        "Shared Read Blocks", 0
    )


async def _shape_sql_ms(conn: asyncpg.Connection, shape: Shape, path: str) -> tuple[float, int]:
    """The SQL time of one request of ``shape`` (the sum over its statements)."""
    query = _query(path)
    if shape.kind == "list":
        params = AlertListParams.model_validate(query)
        filters = params.filters(params.status.value if params.status else None)
        text, args = q.build_list_query(filters, params.sort, None, params.limit or 50)
        return await _explain_ms(conn, text, *args)
    if shape.kind == "count":
        count = q.build_count_query(
            FilterParams.model_validate(query).filters(), Settings().queue_count_cap
        )
        return await _explain_ms(conn, count.sql, *count.args)
    if shape.kind == "search":
        return await _explain_ms(
            conn, search_route._SEARCH_SQL, query["q"], int(query["limit"]) + 1
        )
    if shape.kind == "verdict_time":
        today = datetime.now(UTC).date()
        first = today - timedelta(days=int(query["days"]) - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=UTC)
        async with conn.transaction():  # with the route's settings for that statement
            await conn.execute(quality_route.VERDICT_SETTINGS)
            return await _explain_ms(
                conn, quality_route._VERDICT_SQL, since, datetime.now(UTC), first, today
            )
    # The timeline: its page, the page's alerts, the previous located row, the prior verdicts.
    customer = urllib.parse.urlsplit(path).path.split("/")[3]
    limit = int(query["limit"]) + 1
    if "cursor" in query:
        after_time, after_id = timeline_route.decode_cursor(query["cursor"])
        page_sql, page_args = timeline_route._NEXT_PAGE_SQL, [customer, after_time, after_id, limit]
    else:
        page_sql, page_args = timeline_route._FIRST_PAGE_SQL, [customer, limit]
    total, buffers = await _explain_ms(conn, page_sql, *page_args)
    rows = (await conn.fetch(page_sql, *page_args))[: limit - 1]
    steps: list[tuple[str, list[Any]]] = [
        (timeline_route._VERDICTS_SQL, [customer, timeline_route.PRIOR_VERDICTS])
    ]
    if rows:
        steps.append((timeline_route._ALERTS_SQL, [[r["transaction_id"] for r in rows]]))
        oldest = rows[-1]
        steps.append(
            (
                timeline_route._PREVIOUS_LOCATED_SQL,
                [customer, oldest["event_time"], oldest["transaction_id"]],
            )
        )
    for text, args in steps:
        ms, blocks = await _explain_ms(conn, text, *args)
        total += ms
        buffers += blocks
    return total, buffers


async def _explain(
    dsn: str, rounds: int, fixed: dict[str, str], transactions: int, names: tuple[str, ...]
) -> dict[str, dict[str, float]]:
    """p50/p99 execution time and buffers of the API's own SQL for each request shape (the sum
    over a request's statements; aggregates get a tenth of the rounds, at least 5)."""
    rng = random.Random(11)
    conn: asyncpg.Connection = await asyncpg.connect(dsn, server_settings={"TimeZone": "UTC"})
    out: dict[str, dict[str, float]] = {}
    try:
        for shape in SHAPES:
            if shape.name not in names:
                continue
            times: list[float] = []
            buffers: list[int] = []
            path = path_of(shape, fixed)
            for _ in range(rounds if shape.in_sweep else max(5, rounds // 10)):
                ms, blocks = await _shape_sql_ms(conn, shape, draw(path, rng, transactions))
                times.append(ms)
                buffers.append(blocks)
            out[shape.name] = {
                **_percentiles(times),
                "buffers_p50": sorted(buffers)[len(buffers) // 2],
            }
    finally:
        await conn.close()
    return out


def _measured_run(
    cmd: list[str], env: dict[str, str], api_pid: int, *, port: int, duration: int, dsn: str
) -> tuple[str, list[int], float, float]:
    """wrk's output, the connections per worker mid-run, and the CPU seconds the API processes
    and their PostgreSQL backends spent during the run."""
    before = _cpu_sample(api_pid, dsn)
    load = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    # How wrk's connections fell between the workers (they share one accept socket): the split
    # drives the p99 (ADR 0054), so every run records it.
    time.sleep(duration / 2)
    split = _connections_per_worker(api_pid, port)
    out, _ = load.communicate()
    if load.returncode != 0:
        raise RuntimeError(f"wrk failed ({load.returncode})")
    api_cpu_s, pg_cpu_s = _cpu_delta(before, _cpu_sample(api_pid, dsn))
    return out, split, api_cpu_s, pg_cpu_s


def _per_request(cpu_s: float, requests: float) -> float | None:
    return round(cpu_s * 1000 / requests, 3) if requests else None


P99_TARGET_MS = 50.0
RPS_TARGET = 1500


def _levels(text: str) -> list[int]:
    """``"8,16,32"`` -> ``[8, 16, 32]`` (positive, ascending, no repeats)."""
    try:
        levels = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not levels or levels[0] < 1:
        raise argparse.ArgumentTypeError(f"need positive connection counts: {text!r}")
    return levels


def headline(sweep: list[dict[str, Any]]) -> dict[str, Any]:
    """The sweep level reported as the result: the most req/s among the error-free levels whose
    p99 meets the target; failing that, the level with the most req/s."""
    clean = [
        level
        for level in sweep
        if level["p99_ms"] is not None
        and level["p99_ms"] <= P99_TARGET_MS
        and not level["non_2xx"]
        and not level["socket_errors"]
    ]
    return max(clean or sweep, key=lambda level: level["rps"])


def _level(
    connections: int, out: str, split: list[int], api_cpu_s: float, pg_cpu_s: float
) -> dict[str, Any]:
    """One sweep level's figures."""
    figures = parse_wrk(out)
    return {
        "connections": connections,
        "rps": figures["rps"],
        "p50_ms": figures.get("p50_ms"),
        "p90_ms": figures.get("p90_ms"),
        "p99_ms": figures.get("p99_ms"),
        "requests": figures["requests"],
        "non_2xx": figures["non_2xx"],
        "socket_errors": figures["socket_errors"],
        "connections_per_worker": split,
        "api_cpu_ms_per_request": _per_request(api_cpu_s, figures["requests"]),
        "pg_cpu_ms_per_request": _per_request(pg_cpu_s, figures["requests"]),
    }


def _names(text: str) -> tuple[str, ...]:
    """``"timeline,counts_all"`` -> the shapes to measure one at a time (``all``: every one)."""
    if text.strip() in {"all", ""}:
        return SHAPE_NAMES if text.strip() == "all" else ()
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in SHAPE_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown shapes {unknown}: choose from {SHAPE_NAMES}")
    return names


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool-max", type=int, default=8)
    parser.add_argument(
        "--connections",
        type=_levels,
        default=_levels("8,16,24,32"),
        help="wrk connection counts to sweep, comma-separated",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument(
        "--no-issue6-sweep",
        dest="issue6_sweep",
        action="store_false",
        help="skip the second sweep over issue #6's five list shapes alone",
    )
    parser.add_argument(
        "--shapes",
        type=_names,
        default=SHAPE_NAMES,
        help="shapes measured one at a time (comma-separated names, 'all' or '')",
    )
    parser.add_argument(
        "--shape-connections",
        type=_levels,
        default=_levels("1,8"),
        help="wrk connections of the per-shape runs (aggregates marked solo run at the lowest)",
    )
    parser.add_argument("--shape-duration", type=int, default=5)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the bench database")
    parser.add_argument("--explain-rounds", type=int, default=200, help="EXPLAIN ANALYZE runs")
    parser.add_argument(
        "--explain-only", action="store_true", help="only the SQL timings (bench DB must exist)"
    )
    parser.add_argument(
        "--write-cost",
        action="store_true",
        help="only what V047 costs the writers (rolled back): 10,000-alert batches and verdict "
        "updates with and without it; added to the results file under write_cost",
    )
    parser.add_argument(
        "--shapes-only",
        action="store_true",
        help="no sweep: warm up and measure --shapes alone, and add the run to the results file "
        "under shape_runs (the full run's figures stay as they are)",
    )
    return parser.parse_args(argv)


class Bench:
    """The API processes under test and wrk against them."""

    def __init__(self, args: argparse.Namespace, settings: Settings, key: str) -> None:
        self.args, self.settings = args, settings
        self.wrk = ensure_wrk()
        self.port = free_loopback_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.wrk_env = {**os.environ, "BENCH_KEY": key}
        self.scripts = Path(tempfile.mkdtemp(prefix="alert-api-bench-"))
        env = {
            **os.environ,
            "STREAMFLOW_PG_DATABASE": DB,
            "STREAMFLOW_API_PORT": str(self.port),
            "STREAMFLOW_API_WORKERS": str(args.workers),
            "STREAMFLOW_API_DB_POOL_MIN": "2",
            "STREAMFLOW_API_DB_POOL_MAX": str(args.pool_max),
            # Metrics stay on, as deployed (multiprocess mode with several workers), on a free
            # port.
            "STREAMFLOW_API_METRICS_PORT": str(free_loopback_port()),
        }
        self.api = subprocess.Popen(
            [sys.executable, "-m", "streamflow.alert_api"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(300):
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def close(self) -> None:
        self.api.terminate()
        self.api.wait(timeout=30)
        shutil.rmtree(self.scripts, ignore_errors=True)

    def script(self, name: str, paths: list[str]) -> Path:
        path = self.scripts / f"{name}.lua"
        path.write_text(lua_script(paths, self.args.alerts), encoding="utf-8")
        return path

    def run(
        self, script: Path, connections: int, duration: int, *, warm_up: bool = False
    ) -> tuple[dict[str, Any], str]:
        """One wrk run: its figures (``_level``) and output; a warm-up is not measured."""
        threads = max(1, min(self.args.threads, connections))
        cmd = [
            self.wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            self.base,
        ]
        if warm_up:
            subprocess.run(cmd, env=self.wrk_env, capture_output=True, check=True)  # noqa: S603
            return {}, ""
        # CPU actually spent by the API and its backends: comparable across runs even when
        # other work on this shared machine depresses req/s.
        out, split, api_cpu_s, pg_cpu_s = _measured_run(
            cmd,
            self.wrk_env,
            self.api.pid,
            port=self.port,
            duration=duration,
            dsn=self.settings.pg.dsn(),
        )
        return _level(connections, out, split, api_cpu_s, pg_cpu_s), out

    def sweep(self, name: str, paths: list[str]) -> tuple[list[dict[str, Any]], dict[int, str]]:
        """wrk at each concurrency level over ``paths`` in rotation."""
        script = self.script(name, paths)
        sweep: list[dict[str, Any]] = []
        outputs: dict[int, str] = {}
        for connections in self.args.connections:
            figures, out = self.run(script, connections, self.args.duration)
            outputs[connections] = out
            sweep.append(figures)
            print(json.dumps({"sweep": name, **figures}), flush=True)
        return sweep, outputs

    def shape(self, shape: Shape, path: str) -> list[dict[str, Any]]:
        """``shape`` alone at each per-shape concurrency (a solo shape at the lowest only)."""
        script = self.script(shape.name, [path])
        levels = self.args.shape_connections[:1] if shape.solo else self.args.shape_connections
        out = []
        for connections in levels:
            figures, _ = self.run(script, connections, self.args.shape_duration)
            out.append(figures)
            print(json.dumps({"shape": shape.name, **figures}), flush=True)
        return out


def shape_summary(shapes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Which shapes meet the p99 target at every per-shape level (and without errors)."""
    over = sorted(
        name
        for name, item in shapes.items()
        if any(
            level["p99_ms"] is None
            or level["p99_ms"] > P99_TARGET_MS
            or level["non_2xx"]
            or level["socket_errors"]
            for level in item["wrk"]
        )
    )
    return {"within_p99_target": [n for n in shapes if n not in over], "over_p99_target": over}


# The projection of V030 (a row trigger, no counters), re-created inside a rolled-back
# transaction by --write-cost to time the writes as they were before V047.
_V030_PROJECTION: tuple[LiteralString, ...] = (
    "drop trigger fraud_alerts_project on bronze.fraud_alerts",
    "drop trigger alerts_count_insert on app.alerts",
    "drop trigger alerts_count_update on app.alerts",
    """create function pg_temp.project_fraud_alert_row() returns trigger
    language plpgsql as $$
    begin
        insert into app.alerts (
            alert_id, transaction_id, customer_id, merchant_id, amount, score, severity,
            rules_version, rule_ids, event_time, detected_at, payload
        ) values (
            new.alert_id, new.transaction_id, new.customer_id, new.merchant_id,
            new.payload ->> 'amount', new.score::double precision, new.severity,
            new.rules_version,
            case when jsonb_typeof(new.payload -> 'triggered_rules') = 'array' then
                array(select r ->> 'rule_id'
                      from jsonb_array_elements(new.payload -> 'triggered_rules') as r
                      where r ->> 'rule_id' is not null)
            else '{}'::text[] end,
            new.event_time, new.detected_at, new.payload
        )
        on conflict (alert_id) do nothing;
        return null;
    end
    $$""",
    """create trigger fraud_alerts_project_row after insert on bronze.fraud_alerts
    for each row execute function pg_temp.project_fraud_alert_row()""",
)


def write_cost(dsn: str, end: datetime, rounds: int, verdicts: int) -> dict[str, Any]:
    """What V047 costs the writers, on the bench database, every change rolled back: a landed
    batch of 10,000 alerts (COPY into bronze, projected into app.alerts) and a verdict's status
    update of one alert, each timed with V047's triggers (statement projection + counters), with
    V030's row projection and no counters (as before V047), and with the row projection and the
    counters (what the counters would cost without the statement projection: one counter run per
    alert). Variants alternate round by round, in a rotating order, after one warm-up round (the
    first batch into fresh index pages is slower whichever variant it is)."""
    rng = random.Random(7)
    variants: dict[str, tuple[LiteralString, ...]] = {
        "v047": (),
        "v030_row_trigger_no_counters": _V030_PROJECTION,
        "row_trigger_with_counters": tuple(s for s in _V030_PROJECTION if "alerts_count" not in s),
    }
    copy_ms: dict[str, list[float]] = {name: [] for name in variants}
    update_ms: dict[str, list[float]] = {name: [] for name in variants}
    deltas: dict[str, int] = {}
    names = list(variants)
    with psycopg.connect(dsn) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "select alert_id from app.alerts where status = 'new' order by alert_id limit %s",
                (verdicts,),
            ).fetchall()
        ]
        for round_ in range(rounds + 1):
            for k in range(len(names)):
                name = names[(round_ + k) % len(names)]
                first = 2_000_000 + (round_ * len(names) + k) * BATCH
                lines = "".join(_rows(i, rng, end)[1] for i in range(first, first + BATCH))
                with conn.transaction(force_rollback=True):
                    for statement in variants[name]:
                        conn.execute(statement)
                    before = conn.execute("select count(*) from app.alert_counts").fetchone()
                    mark = time.perf_counter()
                    with conn.cursor().copy(_COPY_ALERTS) as copy:
                        copy.write(lines)
                    took = (time.perf_counter() - mark) * 1000
                    after = conn.execute("select count(*) from app.alert_counts").fetchone()
                    updates = []
                    for alert_id in ids:
                        mark = time.perf_counter()
                        conn.execute(
                            "update app.alerts set status = 'false_positive', "
                            "status_updated_at = now() where alert_id = %s",
                            (alert_id,),
                        )
                        updates.append((time.perf_counter() - mark) * 1000)
                if round_ == 0:
                    continue  # warm-up
                copy_ms[name].append(took)
                update_ms[name].extend(updates)
                if before is not None and after is not None:
                    deltas[name] = after[0] - before[0]
    return {
        name: {
            "batch_of_10000_ms": _percentiles(copy_ms[name]),
            "batch_of_10000_ms_each": [round(ms) for ms in copy_ms[name]],
            "counter_rows_per_batch": deltas.get(name),
            "verdict_update_ms": _percentiles(update_ms[name]),
            "batches": len(copy_ms[name]),
            "verdict_updates": len(update_ms[name]),
        }
        for name in variants
    }


def write_cost_run(dsn: str) -> None:
    """``--write-cost``: :func:`write_cost` on the bench database, into the results file."""
    migrate(dsn)
    load = os.getloadavg()[0]
    cost = write_cost(dsn, seeded_end(dsn), rounds=4, verdicts=100)
    cost.update(
        command="scripts/uv.sh run python bench/alert_api.py " + " ".join(sys.argv[1:]),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        load_avg_1m_before=round(load, 2),
        load_avg_1m_after=round(os.getloadavg()[0], 2),
    )
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    previous["write_cost"] = cost
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(cost, indent=2))


def measure_shapes(bench: Bench, fixed: dict[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    """Each of ``names`` alone at the per-shape levels."""
    shapes: dict[str, dict[str, Any]] = {}
    for shape in SHAPES:
        if shape.name in names:
            path = path_of(shape, fixed)
            shapes[shape.name] = {
                "path": path,
                "group": shape.group,
                "in_sweep": shape.in_sweep,
                "wrk": bench.shape(shape, path),
            }
    return shapes


def shapes_only(  # noqa: PLR0917 - main's state, passed on
    args: argparse.Namespace,
    settings: Settings,
    key: str,
    fixed: dict[str, str],
    load_before: float,
    load_measuring: float,
) -> None:
    """``--shapes-only``: the selected shapes alone (after a warm-up over them), appended to the
    results file's ``shape_runs`` with their SQL timings and the load; the rest of the file (the
    last full run) is kept."""
    paths = [path_of(s, fixed) for s in SHAPES if s.name in args.shapes]
    bench = Bench(args, settings, key)
    try:
        bench.run(bench.script("warm-up", paths), 8, 5, warm_up=True)
        shapes = measure_shapes(bench, fixed, args.shapes)
    finally:
        bench.close()
    sql_timings = asyncio.run(
        _explain(settings.pg.dsn(), args.explain_rounds, fixed, args.alerts, args.shapes)
    )
    for name, item in shapes.items():
        item["sql_explain_analyze"] = sql_timings.get(name)
    run = {
        "command": "scripts/uv.sh run python bench/alert_api.py " + " ".join(sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "workers": args.workers,
        "queue_count_cap": settings.queue_count_cap,  # STREAMFLOW_API_QUEUE_COUNT_CAP
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_before_measuring": round(load_measuring, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "shapes": shapes,
        "shapes_summary": shape_summary(shapes),
    }
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    previous.setdefault("shape_runs", []).append(run)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"shapes_summary": run["shapes_summary"], "load": load_measuring}))


def main() -> None:
    global T_END  # noqa: PLW0603 - the seeded period's end, read back with --skip-seed
    args = _parse_args()
    pg = PostgresSettings()
    if args.explain_only:
        dsn = pg.dsn(DB)
        T_END = seeded_end(dsn)
        fixed = fixed_values(T_END, datetime.now(UTC).date())
        timings = asyncio.run(_explain(dsn, args.explain_rounds, fixed, args.alerts, SHAPE_NAMES))
        print(json.dumps(timings, indent=2))
        return

    if args.write_cost:
        write_cost_run(pg.dsn(DB))
        return

    load_before = os.getloadavg()[0]
    seeded: dict[str, float] | None = None
    if args.skip_seed:
        migrate(pg.dsn(DB))  # migrations added since the database was seeded (new indexes)
        T_END = seeded_end(pg.dsn(DB))
    else:
        seeded = seed(pg, args.alerts, T_END)
    fixed = fixed_values(T_END, datetime.now(UTC).date())
    # The seed's own work raises the load: the load just before the measured runs, too.
    load_measuring = os.getloadavg()[0]
    settings = Settings(pg=pg.model_copy(update={"database": DB}))
    key = create_key(settings, "bench", ["alerts:read"], rate_limit_per_minute=0)[1]
    rotation = [path_of(s, fixed) for s in SHAPES if s.in_sweep]
    issue6 = [path_of(s, fixed) for s in SHAPES if s.group == ISSUE6]
    if args.shapes_only:
        shapes_only(args, settings, key, fixed, load_before, load_measuring)
        return
    bench = Bench(args, settings, key)
    try:
        # Warm-up (pools, caches, plans), then the measured runs.
        bench.run(bench.script("warm-up", rotation), 8, 5, warm_up=True)
        sweep, outputs = bench.sweep("workbench", rotation)
        issue6_sweep = bench.sweep("issue6", issue6)[0] if args.issue6_sweep else None
        shapes = measure_shapes(bench, fixed, args.shapes)
    finally:
        bench.close()
    best = headline(sweep)
    sql_timings = asyncio.run(
        _explain(settings.pg.dsn(), args.explain_rounds, fixed, args.alerts, SHAPE_NAMES)
    )
    for name, item in shapes.items():
        item["sql_explain_analyze"] = sql_timings.get(name)
    split_text = "/".join(map(str, best["connections_per_worker"]))
    result = {
        "component": "alert_api",
        "rps": best["rps"],
        "p99_ms": best["p99_ms"],
        "p50_ms": best["p50_ms"],
        "p90_ms": best["p90_ms"],
        "requests": best["requests"],
        "non_2xx": best["non_2xx"],
        "socket_errors": best["socket_errors"],
        "api_cpu_ms_per_request": best["api_cpu_ms_per_request"],
        "pg_cpu_ms_per_request": best["pg_cpu_ms_per_request"],
        "connections": best["connections"],
        "selection": (
            f"the sweep level with the most req/s whose p99 is at most {P99_TARGET_MS:g} ms "
            "(else the level with the most req/s)"
        ),
        "sweep": sweep,
        "sweep_issue6_only": issue6_sweep,
        "shapes": shapes,
        "shapes_summary": shape_summary(shapes),
        "sql_explain_analyze": sql_timings,
        "alerts": args.alerts,
        "scored_transactions": args.alerts,
        "verdicts": seeded["verdicts"] if seeded else None,
        "seed_s": seeded["seed_s"] if seeded else None,
        "seed": seeded,
        "period_end": T_END.isoformat(),
        "workers": args.workers,
        "connections_per_worker": best["connections_per_worker"],
        "notes": (
            "The sweep's wrk rotation holds issue #6's five list shapes and issue #21's workbench "
            "pages (customer timeline and its older page, the queues' filtered lists, search): "
            f"{len(rotation)} shapes, one request each in turn. wrk ran at "
            f"{', '.join(str(level['connections']) for level in sweep)} connections; the "
            f"figures are those of {best['connections']} connections (split {split_text} between "
            "the workers), the most req/s with p99 within the target. Past saturation, more "
            "connections only queue, and the p99 then follows how they split between the "
            "workers, which share one accept socket (ADR 0055; `sweep` has every level). "
            "`shapes` has each shape alone (wrk at "
            f"{', '.join(map(str, args.shape_connections))} connections, "
            f"{args.shape_duration} s each), including the aggregates kept out of the rotation "
            "(queue counts, verdict time); `sweep_issue6_only` is the rotation of issue #6 alone."
        ),
        "db_pool_max_per_worker": args.pool_max,
        "wrk": {
            "threads": args.threads,
            "connections": best["connections"],
            "duration_s": args.duration,
        },
        "queries": rotation,
        "targets": {"rps": RPS_TARGET, "p99_ms": P99_TARGET_MS},
        "command": "scripts/uv.sh run python bench/alert_api.py " + " ".join(sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        # Other processes on this shared machine: a high load average depresses the figures.
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_before_measuring": round(load_measuring, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wrk_output": outputs[best["connections"]],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(result["wrk_output"])
    keys: tuple[str, ...] = ("rps", "p50_ms", "p99_ms", "non_2xx", "connections")
    keys = (*keys, "connections_per_worker")
    keys = (*keys, "workers", "load_avg_1m_before")
    keys = (*keys, "api_cpu_ms_per_request", "pg_cpu_ms_per_request", "shapes_summary")
    print(json.dumps({k: result[k] for k in keys}))


if __name__ == "__main__":
    main()
