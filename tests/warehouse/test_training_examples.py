"""gold.training_examples on real PostgreSQL: labels known at a cut-off; the leakage test bites.

The committed bronze fixture has transactions from 2026-11-01 to 11-09 and chargebacks reported
from 11-10 to 11-12; a cut-off inside that range leaves frauds whose report comes after it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest

from streamflow.platform.settings import PostgresSettings
from streamflow.testkit.bronze_fixture import load
from tests.warehouse.helpers import DBT, REPO, run_dbt, warehouse_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

CUTOFF = "2026-11-11T00:00:00+00:00"
VARS = json.dumps({"training_cutoff": CUTOFF, "label_maturity_days": 2})
LEAK_TEST = "assert_training_labels_known_at_cutoff"


def _dbt_test(pg: PostgresSettings, vars_: str = VARS) -> subprocess.CompletedProcess[str]:
    """``dbt test`` of the training examples, returning the result whatever it is."""
    return subprocess.run(
        [str(DBT), "test", "--select", "training_examples", "--vars", vars_],
        cwd=REPO / "dbt",
        env=warehouse_env(pg),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_labels_known_at_the_cutoff_only_and_leaks_fail_the_tests(
    pg_settings: PostgresSettings, dbt_manifest: Path
) -> None:
    dsn = pg_settings.dsn()
    load(dsn)
    # model + parents, their data tests, the model's unit test and the leakage test: all green
    run_dbt(
        pg_settings,
        "build",
        "--select",
        "+training_examples",
        "--indirect-selection",
        "buildable",
        "--vars",
        VARS,
    )
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select count(*), sum(label), min(training_cutoff), max(event_time),"
            " (select count(*) from silver.stg_transactions"
            "   where event_time <= %(c)s::timestamptz - interval '2 days')"
            " from gold.training_examples",
            {"c": CUTOFF},
        ).fetchone()
        assert row is not None
        rows, frauds, cutoff, newest, eligible = row
        assert rows == eligible > 0
        assert str(cutoff.isoformat()) == CUTOFF
        assert newest.isoformat() <= "2026-11-09T00:00:00+00:00"
        known = conn.execute(
            "select count(distinct f.transaction_id) from bronze.feedback f"
            " join gold.training_examples t using (transaction_id)"
            " where f.label = 'fraud' and f.reported_at <= %(c)s",
            {"c": CUTOFF},
        ).fetchone()
        assert known == (frauds,)
        assert frauds > 0
        # frauds reported after the cut-off are in the examples, as legit (not yet known)
        late = conn.execute(
            "select t.transaction_id from gold.training_examples t"
            " where t.label = 0 and exists (select 1 from bronze.feedback f"
            "   where f.transaction_id = t.transaction_id and f.label = 'fraud')"
            " order by 1 limit 1"
        ).fetchone()
        assert late is not None
        young = conn.execute(
            "select transaction_id from silver.stg_transactions"
            " where event_time > %(c)s::timestamptz - interval '2 days' order by 1 limit 1",
            {"c": CUTOFF},
        ).fetchone()
        assert young is not None

    # a label from after the cut-off leaking in fails the test
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "update gold.training_examples set label = 1 where transaction_id = %s", (late[0],)
        )
    leaked = _dbt_test(pg_settings)
    assert leaked.returncode != 0
    assert LEAK_TEST in leaked.stdout
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "update gold.training_examples set label = 0 where transaction_id = %s", (late[0],)
        )
        conn.execute(
            "update gold.training_examples set label_reported_at = training_cutoff"
            " + interval '1 second' where transaction_id = %s",
            (late[0],),
        )
    reported_late = _dbt_test(pg_settings)
    assert reported_late.returncode != 0
    assert LEAK_TEST in reported_late.stdout

    # ... and so does a transaction too young for the cut-off
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "update gold.training_examples set label_reported_at = null where transaction_id = %s",
            (late[0],),
        )
        conn.execute(
            "insert into gold.training_examples (transaction_id, event_time, customer_id,"
            " merchant_id, amount, label, training_cutoff, label_maturity_days)"
            " select transaction_id, event_time, customer_id, merchant_id, amount, 0,"
            " %s::timestamptz, 2 from silver.stg_transactions where transaction_id = %s",
            (CUTOFF, young[0]),
        )
    too_young = _dbt_test(pg_settings)
    assert too_young.returncode != 0
    assert LEAK_TEST in too_young.stdout
    with psycopg.connect(dsn) as conn:
        conn.execute("delete from gold.training_examples where transaction_id = %s", (young[0],))
    assert _dbt_test(pg_settings).returncode == 0, "the restored table passes again"
    # rows built with another cut-off than the run's are caught too
    other = json.dumps({"training_cutoff": "2026-11-12T00:00:00+00:00", "label_maturity_days": 2})
    assert _dbt_test(pg_settings, other).returncode != 0
