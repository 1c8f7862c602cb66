"""The ingestor's reference ladder: client + server CPU per row and rows/s of each write rung.

Run by ``bench/ladder.py`` (main env) against the local PostgreSQL (``make up``), in a throwaway
migrated database. The same ``--rows`` transaction records (``bench/ingestor.py``'s payload, as
Kafka records in memory: no broker in this ladder) are written by one connection in the
ingestor's batches (``batch_max_records``, one transaction each), with more work per rung:

- ``raw_copy``: the payloads alone, COPY text into a one-column ``text`` table, no index.
- ``validation``: + the ingestor's record parsing and validation (``parse_records``: the
  contract, the typed columns) and its COPY text encoder; bronze's columns, payload as ``text``.
- ``payload_type``: + the payload column of bronze.transactions' type (``json`` since V053, ADR
  0125; ``jsonb`` before), its columns, no index.
- ``+ <index>``: one rung per index of ``bronze.transactions``, cumulative, in the DDL's order
  (read from the migrated database, so the ladder follows the DDL). Since V054 that is the BRIN
  on ``ingested_at`` alone: the offset ledger's row per batch is in ``ingestor``.
- ``ingestor``: **the ingestor's cost** (``ingestor_vs_raw_copy``, bar <= 4 from issue #20): its
  real code path end to end for a first read, ``parse_records`` then the writer's ``write_batch``
  (COPY text encoding, its transaction, the claim of the batch's offsets in the ledger
  ``bronze.transactions_offsets`` in a savepoint, COPY straight into the real
  ``bronze.transactions`` with every index of the migrated DDL).
- ``reread``: the same batches written again through ``write_batch`` (what a batch read again
  after a crash takes; not the steady state): the offset ledger refuses each claim, the
  overlapping ranges are read and nothing lands (ADR 0134).
- ``scored_raw_copy`` and ``scored_ingestor``: the same two ends for ``transactions.scored``,
  whose ~1.9 KB records (the scoring core's own JSON) are most of what the ingestor and
  PostgreSQL do per event end to end; ``scored_ingestor`` includes bronze.scored_transactions'
  projection trigger into ``app.scored_transactions``. Their ratios are to ``scored_raw_copy``
  (``scored_ingestor_vs_raw_copy``: a figure, not issue #20's bar, which is the raw topic's).

CPU per row = this process's CPU (the client: parsing, encoding, asyncpg) + the CPU of the
connection's PostgreSQL backend process from /proc (the server: COPY parsing, json, indexes,
WAL records), over the rung, divided by the rows. The server's shared background processes
(WAL writer, checkpointer, autovacuum) serve every database of the server and are left out.
Each rung starts on an empty table; the 1-minute load average is checked before it
(``bench/load_gate.py``: above 1.0, wait up to 5 minutes, then measure anyway, marked loaded).

After the ladder, ``raw_copy`` and ``ingestor`` are measured back to back ``--pairs - 1`` more
times: ``ingestor_vs_raw_copy`` is the median of the pairs' ratios, the ladder's own pair
included (each pair's figures are in ``pairs``), since one pair moves by ±15% from one minute to
the next.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingestor import _TX, drop_database  # noqa: E402
from bench.load_gate import LOAD_LIMIT, MAX_WAIT_S, wait_for_quiet  # noqa: E402
from bench.thread_cpu import tree_cpu_s  # noqa: E402
from streamflow.events import Topic, Transaction, decode  # noqa: E402
from streamflow.ingestor.config import Settings  # noqa: E402
from streamflow.ingestor.copy_text import encode_rows  # noqa: E402
from streamflow.ingestor.records import ParsedBatch, PlainRecord, parse_records  # noqa: E402
from streamflow.ingestor.tables import SPECS, TableSpec  # noqa: E402

# The ingestor's own staging tables (made per session) and its batch write.
from streamflow.ingestor.writer import _prepare_connection, write_batch  # noqa: E402
from streamflow.platform.migrations import migrate  # noqa: E402
from streamflow.platform.settings import PostgresSettings  # noqa: E402
from streamflow.scoring.core import score_transaction_json  # noqa: E402
from streamflow.scoring.model import DEFAULT_MODEL_PATH, read_model  # noqa: E402
from streamflow.scoring.rulesets import default_rules  # noqa: E402

SPEC = SPECS[Topic.TRANSACTIONS_RAW]
SCORED = SPECS[Topic.TRANSACTIONS_SCORED]
SCORED_BASE = "scored_raw_copy"
SCHEMA = "ladder"
PARTITIONS = 3
INGESTOR = "ingestor"
"""The rung that is the ingestor's cost per row (its ratio to ``raw_copy``: issue #20's bar)."""


def records(count: int) -> list[PlainRecord]:
    """``count`` transactions.raw records with ``bench/ingestor.py``'s payloads."""
    now_ms = int(time.time() * 1000)
    out = []
    for i in range(count):
        customer = f"C{i % 997:04d}"
        value = _TX.replace("TXID", f"tx-{i:09d}").replace("CUST", customer).encode()
        out.append(
            PlainRecord(
                str(Topic.TRANSACTIONS_RAW),
                i % PARTITIONS,
                i // PARTITIONS,
                now_ms + i // 1000,
                customer.encode(),
                value,
            )
        )
    return out


def scored_records(count: int, distinct: int = 50) -> list[PlainRecord]:
    """``count`` transactions.scored records: the scoring core's JSON for ``distinct`` transactions
    of one customer a day apart (its state carried, so features, explanations and the odd alert
    vary as in a stream), ids made unique."""
    rules, model = default_rules(), read_model(DEFAULT_MODEL_PATH)
    state, values = None, []
    for i in range(distinct):
        amount = f"{20 + (i * 7919) % 5000}.{i % 100:02d}"
        when = (_DAY0 + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        value = _TX.replace("4800.00", amount).replace("CUST", "C0001")
        txn = decode(Transaction, value.replace("2026-11-01T14:30:00Z", when))
        state, out = score_transaction_json(state, txn, rules, 0.02 * (i % 10), model, _now())
        values.append(out.scored)
    now_ms = int(time.time() * 1000)
    return [
        PlainRecord(
            str(Topic.TRANSACTIONS_SCORED),
            i % PARTITIONS,
            i // PARTITIONS,
            now_ms + i // 1000,
            b'{"customer_id":"C0001"}',
            values[i % distinct].replace('"TXID"', f'"tx-{i:09d}"', 1).encode(),
        )
        for i in range(count)
    ]


_DAY0 = datetime(2026, 10, 1, 14, 30, tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def raw_copy_text(batch: Sequence[PlainRecord]) -> bytes:
    """The payloads as COPY text, one per line (they hold no tab, newline or backslash)."""
    values = [r.value or b"" for r in batch]
    data = b"\n".join(values) + b"\n"
    if data.count(b"\n") != len(values) or any(c in data for c in (b"\t", b"\\", b"\r")):
        return encode_rows([(v.decode("utf-8"),) for v in values])  # COPY's escapes, if ever
    return data


@dataclass(frozen=True)
class Rung:
    """One rung: its table, how a batch becomes COPY text, and how the text is written."""

    name: str
    what: str
    table: str
    columns: tuple[str, ...]
    encode: Callable[[Sequence[PlainRecord]], Any]
    write: Callable[[asyncpg.Connection, Rung, Any], Awaitable[None]] | None = None
    own_transaction: bool = False  # ``write`` opens the batch's transaction itself
    spec: TableSpec = SPEC
    """The topic whose records the rung writes (transactions.raw, or transactions.scored)."""


@cache
def max_payload_bytes() -> int:
    """The ingestor's payload limit (its settings, read once)."""
    return Settings().max_payload_bytes


def validated_text(batch: Sequence[PlainRecord]) -> bytes:
    """The ingestor's work on a batch: parse and validate, then its COPY text encoder."""
    return _parsed(SPEC, batch).text()


async def copy_into(conn: asyncpg.Connection, rung: Rung, data: bytes) -> None:
    """COPY text into the rung's table (as the ingestor's writer does into bronze)."""
    schema, table = rung.table.split(".")
    await conn.copy_to_table(
        table,
        schema_name=schema,
        columns=list(rung.columns),
        source=memoryview(data),
        format="text",
    )


def parsed(batch: Sequence[PlainRecord]) -> ParsedBatch:
    """The ingestor's parsing and validation of a batch (it encodes in ``write_batch``)."""
    return _parsed(SPEC, batch)


def parsed_scored(batch: Sequence[PlainRecord]) -> ParsedBatch:
    """:func:`parsed` for transactions.scored."""
    return _parsed(SCORED, batch)


def _parsed(spec: TableSpec, batch: Sequence[PlainRecord]) -> ParsedBatch:
    result = parse_records(spec, batch, max_payload_bytes())
    if result.dead:
        msg = f"{len(result.dead)} records rejected: {result.dead[0]}"
        raise RuntimeError(msg)
    return result


async def ingestor_write(conn: asyncpg.Connection, rung: Rung, batch: ParsedBatch) -> None:
    """The ingestor's own batch write (``write_batch``: its transaction, COPY into bronze)."""
    result = await write_batch(conn, rung.spec, batch)
    if result.inserted != len(batch.rows):
        msg = f"{rung.name}: write_batch inserted {result.inserted} of {len(batch.rows)} rows"
        raise RuntimeError(msg)


async def ingestor_reread(conn: asyncpg.Connection, rung: Rung, batch: ParsedBatch) -> None:
    """The ingestor's batch write of a batch already landed: the ledger refuses it, none lands."""
    result = await write_batch(conn, rung.spec, batch)
    if result.inserted or result.duplicates != len(batch):
        msg = f"{rung.name}: a re-read batch inserted {result.inserted} of {len(batch)} rows"
        raise RuntimeError(msg)


def index_definitions(pg: PostgresSettings) -> list[tuple[str, str]]:
    """``(index name, definition)`` of every index of bronze.transactions, in creation order."""
    with psycopg.connect(pg.dsn()) as conn:
        rows = conn.execute(
            "select c.relname, pg_get_indexdef(i.indexrelid) from pg_index i "
            "join pg_class c on c.oid = i.indexrelid "
            "where i.indrelid = 'bronze.transactions'::regclass order by i.indexrelid"
        ).fetchall()
    return [(str(name), str(definition)) for name, definition in rows]


def on_table(definition: str, table: str) -> str:
    """An index definition of bronze.transactions, moved to ``table`` (same columns, unnamed)."""
    unique = definition.startswith("CREATE UNIQUE INDEX")
    using = definition[definition.index(" USING ") :]
    return f"create {'unique ' if unique else ''}index on {table}{using}"


def rungs_and_ddl(pg: PostgresSettings) -> list[tuple[Rung, list[str]]]:
    """Every rung with the DDL that creates its empty table (none for the real bronze's rungs)."""
    columns = SPEC.columns
    like = "(like bronze.transactions including defaults)"
    ladder: list[tuple[Rung, list[str]]] = [
        (
            Rung(
                "raw_copy",
                "raw COPY of the payload (text), no index",
                f"{SCHEMA}.raw",
                ("payload",),
                raw_copy_text,
            ),
            [f"create table {SCHEMA}.raw (payload text not null)"],
        ),
        (
            Rung(
                "validation",
                "+ the ingestor's parsing/validation, typed columns",
                f"{SCHEMA}.validated",
                columns,
                validated_text,
            ),
            [
                f"create table {SCHEMA}.validated {like}",
                f"alter table {SCHEMA}.validated alter column payload type text",
            ],
        ),
        (
            Rung(
                "payload_type",
                f"+ payload as {SPEC.payload_type} (bronze's type)",
                f"{SCHEMA}.typed",
                columns,
                validated_text,
            ),
            [f"create table {SCHEMA}.typed {like}"],
        ),
    ]
    indexes: list[str] = []
    for n, (name, definition) in enumerate(index_definitions(pg), start=1):
        table = f"{SCHEMA}.idx{n}"
        indexes.append(definition)
        ddl = [f"create table {table} {like}", *(on_table(d, table) for d in indexes)]
        what = f"+ index {name}: {definition[definition.index(' USING ') + 7 :]}"
        ladder.append((Rung(f"+{name}", what, table, columns, validated_text), ddl))
    ingestor = Rung(
        INGESTOR,
        "the ingestor's real path, first read: parse_records + write_batch into bronze",
        "bronze.transactions",
        columns,
        parsed,
        ingestor_write,
        own_transaction=True,
    )
    ladder.append((ingestor, []))
    reread = Rung(
        "reread",
        "the same batches again (a re-read after a crash): the ledger refuses, nothing lands",
        "bronze.transactions",
        columns,
        parsed,
        ingestor_reread,
        own_transaction=True,
    )
    ladder.append((reread, []))
    scored_raw = Rung(
        SCORED_BASE,
        "raw COPY of scored records' payloads (text), no index: the scored rungs' reference",
        f"{SCHEMA}.scored_raw",
        ("payload",),
        raw_copy_text,
        spec=SCORED,
    )
    ladder.append((scored_raw, [f"create table {SCHEMA}.scored_raw (payload text not null)"]))
    scored = Rung(
        "scored_ingestor",
        "the ingestor's real path for transactions.scored: parse_records + write_batch into "
        "bronze (its projection trigger into app.scored_transactions included)",
        "bronze.scored_transactions",
        SCORED.columns,
        parsed_scored,
        ingestor_write,
        own_transaction=True,
        spec=SCORED,
    )
    ladder.append((scored, []))
    return ladder


async def measure(
    conn: asyncpg.Connection, rung: Rung, rows: Sequence[PlainRecord], batch: int
) -> dict[str, Any]:
    """Write ``rows`` in batches of ``batch`` (one transaction each); the rung's figures."""
    write = rung.write or copy_into
    rung.encode(rows[:batch])  # warm the client path up (first calls); nothing is written
    backend = conn.get_server_pid()
    client0, server0, t0 = time.process_time(), tree_cpu_s(backend), time.perf_counter()
    for start in range(0, len(rows), batch):
        data = rung.encode(rows[start : start + batch])
        if rung.own_transaction:
            await write(conn, rung, data)
            continue
        async with conn.transaction():
            await write(conn, rung, data)
    wall = time.perf_counter() - t0
    client, server = time.process_time() - client0, tree_cpu_s(backend) - server0
    landed = await conn.fetchval(f"select count(*) from {rung.table}")  # noqa: S608 - our names
    if landed != len(rows):
        msg = f"{rung.name}: {landed} rows landed in {rung.table}, expected {len(rows)}"
        raise RuntimeError(msg)
    n = len(rows)
    return {
        "what": rung.what,
        "table": rung.table,
        "rows": n,
        "seconds": round(wall, 3),
        "rows_per_s": round(n / wall, 1),
        "client_cpu_us_per_row": round(client / n * 1e6, 2),
        "server_cpu_us_per_row": round(server / n * 1e6, 2),
        "cpu_us_per_row": round((client + server) / n * 1e6, 2),
    }


def with_ratios(rungs: dict[str, dict[str, Any]], base: str = "raw_copy") -> None:
    """Add each rung's CPU per row and rows/s as a ratio to the raw-COPY rung's (the scored rungs:
    to ``scored_raw_copy``)."""
    for name, figures in rungs.items():
        ref = rungs.get(SCORED_BASE if name.startswith("scored_") else base, {})
        for key, ratio_key in (
            ("cpu_us_per_row", "cpu_per_row_vs_raw_copy"),
            ("rows_per_s", "rows_per_s_vs_raw_copy"),
        ):
            value, ref_value = figures.get(key), ref.get(key)
            figures[ratio_key] = round(value / ref_value, 2) if value and ref_value else None


PAIRS = 5
"""How many pairs of ``raw_copy`` and ``ingestor`` measurements: the ladder's own two rungs, then
``PAIRS - 1`` pairs back to back. Issue #20's ratio is the median of the pairs' ratios: one
pair's ratio moved 3.6-4.6x between runs minutes apart, the raw COPY alone by ±15% (ADR 0136)."""


def _pair(raw: dict[str, Any], ingestor: dict[str, Any]) -> dict[str, Any]:
    return {
        "raw_copy_cpu_us_per_row": raw["cpu_us_per_row"],
        "ingestor_cpu_us_per_row": ingestor["cpu_us_per_row"],
        "ratio": round(ingestor["cpu_us_per_row"] / raw["cpu_us_per_row"], 2),
        "load_before": raw["load_before"],
        "loaded": raw["loaded"] or ingestor["loaded"],
    }


async def run(
    rows: int,
    load_limit: float = LOAD_LIMIT,
    load_wait_s: float = MAX_WAIT_S,
    pairs: int = PAIRS,
) -> dict[str, Any]:
    """The whole ingestor ladder in a throwaway database, then ``pairs - 1`` more back-to-back
    measurements of ``raw_copy`` and ``ingestor``; the result document."""
    admin = PostgresSettings()
    db = f"ladder_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
    pg = admin.model_copy(update={"database": db})
    batch = Settings().batch_max_records
    result: dict[str, Any] = {"rows_per_rung": rows, "batch_rows": batch, "rungs": {}}
    try:
        migrate(pg.dsn())
        # The inputs are frozen out of the collector's walks: the ingestor holds a few batches,
        # not 200,000 records, and its start-up heap is frozen too (ADR 0121). Unfrozen, every
        # full collection walked them and charged the client ~2-4 µs per row more.
        data = records(rows)
        gc.collect()
        gc.freeze()
        scored_data: list[PlainRecord] = []
        conn = await asyncpg.connect(pg.dsn())
        try:
            await conn.execute(f"create schema {SCHEMA}")
            await _prepare_connection(conn)
            ladder = rungs_and_ddl(pg)

            async def rung_figures(rung: Rung, ddl: list[str]) -> dict[str, Any]:
                nonlocal scored_data
                for statement in ddl:
                    await conn.execute(statement)
                gate = wait_for_quiet(
                    load_limit, load_wait_s, say=lambda text: print(text, file=sys.stderr)
                )
                print(f"==> ladder {rung.name} (load {gate['load_before']})", file=sys.stderr)
                if rung.spec is SCORED and not scored_data:
                    scored_data = scored_records(rows)
                    gc.collect()
                    gc.freeze()
                figures = await measure(
                    conn, rung, scored_data if rung.spec is SCORED else data, batch
                )
                figures.update(
                    load_before=gate["load_before"],
                    load_waited_s=gate["waited_s"],
                    loaded=gate["loaded"],
                )
                if rung.table.startswith(f"{SCHEMA}."):
                    await conn.execute(f"drop table {rung.table}")  # keep the server small
                return figures

            for rung, ddl in ladder:
                result["rungs"][rung.name] = await rung_figures(rung, ddl)
            pair = [(r, d) for r, d in ladder if r.name in ("raw_copy", INGESTOR)]
            result["pairs"] = [_pair(result["rungs"]["raw_copy"], result["rungs"][INGESTOR])]
            for _ in range(max(1, pairs) - 1):
                await conn.execute(f"truncate {SPEC.qualified}, bronze.{SPEC.ledger}")
                raw, ingestor = [await rung_figures(r, d) for r, d in pair]
                result["pairs"].append(_pair(raw, ingestor))
        finally:
            await conn.close()
    finally:
        gc.unfreeze()
        drop_database(admin, db)
    with_ratios(result["rungs"])
    ratios = [p["ratio"] for p in result["pairs"]]
    result["ingestor_vs_raw_copy"] = round(statistics.median(ratios), 2)
    result["scored_ingestor_vs_raw_copy"] = (
        result["rungs"].get("scored_ingestor", {}).get("cpu_per_row_vs_raw_copy")
    )
    result["loaded"] = any(r["loaded"] for r in result["rungs"].values()) or any(
        p["loaded"] for p in result["pairs"]
    )
    return result
