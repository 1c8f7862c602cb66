"""Integration: the maintenance DAG's retention keeps the ingestor's offset ledger small (ADR 0134).

Runs ``streamflow.orchestration.maintenance`` in the Airflow environment (where the DAG runs it)
against a migrated database: settled adjacent ranges of one day merge into one, recent ones and
other days' stay as they are, ranges older than the retention go, and the merged ledger still
refuses a re-read.
"""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest

from streamflow.platform.settings import PostgresSettings
from tests.warehouse.helpers import AIRFLOW_PY

pytestmark = pytest.mark.integration

SCRIPT = """
import json, sys
from streamflow.orchestration.maintenance import apply_retention
print(json.dumps(apply_retention(sys.argv[1], 30)))
"""


def test_retention_compacts_and_prunes_the_offset_ledger(pg_settings: PostgresSettings) -> None:
    dsn = pg_settings.dsn()
    yesterday = "date_trunc('day', now()) - interval '1 day'"
    ranges = [
        # partition 0: three adjacent ranges landed yesterday, a gap, one more; the day before,
        # one adjacent to them (another day: kept apart); two recent ones
        (0, 0, 10, f"{yesterday} + interval '10 hours'"),
        (0, 10, 25, f"{yesterday} + interval '10 hours 5 minutes'"),
        (0, 25, 30, f"{yesterday} + interval '11 hours'"),
        (0, 40, 50, f"{yesterday} + interval '12 hours'"),
        (0, -5, 0, f"{yesterday} - interval '1 hour'"),
        (0, 50, 60, "now() - interval '1 minute'"),
        (0, 60, 70, "now()"),
        # partition 1: one range past the retention, one settled
        (1, 0, 5, "now() - interval '40 days'"),
        (1, 5, 9, f"{yesterday} + interval '10 hours'"),
    ]
    with psycopg.connect(dsn) as conn:
        for partition, lo, hi, when in ranges:
            conn.execute(
                "insert into bronze.transactions_offsets"
                " (kafka_topic, kafka_partition, offsets, landed_at)"
                f" values ('raw', %s, int8range(%s, %s), {when})",
                (partition, lo, hi),
            )
    warehouse = pg_settings.as_role("streamflow_warehouse").dsn()  # the role the DAG runs as
    proc = subprocess.run(
        [str(AIRFLOW_PY), "-c", SCRIPT, warehouse],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    deleted = json.loads(proc.stdout.strip().splitlines()[-1])
    assert deleted["transactions_offsets"] == 1
    with psycopg.connect(dsn) as conn:
        kept = conn.execute(
            "select kafka_partition, lower(offsets), upper(offsets)"
            " from bronze.transactions_offsets order by 1, 2"
        ).fetchall()
        assert kept == [
            (0, -5, 0),
            (0, 0, 30),
            (0, 40, 50),
            (0, 50, 60),
            (0, 60, 70),
            (1, 5, 9),
        ]
        # the merged range keeps its day's latest landing, so retention drops it with that day
        [(landed,)] = conn.execute(
            "select landed_at = date_trunc('day', now()) - interval '1 day' + interval '11 hours'"
            " from bronze.transactions_offsets where lower(offsets) = 0 and kafka_partition = 0"
        ).fetchall()
        assert landed
        # the merged range still refuses a batch that overlaps it
        with pytest.raises(psycopg.errors.ExclusionViolation):
            conn.execute(
                "insert into bronze.transactions_offsets (kafka_topic, kafka_partition, offsets)"
                " values ('raw', 0, int8range(12, 14))"
            )
