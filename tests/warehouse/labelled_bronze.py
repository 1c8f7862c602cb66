"""Land a labelled file (the generator's ``--labelled-out``) in bronze, as the ingestor would.

Transactions go to ``bronze.transactions`` (Kafka coordinates made up, the record as payload);
every fraud gets a chargeback in ``bronze.feedback`` reported ``delay`` after the payment. Used by
the model_training DAG test and ``make demo``'s retrain step when the demo's own volume is too
small. Command line: ``python -m tests.warehouse.labelled_bronze FILE DSN [--delay-days 3]``.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq

from streamflow.events import Feedback, Transaction

TXN_COLUMNS = (
    "kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, transaction_id, schema_version,"
    " payload"
)
FEEDBACK_COLUMNS = (
    "kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, transaction_id, customer_id,"
    " merchant_id, label, source, reported_at, schema_version, payload"
)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _json(row: dict[str, Any]) -> str:
    return json.dumps(
        {
            k: (_iso(v) if isinstance(v, datetime) else str(v) if isinstance(v, Decimal) else v)
            for k, v in row.items()
        }
    )


def load_labelled(path: Path, dsn: str, delay: timedelta = timedelta(days=3)) -> tuple[int, int]:
    """COPY the file's transactions and chargebacks into bronze; returns (transactions, frauds)."""
    rows = pq.read_table(path).to_pylist()
    frauds = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"copy bronze.transactions ({TXN_COLUMNS}) from stdin") as copy:
            for offset, row in enumerate(rows):
                record = {k: v for k, v in row.items() if k not in ("label", "scenario")}
                copy.write_row(
                    (
                        "transactions.raw",
                        0,
                        offset,
                        row["event_time"],
                        row["transaction_id"],
                        row.get("schema_version") or Transaction.SCHEMA_VERSION,
                        _json(record),
                    )
                )
        with cur.copy(f"copy bronze.feedback ({FEEDBACK_COLUMNS}) from stdin") as copy:
            for row in (r for r in rows if r["label"] == 1):
                reported = row["event_time"] + delay
                payload = {
                    "schema_version": Feedback.SCHEMA_VERSION,
                    "transaction_id": row["transaction_id"],
                    "customer_id": row["customer_id"],
                    "merchant_id": row["merchant_id"],
                    "label": "fraud",
                    "source": "chargeback",
                    "reported_at": reported,
                    "note": None,
                }
                copy.write_row(
                    (
                        "fraud.feedback",
                        0,
                        frauds,
                        reported,
                        row["transaction_id"],
                        row["customer_id"],
                        row["merchant_id"],
                        "fraud",
                        "chargeback",
                        reported,
                        Feedback.SCHEMA_VERSION,
                        _json(payload),
                    )
                )
                frauds += 1
    return len(rows), frauds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("dsn")
    parser.add_argument("--delay-days", type=float, default=3.0, help="chargeback delay")
    args = parser.parse_args(argv)
    rows, frauds = load_labelled(args.file, args.dsn, timedelta(days=args.delay_days))
    print(json.dumps({"transactions": rows, "chargebacks": frauds}))


if __name__ == "__main__":
    main()
