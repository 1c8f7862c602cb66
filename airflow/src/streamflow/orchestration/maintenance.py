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


def apply_retention(dsn: str, days: int) -> dict[str, int]:
    """Delete bronze rows ingested more than ``days`` ago; returns rows deleted per table."""
    if days < 1:
        raise ValueError("retention must be at least one day")
    deleted: dict[str, int] = {}
    with psycopg.connect(dsn) as conn:
        for table in RETAINED_TABLES:
            cur = conn.execute(
                sql.SQL(
                    "delete from bronze.{} where ingested_at < now() - make_interval(days => %s)"
                ).format(sql.Identifier(table)),
                (days,),
            )
            deleted[table] = cur.rowcount
    log.info("bronze retention (%s days): %s", days, deleted)
    return deleted


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
