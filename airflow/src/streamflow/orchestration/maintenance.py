"""Daily warehouse housekeeping: bronze retention, VACUUM/ANALYZE, the dead-letter summary."""

from __future__ import annotations

import logging
from datetime import date

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

# Bronze tables pruned by ingestion time; dead letters are kept (they are evidence to replay).
RETAINED_TABLES = (
    "transactions",
    "scored_transactions",
    "fraud_alerts",
    "feedback",
    "realtime_metrics",
    "dlq_events",
)
MAINTAINED_SCHEMAS = ("bronze", "silver", "gold")
OFFSET_LEDGERS = ("transactions_offsets",)
"""The ingestor's offset ledgers (V054, ADR 0134): one row per landed batch and partition."""
LEDGER_SETTLED = "1 hour"
"""Ledger ranges older than this are merged with their neighbours of the same day (no batch is
in flight for them)."""

# Each run of adjacent ranges of a partition landed on one day, before the cutoff, becomes one
# range with that day's latest landed_at: retention then drops whole days, as it drops the rows
# of those days. One transaction: a claim overlapping them meanwhile waits, then meets the merge.
_COMPACT = """
with settled as (
    delete from bronze.{ledger} where landed_at < now() - interval '{settled}'
    returning kafka_topic, kafka_partition, offsets, landed_at, date_trunc('day', landed_at) as day
),
marked as (
    select *, case when lower(offsets) = lag(upper(offsets)) over w then 0 else 1 end as starts
    from settled
    window w as (partition by kafka_topic, kafka_partition, day order by lower(offsets))
),
runs as (
    select *, sum(starts) over (
        partition by kafka_topic, kafka_partition, day order by lower(offsets)
    ) as run
    from marked
)
insert into bronze.{ledger} (kafka_topic, kafka_partition, offsets, landed_at)
select kafka_topic, kafka_partition, int8range(min(lower(offsets)), max(upper(offsets))),
    max(landed_at)
from runs
group by kafka_topic, kafka_partition, day, run
"""


def apply_retention(dsn: str, days: int) -> dict[str, int]:
    """Delete bronze rows ingested more than ``days`` ago; returns rows deleted per table."""
    if days < 1:
        raise ValueError("retention must be at least one day")
    # The ledgers' ranges by when they landed: offsets landed before the retention window may
    # land again, as their rows would after their deletion under a key on the coordinates.
    aged = [(table, "ingested_at") for table in RETAINED_TABLES]
    aged += [(ledger, "landed_at") for ledger in OFFSET_LEDGERS]
    older = sql.SQL("delete from bronze.{} where {} < now() - make_interval(days => %s)")
    deleted: dict[str, int] = {}
    with psycopg.connect(dsn) as conn:
        for table, column in aged:
            query = older.format(sql.Identifier(table), sql.Identifier(column))
            cur = conn.execute(query, (days,))
            deleted[table] = cur.rowcount
    for ledger in OFFSET_LEDGERS:
        compact_ledger(dsn, ledger)
    log.info("bronze retention (%s days): %s", days, deleted)
    return deleted


def compact_ledger(dsn: str, ledger: str, settled: str = LEDGER_SETTLED) -> tuple[int, int]:
    """Merge adjacent offset ranges landed more than ``settled`` ago; (ranges before, after)."""
    query = sql.SQL(_COMPACT.format(ledger="{ledger}", settled=settled)).format(
        ledger=sql.Identifier(ledger)
    )
    count = sql.SQL("select count(*) from bronze.{}").format(sql.Identifier(ledger))
    with psycopg.connect(dsn) as conn:
        before = _scalar(conn.execute(count).fetchone())
        conn.execute(query)
        after = _scalar(conn.execute(count).fetchone())
    log.info("offset ledger bronze.%s compacted: %d ranges -> %d", ledger, before, after)
    return before, after


def _scalar(row: tuple[object, ...] | None) -> int:
    return int(str(row[0])) if row else 0


def vacuum_analyze(dsn: str, schemas: tuple[str, ...] = MAINTAINED_SCHEMAS) -> list[str]:
    """VACUUM (ANALYZE) every table of ``schemas``; returns the tables processed."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [
            (str(s), str(t))
            for s, t in conn.execute(
                "select schemaname, tablename from pg_tables where schemaname = any(%s)"
                " order by 1, 2",
                (list(schemas),),
            ).fetchall()
        ]
        for schema, table in tables:
            conn.execute(
                sql.SQL("vacuum (analyze) {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
    log.info("vacuumed and analyzed %d tables", len(tables))
    return [f"{s}.{t}" for s, t in tables]


def summarise_dead_letters(dsn: str, day: date) -> list[tuple[str, str, int]]:
    """Count the day's dead letters by stage and error type into ops.dead_letter_summary."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """
            with dl as (
                select stage, error_type from bronze.dlq_events where failed_at::date = %(d)s
                union all
                select 'ingestor', error_type from bronze.dead_letters where failed_at::date = %(d)s
            )
            select stage, error_type, count(*) from dl group by 1, 2 order by 1, 2
            """,
            {"d": day},
        ).fetchall()
        conn.execute("delete from ops.dead_letter_summary where summary_date = %s", (day,))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into ops.dead_letter_summary"
                " (summary_date, stage, error_type, dead_letters) values (%s, %s, %s, %s)",
                [(day, stage, error, n) for stage, error, n in rows],
            )
    summary = [(str(s), str(e), int(n)) for s, e, n in rows]
    log.info("dead letters on %s: %s", day, summary or "none")
    return summary
