"""Candidate designs of bronze.transactions against raw COPY, client + server CPU per row.

Not part of ``make bench``: it measures designs that are not built, to decide what to build
for issue #20's ingestor bar (<= 4x raw COPY), alternating them round by round in one sitting:

    flock /tmp/streamflow-bench.lock \
        .venv/bin/python bench/ingestor_designs.py --rows 200000 --rounds 3

Every design keeps what bronze must keep for a raw transaction: the Kafka coordinates, the
``transaction_id`` (validated by the ingestor's fast path, ``streamflow.ingestor.fast``: the
contract's checks), ``schema_version``, the payload and ``ingested_at``. The typed columns
(customer, card, merchant, store, amount, currency, event time) are left to dbt's staging. What
varies is how a replayed batch is kept out (a primary key on the coordinates, or one row per
batch and partition in an offset ledger whose ``int8range`` exclusion constraint refuses an
overlap), the indexes, the payload's type and the COPY format (text built in Python, or
asyncpg's binary ``copy_records_to_table``). The records, batching and CPU accounting are
``bench/ladder_ingestor.py``'s: the same 470-byte transactions, batches of the ingestor's size
in one transaction each, CPU of this process plus the connection's backend from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingestor import drop_database  # noqa: E402
from bench.ladder_ingestor import (  # noqa: E402
    SPEC,
    Rung,
    copy_into,
    measure,
    raw_copy_text,
    records,
)
from streamflow.ingestor.config import Settings  # noqa: E402
from streamflow.ingestor.records import PlainRecord  # noqa: E402
from streamflow.platform.settings import PostgresSettings  # noqa: E402

COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "transaction_id", "schema_version")
PARTITION_SPAN = 1 << 40
"""(partition, offset) as one bigint for the ledger's ranges: offsets stay below 2**40."""

Ranges = list[tuple[int, int]]


def _table(payload_type: str, extra: str = "") -> str:
    return (
        "create table d.t (kafka_topic text not null, kafka_partition int not null, "
        "kafka_offset bigint not null, transaction_id text not null, schema_version int not null, "
        f"payload {payload_type} not null, ingested_at timestamptz not null default now(){extra})"
    )


LEDGER = "create table d.ledger (r int8range not null, exclude using gist (r with &&))"
BRIN = "create index on d.t using brin (ingested_at)"


def _validated(batch: Sequence[PlainRecord]) -> tuple[list[tuple[Any, ...]], Ranges]:
    """Validate each record (the ingestor's fast path) and note each partition's offset range."""
    check = SPEC.fast.check if SPEC.fast else None
    assert check is not None, "transactions.raw has a fast path"
    rows: list[tuple[Any, ...]] = []
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for record in batch:
        value = record.value or b""
        event = check(value)
        partition, offset = record.partition, record.offset
        low[partition] = min(offset, low.get(partition, offset))
        high[partition] = max(offset, high.get(partition, offset))
        rows.append((record.topic, partition, offset, event["transaction_id"], 1, value))
    ranges = [(p * PARTITION_SPAN + low[p], p * PARTITION_SPAN + high[p]) for p in low]
    return rows, ranges


def as_text(batch: Sequence[PlainRecord]) -> tuple[bytes, Ranges]:
    """COPY text built in Python (a validated payload holds no tab or newline; ``\\`` doubled)."""
    rows, ranges = _validated(batch)
    lines = [
        b"%s\t%d\t%d\t%s\t%d\t%s"
        % (t.encode(), p, o, i.encode(), v, payload.replace(b"\\", b"\\\\"))
        for t, p, o, i, v, payload in rows
    ]
    return b"\n".join(lines) + b"\n", ranges


def as_records(batch: Sequence[PlainRecord]) -> tuple[list[tuple[Any, ...]], Ranges]:
    """Tuples for asyncpg's binary COPY (the payload as str)."""
    rows, ranges = _validated(batch)
    return [(*row[:5], row[5].decode("utf-8")) for row in rows], ranges


async def _ledger(conn: asyncpg.Connection, ranges: Ranges) -> None:
    await conn.executemany("insert into d.ledger (r) values (int8range($1, $2, '[]'))", ranges)


async def copy_text(conn: asyncpg.Connection, rung: Rung, encoded: tuple[bytes, Ranges]) -> None:
    """COPY text, as the ladder's rungs do; a replay is kept out by the table's primary key."""
    await copy_into(conn, rung, encoded[0])


async def copy_text_ledger(
    conn: asyncpg.Connection, rung: Rung, encoded: tuple[bytes, Ranges]
) -> None:
    """COPY text, then the batch's ledger rows."""
    await copy_into(conn, rung, encoded[0])
    await _ledger(conn, encoded[1])


async def copy_binary(
    conn: asyncpg.Connection, rung: Rung, encoded: tuple[list[tuple[Any, ...]], Ranges]
) -> None:
    """asyncpg's binary COPY, then the ledger's rows."""
    rows, ranges = encoded
    await conn.copy_records_to_table("t", schema_name="d", columns=list(rung.columns), records=rows)
    await _ledger(conn, ranges)


def designs() -> list[tuple[Rung, list[str]]]:
    """Each design as a ladder rung with the DDL of its empty table."""
    cols = (*COLUMNS, "payload")
    return [
        (Rung("raw_copy", "raw COPY", "d.t", ("payload",), raw_copy_text),
         ["create table d.t (payload text not null)"]),
        (Rung("pk_json", "primary key, json", "d.t", cols, as_text, copy_text),
         [_table("json", ", primary key (kafka_topic, kafka_partition, kafka_offset)")]),
        (Rung("ledger_brin_json", "ledger, BRIN, json", "d.t", cols, as_text, copy_text_ledger),
         [_table("json"), BRIN, LEDGER]),
        (Rung("ledger_brin_txid_json", "ledger, BRIN, btree(transaction_id), json", "d.t", cols,
              as_text, copy_text_ledger),
         [_table("json"), BRIN, "create index on d.t (transaction_id)", LEDGER]),
        (Rung("ledger_brin_text", "ledger, BRIN, text", "d.t", cols, as_text, copy_text_ledger),
         [_table("text"), BRIN, LEDGER]),
        (Rung("ledger_brin_json_binary", "ledger, BRIN, json, binary COPY", "d.t", cols,
              as_records, copy_binary),
         [_table("json"), BRIN, LEDGER]),
    ]  # fmt: skip


async def run(rows: int, rounds: int) -> None:
    """Every design ``rounds`` times, alternated, in a throwaway database; a line per result."""
    admin = PostgresSettings()
    db = f"designs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
    batch = Settings().batch_max_records
    try:
        data = records(rows)
        gc.collect()
        gc.freeze()
        conn = await asyncpg.connect(admin.model_copy(update={"database": db}).dsn())
        try:
            await conn.execute("create schema d")
            for n in range(1, rounds + 1):
                reference = 0.0
                for rung, ddl in designs():
                    for statement in ddl:
                        await conn.execute(statement)
                    load = os.getloadavg()[0]
                    figures = await measure(conn, rung, data, batch)
                    total = float(figures["cpu_us_per_row"])
                    reference = reference or total
                    print(
                        f"round {n} {rung.name:24s} client {figures['client_cpu_us_per_row']:6.2f}"
                        f" server {figures['server_cpu_us_per_row']:6.2f} total {total:6.2f}"
                        f" ({total / reference:.2f}x raw COPY) load {load:.2f}",
                        flush=True,
                    )
                    await conn.execute("drop table d.t; drop table if exists d.ledger")
        finally:
            await conn.close()
    finally:
        gc.unfreeze()
        drop_database(admin, db)


def main() -> None:
    """``ingestor_designs.py [--rows N] [--rounds N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.rounds))


if __name__ == "__main__":
    main()
