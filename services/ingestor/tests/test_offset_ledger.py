"""bronze.transactions' offset ledger (ADR 0134): re-reads, overlaps, gaps and racing writers."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from streamflow.events import Topic, encode, examples
from streamflow.ingestor.records import PlainRecord, parse_records
from streamflow.ingestor.tables import SPECS
from streamflow.ingestor.writer import (
    BronzeWriter,
    LedgerRaceError,
    WriteResult,
    batch_spans,
    is_covered,
    uncovered_runs,
)
from streamflow.platform.settings import PostgresSettings

SPEC = SPECS[Topic.TRANSACTIONS_RAW]
MAX = 100_000


def _record(partition: int, offset: int, *, bad: bool = False) -> PlainRecord:
    value = b"{not json" if bad else encode(examples.transaction(f"tx-{partition}-{offset:04d}"))
    return PlainRecord("raw", partition, offset, 1_700_000_000_000, b"k", value)


def test_a_batch_spans_each_partition_from_its_first_to_its_last_offset() -> None:
    rows = [("raw", 0, 7), ("raw", 1, 3), ("raw", 0, 5), ("raw", 0, 9)]
    dead = [("raw", 1, 1), ("raw", 0, 4)]
    assert sorted(batch_spans(rows, dead)) == [("raw", 0, 4, 10), ("raw", 1, 1, 4)]
    assert batch_spans([], []) == []


def test_the_parser_notes_each_partitions_span_rows_and_dead_letters_alike() -> None:
    records = [_record(0, 5), _record(1, 2), _record(0, 3, bad=True), _record(0, 9)]
    batch = parse_records(SPEC, records, MAX)
    assert sorted(batch.spans()) == [("raw", 0, 3, 10), ("raw", 1, 2, 3)]
    later = parse_records(SPEC, [_record(0, 10), _record(2, 0)], MAX)
    batch.extend(later)
    assert sorted(batch.spans()) == [("raw", 0, 3, 11), ("raw", 1, 2, 3), ("raw", 2, 0, 1)]
    assert sorted(batch.spans()) == sorted(batch_spans(batch.rows, batch.dead))


def test_a_partition_read_again_while_a_batch_waits_joins_it_once() -> None:
    """A rebalance while records wait restarts a partition at its committed offset."""
    waiting = parse_records(SPEC, [_record(0, o, bad=o == 101) for o in range(100, 105)], MAX)
    again = [_record(0, o, bad=o == 101) for o in range(100, 108)] + [_record(1, 0)]
    waiting.extend(parse_records(SPEC, again, MAX))
    assert [r[1:3] for r in waiting.rows] == [(0, o) for o in range(100, 108) if o != 101] + [
        (1, 0)
    ]
    assert [d[1:3] for d in waiting.dead] == [(0, 101)]
    assert len(waiting.keys) == len(waiting.rows)
    assert sorted(waiting.spans()) == [("raw", 0, 100, 108), ("raw", 1, 0, 1)]


def test_uncovered_runs_split_at_covered_offsets_and_gaps() -> None:
    covered = [("raw", 0, 0, 5), ("raw", 0, 8, 10), ("raw", 1, 0, 100)]
    offsets = [("raw", 0, o) for o in (3, 4, 5, 6, 7, 8, 9, 10, 12, 13)] + [("raw", 1, 50)]
    assert uncovered_runs(offsets, covered) == [
        ("raw", 0, 5, 8),
        ("raw", 0, 10, 11),
        ("raw", 0, 12, 14),
    ]
    assert uncovered_runs([("raw", 2, 1), ("raw", 2, 2)], covered) == [("raw", 2, 1, 3)]


def test_is_covered_reads_half_open_ranges() -> None:
    starts, ends = [0, 10], [5, 12]
    assert [o for o in range(14) if is_covered(starts, ends, o)] == [0, 1, 2, 3, 4, 10, 11]
    assert not is_covered([], [], 0)


async def test_a_racing_claim_retries_the_batch_and_the_database_stays_healthy() -> None:
    writer = BronzeWriter(
        "postgresql://x@127.0.0.1:1/x",
        pool_size=1,
        connect_timeout_s=1,
        retry_initial_s=0.01,
        retry_max_s=0.01,
    )
    writer.healthy = True
    calls: list[bool] = []

    async def attempt() -> WriteResult:
        calls.append(writer.healthy)
        if len(calls) < 3:
            raise LedgerRaceError("bronze.transactions_offsets: offsets claimed meanwhile")
        return WriteResult(1, 0, 0)

    assert await writer.retrying("transactions", attempt, lambda: False) == WriteResult(1, 0, 0)
    assert calls == [True, True, True]


def _writer(dsn: str) -> BronzeWriter:
    return BronzeWriter(
        dsn, pool_size=2, connect_timeout_s=2, retry_initial_s=0.01, retry_max_s=0.05
    )


async def _ledger(writer: BronzeWriter) -> list[tuple[int, int, int]]:
    rows = await writer.fetch(
        "select kafka_partition, lower(offsets), upper(offsets) "
        "from bronze.transactions_offsets order by 1, 2"
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def _landed(writer: BronzeWriter) -> list[tuple[int, int]]:
    rows = await writer.fetch(
        "select kafka_partition, kafka_offset from bronze.transactions order by 1, 2"
    )
    return [(r[0], r[1]) for r in rows]


@pytest.mark.integration
async def test_a_re_read_lands_only_the_offsets_no_range_covers(
    pg_settings: PostgresSettings,
) -> None:
    writer = _writer(pg_settings.dsn())
    await writer.start()
    try:
        first = [_record(0, o, bad=o == 3) for o in range(10)]
        result = await writer.write(SPEC, parse_records(SPEC, first, MAX), lambda: False)
        assert result == WriteResult(9, 0, 1)
        assert await _ledger(writer) == [(0, 0, 10)]

        # Read again from offset 5 after a crash, five records further: only 10-14 are new.
        again = [_record(0, o) for o in range(5, 15)]
        result = await writer.write(SPEC, parse_records(SPEC, again, MAX), lambda: False)
        assert result == WriteResult(5, 5, 0)
        assert await _ledger(writer) == [(0, 0, 10), (0, 10, 15)]

        # The whole range once more (the dead letter at 3 included): nothing lands.
        whole = [_record(0, o, bad=o == 3) for o in range(15)]
        result = await writer.write(SPEC, parse_records(SPEC, whole, MAX), lambda: False)
        assert result == WriteResult(0, 15, 0)
        assert await _landed(writer) == [(0, o) for o in range(15) if o != 3]
        [dead] = await writer.fetch("select count(*) from bronze.dead_letters")
        assert dead[0] == 1

        # Offsets a batch skips (markers, aborted records) are claimed with it; other
        # partitions are their own.
        gapped = [_record(0, o) for o in (20, 21, 25)] + [_record(1, 0)]
        result = await writer.write(SPEC, parse_records(SPEC, gapped, MAX), lambda: False)
        assert result == WriteResult(4, 0, 0)
        assert await _ledger(writer) == [(0, 0, 10), (0, 10, 15), (0, 20, 26), (1, 0, 1)]
        result = await writer.write(SPEC, parse_records(SPEC, gapped, MAX), lambda: False)
        assert result == WriteResult(0, 4, 0)
    finally:
        await writer.close()


@pytest.mark.integration
async def test_racing_writers_land_each_offset_once(pg_settings: PostgresSettings) -> None:
    """Two writers (a zombie after a rebalance, a replay) landing overlapping batches at once."""
    writers = [_writer(pg_settings.dsn()), _writer(pg_settings.dsn())]
    for writer in writers:
        await writer.start()
    try:
        # Batches of 40 records, each starting 20 offsets after the previous one.
        batches = [[_record(0, o) for o in range(s, s + 40)] for s in range(0, 400, 20)]

        async def run(writer: BronzeWriter, order: list[list[PlainRecord]]) -> int:
            inserted = 0
            for batch in order:
                result = await writer.write(SPEC, parse_records(SPEC, batch, MAX), lambda: False)
                assert result is not None
                inserted += result.inserted
            return inserted

        totals = await asyncio.gather(
            run(writers[0], batches), run(writers[1], list(reversed(batches)))
        )
        assert sum(totals) == 420
        assert await _landed(writers[0]) == [(0, o) for o in range(420)]
        ranges = await _ledger(writers[0])
        covered = sorted(o for _, lo, hi in ranges for o in range(lo, hi))
        assert covered == list(range(420))
    finally:
        for writer in writers:
            await writer.close()


@pytest.mark.integration
async def test_the_ledger_refuses_an_overlapping_claim(pg_settings: PostgresSettings) -> None:
    conn = await asyncpg.connect(pg_settings.dsn())
    try:
        sql = (
            "insert into bronze.transactions_offsets (kafka_topic, kafka_partition, offsets) "
            "values ($1, $2, int8range($3, $4))"
        )
        await conn.execute(sql, "raw", 0, 0, 10)
        await conn.execute(sql, "raw", 1, 0, 10)  # another partition
        await conn.execute(sql, "other", 0, 0, 10)  # another topic
        await conn.execute(sql, "raw", 0, 10, 20)  # adjacent
        with pytest.raises(asyncpg.ExclusionViolationError):
            await conn.execute(sql, "raw", 0, 19, 21)
    finally:
        await conn.close()
