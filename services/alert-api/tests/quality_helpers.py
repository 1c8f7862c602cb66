"""Helpers of the quality dashboard's tests (ADR 0102): the detection-quality mart as dbt builds
it, and a real Prometheus (the Debian binary scripts/services/prometheus.sh runs) scraping an
exporter that serves the scorer's Flink metrics with a known rate and latency."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg

from streamflow.alert_api.config import Settings
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import PostgresSettings

PROMETHEUS = Path("/usr/bin/prometheus")
WAREHOUSE = "streamflow_warehouse"
RATE = 100.0
"""Records per second the fake scorer's source reads."""
PENDING = 25.0
"""Records its source has not read yet: the dashboard's latency is PENDING / RATE = 0.25 s."""
SOURCE_SERIES = (
    'flink_taskmanager_job_task_operator_numRecordsOut{job_name="streamflow_fraud_scorer",'
    'operator_name="Source:_kafka:transactions_raw"}'
)

# The columns and types of dbt/models/marts/agg_detection_quality.sql as dbt materialises it.
MART_DDL = """
create table gold.agg_detection_quality (
    event_date date, rule_id text, alerts bigint, confirmed_fraud bigint, false_positives bigint,
    unlabelled bigint, fraud_total bigint, precision double precision, recall double precision,
    avg_time_to_detect_ms numeric(14, 1), p50_time_to_detect_ms double precision,
    max_time_to_detect_ms integer
)
"""


def build_mart(pg: PostgresSettings, rows: list[tuple[date, str, int, int, int, int]]) -> None:
    """(Re)build the mart as dbt does, logged in as the warehouse role: a new table each run.
    Rows: (event_date, rule_id, alerts, confirmed_fraud, false_positives, fraud_total)."""
    with psycopg.connect(pg.as_role(WAREHOUSE).dsn()) as conn:
        conn.execute("drop table if exists gold.agg_detection_quality")
        conn.execute(MART_DDL)
        for day, rule, alerts, fraud, legit, total in rows:
            labelled = fraud + legit
            conn.execute(
                "insert into gold.agg_detection_quality values "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, 120.0, 100.0, 300)",
                (
                    day,
                    rule,
                    alerts,
                    fraud,
                    legit,
                    alerts - labelled,
                    total,
                    round(fraud / labelled, 4) if labelled else None,
                    round(fraud / total, 4) if total else None,
                ),
            )


class _Exporter(BaseHTTPRequestHandler):
    """The scoring job's metrics as Flink's Prometheus reporter names them (label values
    sanitised to ``[A-Za-z0-9:_]``): its transactions source reads :data:`RATE` records/s (a
    counter growing with the wall clock) with :data:`PENDING` records not read yet. Its
    feedback source, its scoring operator and another job are there too, with other numbers,
    and the default queries must leave them out."""

    started = time.time()

    def do_GET(self) -> None:
        elapsed = time.time() - self.started
        job = 'job_name="streamflow_fraud_scorer",subtask_index="0"'
        out = "flink_taskmanager_job_task_operator_numRecordsOut"
        pending = "flink_taskmanager_job_task_operator_pendingRecords"
        body = "\n".join(
            [
                f"# TYPE {out} gauge",
                f'{out}{{{job},operator_name="Source:_kafka:transactions_raw"}} '
                f"{RATE * elapsed:.3f}",
                f'{out}{{{job},operator_name="Source:_kafka:fraud_feedback"}} {3 * elapsed:.3f}',
                f'{out}{{{job},operator_name="score"}} {7 * RATE * elapsed:.3f}',
                f'{out}{{job_name="streamflow-realtime-aggregator",'
                f'operator_name="Source:_kafka:transactions_raw"}} {50 * RATE * elapsed:.3f}',
                f"# TYPE {pending} gauge",
                f'{pending}{{{job},operator_name="Source:_kafka:transactions_raw"}} {PENDING}',
                f'{pending}{{{job},operator_name="Source:_kafka:fraud_feedback"}} 1000',
                "",
            ]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # the base's name
        """Quiet."""


@dataclass(frozen=True)
class RunningPrometheus:
    url: str


@contextmanager
def running_prometheus(workdir: Path) -> Iterator[RunningPrometheus]:
    """A real Prometheus on a free loopback port scraping the fake scorer every second; yields
    once it holds eight samples of the scorer's source."""
    exporter = ThreadingHTTPServer(("127.0.0.1", free_loopback_port()), _Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    port = free_loopback_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: fraud-scorer\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter.server_address[1]}']}}]\n"
    )
    proc = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "prometheus exited"
            assert time.monotonic() < deadline, "prometheus scraped 8 samples within 60 s"
            try:
                # Eight samples: a 5 s rate window is then full of scrapes (rate() divides by
                # the window, so a series younger than it under-counts).
                answer = httpx.get(
                    url + "/api/v1/query",
                    params={"query": f"count_over_time({SOURCE_SERIES}[1m]) >= 8"},
                    timeout=2,
                ).json()
                if answer.get("data", {}).get("result"):
                    time.sleep(1)  # a range ending in a later whole second has it too
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        yield RunningPrometheus(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        exporter.shutdown()
        exporter.server_close()


def young_series_queries(settings_cls: type[Settings]) -> dict[str, str]:
    """The default scorer queries with a 5 s rate window instead of 1 min: the test's series
    is seconds old, and rate() over a window longer than the series under-counts (it divides by
    the window)."""
    out = {}
    for field in ("scorer_rate_query", "scorer_latency_query"):
        default = settings_cls.model_fields[field].default
        assert "[1m]" in default, field
        out[field] = default.replace("[1m]", "[5s]")
    return out
