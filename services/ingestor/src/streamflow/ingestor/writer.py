"""Idempotent batch writes into bronze with asyncpg: COPY into staging, merge on Kafka coordinates.

One database transaction per batch. The valid rows are COPYed (text format, built once per batch
by :mod:`streamflow.ingestor.copy_text`) straight into their bronze table
(the common case: nothing of the batch is there yet). If that hits the primary key
``(kafka_topic, kafka_partition, kafka_offset)`` -- the batch was read again after a crash -- the
savepoint is rolled back and the rows go through a per-connection temporary staging table
(``on commit delete rows``) merged with ``insert ... on conflict do nothing``; dead letters always
take the staging path. A row
PostgreSQL still refuses (a value out of a column's range, say) sends the batch down a row-by-row
path that turns just that row into a dead letter. Connection trouble is retried with capped
exponential backoff until the database is back, so nothing is lost and nothing is committed early.

A table with an offset ledger instead of that key (``bronze.transactions``, ADR 0134) is kept
idempotent by claiming the batch's offsets first, in the same transaction: one ``int8range`` row
per partition, from its first to its last offset in the batch (rows and dead letters), which the
ledger's exclusion constraint refuses if any landed batch overlaps it. Then the rows are COPYed
straight in. A refused claim (a re-read) reads the overlapping ranges and lands only the offsets no
range covers, claiming each run of consecutive ones; a writer that claimed an overlapping range
meanwhile makes the whole batch retry (:class:`LedgerRaceError`). Dead letters always take their
own keyed merge (one refused and not spooled is tried again with the batch). Dead letters being
replayed land without a claim: their offsets were claimed when they first failed.

Dead letters cannot fail the batch (issue #17). Their text columns are made storable when the
rows are built (:func:`streamflow.events.text.storable_text`: U+0000 escaped visibly, lone
surrogates replaced, bounded); key and value are ``bytea``, kept exactly. Should PostgreSQL still
refuse the dead letters' COPY, they are inserted one by one, each in a savepoint; a refused one
is tried again in a minimal form (the same coordinates, key and raw bytes; the reason as plain
ASCII, saying why the first form was refused). A row refused even then comes back in
:attr:`WriteResult.unstored` once the transaction has committed; :class:`BronzeWriter` logs it
with its Kafka coordinates and appends it to a local, fsynced spool file
(:mod:`streamflow.ingestor.spool`) before returning, so the agent commits the batch's offsets only
after every record is durable somewhere. If the spool cannot be written either (``OSError``), the
whole batch is retried with backoff (bronze merges it to nothing new) and no offset moves.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from asyncpg.exceptions._base import InternalClientError

from streamflow.events.dead_letters import MAX_ERROR_MESSAGE_CHARS, MAX_ERROR_TYPE_CHARS
from streamflow.events.text import ascii_text, storable_text
from streamflow.ingestor.records import ParsedBatch, Row
from streamflow.ingestor.spool import DeadLetterSpool, Unstored, default_spool_path
from streamflow.ingestor.tables import DEAD_LETTER_COLUMNS, DEAD_LETTER_TABLE, SPECS, TableSpec

log = logging.getLogger(__name__)

# Refused rows, not refused connections: retrying would fail the same way forever.
ROW_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,  # e.g. an index row or a jsonb value too large
)
# A dead letter must never fail the batch: client-side encoding trouble counts as refused too.
DEAD_LETTER_ERRORS: tuple[type[Exception], ...] = (*ROW_ERRORS, UnicodeError)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one batch did to bronze; ``unstored``: dead letters PostgreSQL refused outright."""

    inserted: int
    duplicates: int
    dead_letters: int
    unstored: tuple[Unstored, ...] = ()


class StartupError(RuntimeError):
    """The database cannot be used at all; the message names the setting to fix."""


class LedgerRaceError(ConnectionError):
    """Another writer claimed offsets of this batch after it read the ledger: retry the batch."""


def _stage(table: str) -> str:
    return f"pg_temp.stage_{table}"


_ON_COORDINATES = " on conflict (kafka_topic, kafka_partition, kafka_offset) do nothing"


def _merge_sql(table: str, columns: Sequence[str]) -> str:
    cols = ", ".join(columns)
    return (
        f"insert into bronze.{table} ({cols}) select {cols} from {_stage(table)}"  # noqa: S608
        + _ON_COORDINATES
    )


def _insert_one_sql(table: str, columns: Sequence[str], keyed: bool = True) -> str:
    """One row's insert; ``keyed``: the table's key on the coordinates skips a landed row."""
    cols = ", ".join(columns)
    params = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    sql = f"insert into bronze.{table} ({cols}) values ({params})"  # noqa: S608
    return sql + _ON_COORDINATES if keyed else sql


Span = tuple[str, int, int, int]
"""``(topic, partition, first offset, last offset + 1)``: one ledger range."""


def _claim_sql(ledger: str) -> str:
    return (
        f"insert into bronze.{ledger} (kafka_topic, kafka_partition, offsets) "  # noqa: S608
        "select t, p, int8range(lo, hi) "
        "from unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[]) as u(t, p, lo, hi)"
    )


def _covering_sql(ledger: str) -> str:
    return (
        "select u.t, u.p, lower(l.offsets) as lo, upper(l.offsets) as hi "  # noqa: S608
        "from unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[]) as u(t, p, lo, hi) "
        f"join bronze.{ledger} as l on l.kafka_topic = u.t and l.kafka_partition = u.p "
        "and l.offsets && int8range(u.lo, u.hi) order by 1, 2, 3"
    )


def batch_spans(*parts: Iterable[Row]) -> list[Span]:
    """Each partition's range from its first to its last offset among ``parts``' rows.

    Offsets a batch skips (transaction markers, aborted or compacted records) are never
    delivered, so covering them claims nothing another batch could land.
    """
    low: dict[tuple[str, int], int] = {}
    high: dict[tuple[str, int], int] = {}
    for part in parts:
        for row in part:
            tp, offset = (row[0], row[1]), row[2]
            if offset < low.get(tp, offset + 1):
                low[tp] = offset
            if offset >= high.get(tp, offset):
                high[tp] = offset + 1
    return [(t, p, lo, high[t, p]) for (t, p), lo in low.items()]


def uncovered_runs(offsets: Iterable[tuple[str, int, int]], covered: Sequence[Span]) -> list[Span]:
    """The runs of consecutive ``offsets`` that no ``covered`` range holds, as ranges.

    A run never spans a gap, so it cannot overlap a range whose offsets are not in the batch.
    """
    held = _by_partition(covered)
    runs: list[Span] = []
    for t, p, offset in sorted(set(offsets)):
        if is_covered(*held.get((t, p), ([], [])), offset):
            continue
        if runs and runs[-1][:2] == (t, p) and runs[-1][3] == offset:
            runs[-1] = (t, p, runs[-1][2], offset + 1)
        else:
            runs.append((t, p, offset, offset + 1))
    return runs


def _by_partition(spans: Sequence[Span]) -> dict[tuple[str, int], tuple[list[int], list[int]]]:
    """Disjoint ``spans`` as each partition's sorted starts and ends (for :func:`is_covered`)."""
    index: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
    for t, p, lo, hi in sorted(spans):
        starts, ends = index.setdefault((t, p), ([], []))
        starts.append(lo)
        ends.append(hi)
    return index


def is_covered(starts: list[int], ends: list[int], offset: int) -> bool:
    """Whether ``offset`` is in one of the disjoint, sorted ranges ``[starts[i], ends[i])``."""
    i = bisect.bisect_right(starts, offset) - 1
    return i >= 0 and offset < ends[i]


def _columns(spans: Sequence[Span]) -> list[list[Any]]:
    return [list(column) for column in zip(*spans, strict=True)] if spans else [[], [], [], []]


async def _claim(
    conn: asyncpg.Connection, ledger: str, batch: ParsedBatch, dead: list[Row]
) -> ParsedBatch:
    """Claim the batch's offsets in ``bronze.<ledger>``; its rows not landed before.

    The dead letters are claimed too but always written (their own key on the coordinates
    merges them): one the database refused and the spool could not keep is tried again when the
    batch is retried, though its offset is claimed.
    """
    # The parser's per-partition first and next offsets when it made the batch (no pass here).
    spans = batch.spans() if batch.first_offsets else batch_spans(batch.rows, dead)
    try:
        async with conn.transaction():
            await conn.execute(_claim_sql(ledger), *_columns(spans))
            return batch
    except asyncpg.ExclusionViolationError:
        pass  # read again after a crash, or replayed: land what no range covers
    found = await conn.fetch(_covering_sql(ledger), *_columns(spans))
    covered = [(r["t"], r["p"], r["lo"], r["hi"]) for r in found]
    runs = uncovered_runs(((r[0], r[1], r[2]) for r in (*batch.rows, *dead)), covered)
    try:
        async with conn.transaction():
            await conn.execute(_claim_sql(ledger), *_columns(runs))
    except asyncpg.ExclusionViolationError as exc:
        raise LedgerRaceError(f"bronze.{ledger}: offsets claimed meanwhile ({exc})") from exc
    claimed = _by_partition(runs)

    def new(row: Row) -> bool:
        return is_covered(*claimed.get((row[0], row[1]), ([], [])), row[2])

    return batch.keeping(new)  # its dead letters are the caller's ``dead``, all written


def _inserted(status: str) -> int:
    # "INSERT 0 <n>"
    return int(status.rsplit(" ", 1)[-1])


async def _prepare_connection(conn: asyncpg.Connection) -> None:
    """Create this session's staging tables (temporary: no WAL, emptied at each commit)."""
    for table in [spec.table for spec in SPECS.values()] + [DEAD_LETTER_TABLE]:
        await conn.execute(
            f"create temporary table if not exists stage_{table} "
            f"(like bronze.{table} including defaults) on commit delete rows"
        )


async def _copy_merge(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: list[Row]
) -> int:
    await conn.copy_records_to_table(
        f"stage_{table}", schema_name="pg_temp", columns=list(columns), records=rows
    )
    status: str = await conn.execute(_merge_sql(table, columns))
    return _inserted(status)


async def _copy_text(
    conn: asyncpg.Connection, schema: str, table: str, columns: Sequence[str], data: bytes
) -> None:
    # A memoryview, not the bytes: asyncpg takes bytes for a file path (os.fspath accepts them).
    await conn.copy_to_table(
        table, schema_name=schema, columns=list(columns), source=memoryview(data), format="text"
    )


async def write_batch(
    conn: asyncpg.Connection, spec: TableSpec, batch: ParsedBatch, *, claim: bool = True
) -> WriteResult:
    """Write one parsed batch in one transaction on ``conn``; idempotent on Kafka coordinates.

    ``claim=False``: land the rows without claiming their offsets in the table's ledger (replayed
    dead letters, whose offsets their first landing claimed).
    """
    total = len(batch)
    dead = list(batch.dead)
    inserted = 0
    dead_inserted = 0
    unstored: list[Unstored] = []
    async with conn.transaction():
        if spec.ledger is not None and claim:
            batch = await _claim(conn, spec.ledger, batch, dead)
        if batch.rows:
            if batch.copy_text is None:
                batch.copy_text = batch.text()
            inserted = await _land_rows(conn, spec, batch, dead)
        if dead:
            dead_inserted = await _land_dead_letters(conn, dead, unstored)
    duplicates = total - inserted - dead_inserted - len(unstored)
    return WriteResult(inserted, duplicates, dead_inserted, tuple(unstored))


async def _land_dead_letters(
    conn: asyncpg.Connection, dead: list[Row], unstored: list[Unstored]
) -> int:
    """COPY the dead letters; if PostgreSQL refuses that, one by one (see the module docstring)."""
    try:
        async with conn.transaction():
            return await _copy_merge(conn, DEAD_LETTER_TABLE, DEAD_LETTER_COLUMNS, dead)
    except DEAD_LETTER_ERRORS as exc:
        log.warning("dead-letter COPY refused; inserting one by one", extra={"error": repr(exc)})
    sql = _insert_one_sql(DEAD_LETTER_TABLE, DEAD_LETTER_COLUMNS)
    inserted = 0
    for row in dead:
        try:
            inserted += await _insert_one(conn, sql, row)
            continue
        except DEAD_LETTER_ERRORS as exc:
            log.warning(
                "dead letter refused by the database; storing it in minimal form",
                extra={"topic": row[0], "partition": row[1], "offset": row[2], "error": repr(exc)},
            )
            minimal = minimal_dead_letter(row, exc)
        try:
            inserted += await _insert_one(conn, sql, minimal)
        except DEAD_LETTER_ERRORS as exc:
            unstored.append(Unstored(minimal, ascii_text(repr(exc), 1000)))
    return inserted


async def _insert_one(conn: asyncpg.Connection, sql: str, row: Row) -> int:
    async with conn.transaction():
        status: str = await conn.execute(sql, *row)
        return _inserted(status)


def minimal_dead_letter(row: Row, refused: BaseException) -> Row:
    """``row`` with only plain-ASCII text: same coordinates, key and raw bytes, a short reason."""
    error_type, message = row[6], row[7]
    note = f"[dead letter stored in minimal form; the database refused it: {refused!r}] "
    return (
        *row[:6],
        ascii_text(str(error_type), MAX_ERROR_TYPE_CHARS) or "error",
        ascii_text(note[:1000] + str(message), MAX_ERROR_MESSAGE_CHARS),
    )


async def _land_rows(
    conn: asyncpg.Connection, spec: TableSpec, batch: ParsedBatch, dead: list[Row]
) -> int:
    """COPY straight into bronze; on a duplicate (a re-read after a crash) merge via staging."""
    rows, data = batch.rows, batch.copy_text or b""
    try:
        async with conn.transaction():
            await _copy_text(conn, "bronze", spec.table, spec.columns, data)
            return len(rows)
    except asyncpg.UniqueViolationError:
        pass
    except ROW_ERRORS:
        return await _row_by_row(conn, spec, batch, dead)
    try:
        async with conn.transaction():
            await _copy_text(conn, "pg_temp", f"stage_{spec.table}", spec.columns, data)
            status: str = await conn.execute(_merge_sql(spec.table, spec.columns))
            return _inserted(status)
    except ROW_ERRORS:
        return await _row_by_row(conn, spec, batch, dead)


async def _row_by_row(
    conn: asyncpg.Connection, spec: TableSpec, batch: ParsedBatch, dead: list[Row]
) -> int:
    """Insert rows one at a time; a row the database refuses becomes a dead letter (its Kafka
    key and raw value kept exactly)."""
    sql = _insert_one_sql(spec.table, spec.columns, keyed=spec.ledger is None)
    inserted = 0
    keys = batch.keys + [None] * (len(batch.rows) - len(batch.keys))
    for row, key in zip(batch.rows, keys, strict=True):
        try:
            async with conn.transaction():
                status: str = await conn.execute(sql, *row)
                inserted += _inserted(status)
        except ROW_ERRORS as exc:
            log.warning(
                "row refused by the database",
                extra={"table": spec.table, "offset": row[2], "error": str(exc)},
            )
            payload = row[-1]
            raw = payload.encode("utf-8") if isinstance(payload, str) else None
            reason = storable_text(str(exc), MAX_ERROR_MESSAGE_CHARS)
            dead.append((*row[:4], key, raw, "database_refused", reason))
    return inserted


# SQLSTATE classes that mean "the server or the connection", not "this data": connection
# exception, insufficient resources, operator intervention, system error, transaction rollback.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58", "40")


class SessionRefusedError(ConnectionError):
    """PostgreSQL refused to open a session (e.g. ``FATAL: could not write init file`` on a full
    disk, SQLSTATE XX000): about the server, never about the batch, so always retried."""


def _transient(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    if isinstance(exc, asyncpg.PostgresError) and isinstance(state, str):
        return state[:2] in _TRANSIENT_SQLSTATE_CLASSES
    return isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        # asyncpg's own state errors when a connection dies mid-operation (e.g. during release).
        | InternalClientError
        | asyncpg.CannotConnectNowError
        | asyncpg.OperatorInterventionError
        | asyncpg.TooManyConnectionsError
        # Deadlock/serialisation: two writers merging the same re-read records; retry is safe.
        | asyncpg.TransactionRollbackError,
    )


class BronzeWriter:
    """A small asyncpg pool plus retry-until-it-works batch writes."""

    def __init__(
        self,
        dsn: str,
        *,
        pool_size: int,
        connect_timeout_s: float,
        retry_initial_s: float,
        retry_max_s: float,
        startup_timeout_s: float = 30.0,
        on_retry: Callable[[str, BaseException], None] | None = None,
        spool_path: Path | None = None,
    ) -> None:
        self._dsn = dsn
        self.spool = DeadLetterSpool(spool_path or default_spool_path())
        self._pool_size = pool_size
        self._timeout = connect_timeout_s
        self._retry_initial = retry_initial_s
        self._retry_max = retry_max_s
        self._on_retry = on_retry
        self._startup_timeout = startup_timeout_s
        self._pool: asyncpg.Pool | None = None
        self.healthy = False

    async def start(self) -> None:
        """Create the pool (lazily connecting), after checking the database once."""
        await check_database(self._dsn, self._timeout, self._startup_timeout)
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=0,
            max_size=self._pool_size,
            timeout=self._timeout,
            command_timeout=60,
            init=_prepare_connection,
        )
        self.healthy = True

    async def close(self) -> None:
        """Close every connection."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    async def write(
        self, spec: TableSpec, batch: ParsedBatch, stopping: Callable[[], bool]
    ) -> WriteResult | None:
        """Write ``batch``, retrying connection errors with backoff; None if told to stop first."""

        async def attempt() -> WriteResult:
            assert self._pool is not None, "BronzeWriter.start() was not called"
            try:
                conn = await self._pool.acquire(timeout=self._timeout)
            except asyncpg.PostgresError as exc:
                # whatever the server says while opening a session is not about this batch
                raise SessionRefusedError(f"PostgreSQL refused a session: {exc}") from exc
            try:
                result = await write_batch(conn, spec, batch)
            finally:
                await self._pool.release(conn)
            if result.unstored:
                await self._spool(result.unstored)
            return result

        return await self.retrying(spec.table, attempt, stopping)

    async def _spool(self, unstored: Sequence[Unstored]) -> None:
        """Log each refused dead letter with its coordinates and keep it in the spool file."""
        for item in unstored:
            topic, partition, offset = item.coordinates
            log.error(
                "dead letter refused by the database; spooling it to a local file",
                extra={
                    "topic": topic,
                    "partition": partition,
                    "offset": offset,
                    "error": item.refusal,
                    "spool": str(self.spool.path),
                },
            )
        try:
            await asyncio.to_thread(self.spool.append, unstored)
        except OSError as exc:
            log.error(
                "dead-letter spool not writable; the batch is retried and its offsets wait",
                extra={"spool": str(self.spool.path), "error": repr(exc)},
            )
            raise

    async def retrying(
        self,
        what: str,
        attempt: Callable[[], Awaitable[WriteResult]],
        stopping: Callable[[], bool],
    ) -> WriteResult | None:
        """Run ``attempt`` until it succeeds; back off (capped) on transient errors."""
        delay = self._retry_initial
        while True:
            try:
                result = await attempt()
            except Exception as exc:
                if not _transient(exc):
                    raise
                if self._on_retry is not None:
                    self._on_retry(what, exc)
                if isinstance(exc, LedgerRaceError):  # another writer, not the database
                    log.info(
                        "offsets claimed by another writer meanwhile; retrying the batch",
                        extra={"table": what, "error": str(exc)},
                    )
                else:
                    self.healthy = False
                    log.warning(
                        "database unavailable, retrying",
                        extra={"table": what, "error": repr(exc), "retry_in_s": round(delay, 2)},
                    )
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline:
                    if stopping():
                        return None
                    await asyncio.sleep(min(0.1, delay))
                delay = min(delay * 2, self._retry_max)
                continue
            if not self.healthy:
                log.info("database available again", extra={"table": what})
            self.healthy = True
            return result

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """A read on the pool (replay uses it)."""
        assert self._pool is not None
        async with self._pool.acquire(timeout=self._timeout) as conn:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows


async def check_database(dsn: str, timeout_s: float, startup_timeout_s: float = 30.0) -> None:
    """Fail fast, naming the setting, if the database refuses us or lacks the bronze tables.

    An unreachable server is waited for up to ``startup_timeout_s`` (it may be starting); a wrong
    password, a missing database or missing migrations fail at once.
    """
    deadline = time.monotonic() + startup_timeout_s
    while True:
        try:
            conn = await _connect_once(dsn, timeout_s)
            break
        except (TimeoutError, OSError, asyncpg.CannotConnectNowError) as exc:
            if time.monotonic() >= deadline:
                raise StartupError(
                    f"PostgreSQL not reachable after {startup_timeout_s:.0f}s ({exc!r}); check "
                    "STREAMFLOW_PG_HOST and STREAMFLOW_PG_PORT (is it running? make up)"
                ) from None
            log.warning("PostgreSQL not reachable yet; retrying", extra={"error": repr(exc)})
            await asyncio.sleep(1.0)
    await _check_tables(conn)


async def _connect_once(dsn: str, timeout_s: float) -> asyncpg.Connection:
    try:
        conn: asyncpg.Connection = await asyncpg.connect(dsn, timeout=timeout_s)
    except asyncpg.InvalidPasswordError as exc:
        raise StartupError(
            f"PostgreSQL refused the credentials ({exc}); check STREAMFLOW_PG_USER and "
            "STREAMFLOW_PG_PASSWORD"
        ) from None
    except asyncpg.InvalidCatalogNameError as exc:
        raise StartupError(f"{exc}; check STREAMFLOW_PG_DATABASE") from None
    except asyncpg.CannotConnectNowError:
        raise
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StartupError(f"PostgreSQL connection failed ({exc}); check STREAMFLOW_PG_*") from None
    return conn


async def _check_tables(conn: asyncpg.Connection) -> None:
    try:
        missing = await conn.fetch(
            "select t from unnest($1::text[]) t where to_regclass('bronze.' || t) is null",
            [spec.table for spec in SPECS.values()] + [DEAD_LETTER_TABLE],
        )
    finally:
        await conn.close()
    if missing:
        names = ", ".join(f"bronze.{r['t']}" for r in missing)
        raise StartupError(
            f"missing tables {names} in database STREAMFLOW_PG_DATABASE: run the migrations "
            "(make up, or python -m streamflow.platform migrate)"
        )
