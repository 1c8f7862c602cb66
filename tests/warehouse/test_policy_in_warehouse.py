"""Silver applies the validation policy: N and N-1 rows pass, the rest are rejects with the reason.

Real PostgreSQL and dbt. The transaction contract is still at version 1, so the run passes dbt
the vars :mod:`scripts.warehouse.policy_vars` generates for a v2 transaction contract (accepted:
1 and 2), exactly as a bump of ``Transaction.SCHEMA_VERSION`` would regenerate them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from scripts.warehouse import policy_vars
from streamflow.events import policy
from streamflow.platform.settings import PostgresSettings
from tests.warehouse.helpers import run_dbt

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

MODELS = ("stg_transactions", "stg_transactions_rejects")


def _row(
    offset: int,
    *,
    version: int = 2,
    amount: Decimal = Decimal("10.00"),
    appended: datetime | None,
    event_time: datetime,
) -> tuple[object, ...]:
    txn_id = f"policy-{offset}"
    payload = {
        "transaction_id": txn_id,
        "customer_id": "C1",
        "card_id": "K1",
        "merchant_id": "M1",
        "store_id": "S1",
        "amount": str(amount),
        "currency": "BRL",
        "event_time": event_time.isoformat(),
        "channel": "pos",
        "payment_method": "pix",
    }
    return ("transactions.raw", 0, offset, appended, txn_id, version, json.dumps(payload))


def test_silver_accepts_current_and_previous_versions_and_rejects_by_the_policy(
    warehouse_envs: None, pg_settings: PostgresSettings
) -> None:
    appended = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    before = appended - timedelta(minutes=1)
    skew = policy.MAX_FUTURE_SKEW
    second = timedelta(seconds=1)
    rows = {
        "policy-1": _row(1, version=1, appended=appended, event_time=before),  # N-1
        "policy-2": _row(2, version=2, appended=appended, event_time=before),  # N
        "policy-3": _row(3, version=3, appended=appended, event_time=before),
        "policy-4": _row(4, appended=appended, event_time=appended + skew),
        # ahead of the append time by more than the skew, though long before ingestion (now)
        "policy-5": _row(5, appended=appended, event_time=appended + skew + second),
        "policy-6": _row(6, amount=Decimal("0.00"), appended=appended, event_time=before),
        "policy-7": _row(7, amount=policy.AMOUNT_MAX, appended=appended, event_time=before),
        "policy-8": _row(
            8, appended=appended, event_time=policy.EARLIEST_EVENT_TIME - timedelta(days=1)
        ),
        # no Kafka timestamp: judged against the ingestion time
        "policy-9": _row(9, appended=None, event_time=datetime.now(UTC) + 2 * skew),
    }
    columns = (
        "kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, transaction_id,"
        " schema_version, payload"
    )
    with psycopg.connect(pg_settings.dsn()) as conn, conn.cursor() as cur:
        cur.executemany(
            f"insert into bronze.transactions ({columns}) values ({', '.join(['%s'] * 7)})",
            list(rows.values()),
        )

    as_v2 = {**policy.accepted_schema_versions(), "Transaction": policy.accepted_versions(2)}
    accepted = policy_vars.dbt_vars(as_v2)["policy_accepted_schema_versions"]
    dbt_vars = json.dumps({"policy_accepted_schema_versions": accepted})
    select = ["--select", *MODELS]
    run_dbt(pg_settings, "run", *select, "--vars", dbt_vars)
    # the models' own tests: reject reasons in the vocabulary, amounts within the policy's range
    run_dbt(pg_settings, "test", *select, "--indirect-selection", "cautious", "--vars", dbt_vars)

    with psycopg.connect(pg_settings.dsn()) as conn:
        kept: dict[str, int] = dict(
            conn.execute(
                "select s.transaction_id, b.schema_version from silver.stg_transactions as s"
                " join bronze.transactions as b using (transaction_id)"
            ).fetchall()
        )
        rejected: dict[str, str] = dict(
            conn.execute(
                "select transaction_id, reject_reason from silver.stg_transactions_rejects"
            ).fetchall()
        )
    assert kept == {"policy-1": 1, "policy-2": 2, "policy-4": 2, "policy-7": 2}
    assert rejected == {
        "policy-3": policy.UNSUPPORTED_SCHEMA_VERSION,
        "policy-5": policy.EVENT_TIME_IN_FUTURE,
        "policy-6": policy.AMOUNT_NOT_POSITIVE,
        "policy-8": policy.EVENT_TIME_TOO_OLD,
        "policy-9": policy.EVENT_TIME_IN_FUTURE,
    }
