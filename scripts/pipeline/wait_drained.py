"""Wait until the pipeline has caught up with ``transactions.raw``, printing progress.

Caught up means: every raw record is in bronze (as a transaction or an ingestor dead letter) and
every raw record has been scored or rejected by the scorer (as landed in bronze). Exit 1 on
timeout, with the counts that did not converge.

``--ingested N`` / ``--scored N`` wait for progress instead: at least N raw records landed in
bronze / N scored or rejected (the fault runs use them to strike while the pipeline is mid-stream).
"""

from __future__ import annotations

import argparse
import sys
import time

import psycopg

from streamflow.events import Topic
from streamflow.platform.kafka import topic_record_count
from streamflow.platform.settings import ServiceSettings, load_settings


def landed(settings: ServiceSettings) -> tuple[int, int]:
    """(raw records landed in bronze, raw records scored or rejected, as landed in bronze)."""
    raw = settings.topics.name(Topic.TRANSACTIONS_RAW)
    with psycopg.connect(settings.pg.dsn()) as conn:
        row = conn.execute(
            "select (select count(*) from bronze.transactions where kafka_topic = %(raw)s)"
            " + (select count(*) from bronze.dead_letters where kafka_topic = %(raw)s),"
            " (select count(*) from bronze.scored_transactions)"
            " + (select count(*) from bronze.dlq_events where stage = 'scorer'"
            "    and source_topic = %(raw)s)",
            {"raw": raw},
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def main(argv: list[str] | None = None) -> int:
    """Poll until caught up or the timeout passes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--ingested", type=int, default=None, help="wait for N raw records landed")
    parser.add_argument("--scored", type=int, default=None, help="wait for N scored or rejected")
    args = parser.parse_args(argv)
    progress = args.ingested is not None or args.scored is not None
    settings = load_settings(ServiceSettings)
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    while True:
        # transactions.raw's producers are idempotent, not transactional: offsets = records.
        target = topic_record_count(settings.kafka, settings.topics.name(Topic.TRANSACTIONS_RAW))
        ingested, scored = landed(settings)
        elapsed = time.monotonic() - started
        print(
            f"  [{elapsed:5.0f}s] raw {target:,} | ingested {ingested:,} "
            f"| scored+rejected {scored:,}",
            flush=True,
        )
        if progress:
            if ingested >= (args.ingested or 0) and scored >= (args.scored or 0):
                return 0
        elif target > 0 and ingested >= target and scored >= target:
            return 0
        if time.monotonic() > deadline:
            what = (
                f"reach ingested {args.ingested} / scored {args.scored}" if progress else "catch up"
            )
            print(f"error: pipeline did not {what} within {args.timeout:.0f}s", file=sys.stderr)
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    raise SystemExit(main())
