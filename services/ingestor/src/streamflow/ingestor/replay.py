"""Re-processing: dead letters after a fix, or a topic range, both idempotent.

* :func:`replay_dead_letters` re-validates ``bronze.dead_letters`` rows (not yet reprocessed,
  failed since a time) with the current code; those that now pass land in their bronze table under
  their original Kafka coordinates and get ``reprocessed_at``; the others stay, with the new reason.
* :func:`replay_topic` reads a topic range (from an offset or a time, up to the end seen at start)
  with a group-less consumer and writes it through the same merge, so rows already in bronze are
  skipped. The live ingestor's committed offsets are never touched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import TopicPartition  # type: ignore[import-untyped]

from streamflow.events import Topic
from streamflow.ingestor.app import make_consumer, make_writer
from streamflow.ingestor.config import Settings
from streamflow.ingestor.metrics import Metrics
from streamflow.ingestor.records import ParsedBatch, PlainRecord, Row, parse_records
from streamflow.ingestor.tables import SPECS, TableSpec
from streamflow.ingestor.writer import BronzeWriter, WriteResult, write_batch

log = logging.getLogger(__name__)
_PAGE = 5000
_STALL_S = 60.0  # a range that stops moving for this long is reported, not waited on


class ReplayError(ValueError):
    """The replay request cannot be carried out (unknown topic, bad range)."""


@dataclass(slots=True)
class ReplaySummary:
    """What a replay did."""

    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)

    def add(self, topic: str, read: int, result: WriteResult) -> None:
        """Account for one written batch."""
        self.read += read
        self.inserted += result.inserted
        self.duplicates += result.duplicates
        self.dead_letters += result.dead_letters
        self.by_topic[topic] = self.by_topic.get(topic, 0) + result.inserted


def resolve_topic(settings: Settings, name: str) -> Topic:
    """A topic given by its configured name or its default (logical) name."""
    for topic, configured in settings.topics.as_map().items():
        if name in (configured, topic.value) and topic in SPECS:
            return topic
    known = ", ".join(settings.topics.name(t) for t in SPECS)
    raise ReplayError(f"unknown or non-ingested topic {name!r}; one of: {known}")


def _millis(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


async def replay_dead_letters(
    settings: Settings, since: datetime, topic: str | None = None, dry_run: bool = False
) -> ReplaySummary:
    """Re-validate dead letters that failed at or after ``since`` and land those that now pass."""
    writer = make_writer(settings, Metrics(), pool_size=2)
    await writer.start()
    summary = ReplaySummary()
    by_name = {settings.topics.name(t): t for t in SPECS}
    try:
        after: tuple[str, int, int] = ("", -1, -1)
        while True:
            rows = await writer.fetch(
                "select kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, record_key, "
                "raw_value from bronze.dead_letters where reprocessed_at is null "
                "and failed_at >= $1 and ($2::text is null or kafka_topic = $2) "
                "and (kafka_topic, kafka_partition, kafka_offset) > ($3, $4, $5) "
                "order by kafka_topic, kafka_partition, kafka_offset limit $6",
                since,
                topic,
                *after,
                _PAGE,
            )
            if not rows:
                break
            last = rows[-1]
            after = (last["kafka_topic"], last["kafka_partition"], last["kafka_offset"])
            groups: dict[str, list[PlainRecord]] = {}
            for r in rows:
                stored = PlainRecord(
                    r["kafka_topic"],
                    r["kafka_partition"],
                    r["kafka_offset"],
                    _millis(r["kafka_timestamp"]),
                    r["record_key"],
                    r["raw_value"],
                )
                groups.setdefault(stored.topic, []).append(stored)
            for name, records in groups.items():
                if name not in by_name:
                    log.warning("dead letters of an unknown topic skipped", extra={"topic": name})
                    continue
                spec = SPECS[by_name[name]]
                parsed = parse_records(spec, records, settings.max_payload_bytes)
                if dry_run:
                    summary.add(name, len(records), WriteResult(len(parsed.rows), 0, 0))
                    continue
                result = await _land_reprocessed(writer, spec, parsed)
                summary.add(name, len(records), result)
    finally:
        await writer.close()
    return summary


async def _land_reprocessed(
    writer: BronzeWriter, spec: TableSpec, parsed: ParsedBatch
) -> WriteResult:
    """Insert the rows that now pass, mark them reprocessed, refresh the others' reasons."""

    async def attempt() -> WriteResult:
        assert writer._pool is not None
        async with writer._pool.acquire() as conn, conn.transaction():
            # Mark first: a dead letter another replay marked meanwhile is skipped (its row
            # waits on the other's commit), so a row lands once without a key on coordinates.
            marked = await conn.fetch(
                "update bronze.dead_letters as d set reprocessed_at = now() "
                "from unnest($1::text[], $2::integer[], $3::bigint[]) as u(t, p, o) "
                "where d.kafka_topic = u.t and d.kafka_partition = u.p and d.kafka_offset = u.o "
                "and d.reprocessed_at is null "
                "returning d.kafka_topic, d.kafka_partition, d.kafka_offset",
                *_coordinate_columns(parsed.rows),
            )
            mine = {(r[0], r[1], r[2]) for r in marked}
            # the rows this replay marked (``parsed.dead`` failed again: none of them is marked)
            kept = parsed.keeping(lambda row: row[:3] in mine)
            result = await write_batch(
                conn,
                spec,
                kept,
                claim=False,  # their offsets were claimed when they first landed as dead letters
            )
            await conn.executemany(
                "update bronze.dead_letters set error_type = $4, error_message = $5 "
                "where kafka_topic = $1 and kafka_partition = $2 and kafka_offset = $3",
                [(d[0], d[1], d[2], d[6], d[7]) for d in parsed.dead],
            )
            skipped = len(parsed.rows) - len(kept.rows)
            return WriteResult(result.inserted, result.duplicates + skipped, len(parsed.dead))

    result = await writer.retrying(spec.table, attempt, lambda: False)
    assert result is not None
    return result


def _coordinate_columns(rows: list[Row]) -> tuple[list[str], list[int], list[int]]:
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


async def replay_topic(
    settings: Settings,
    name: str,
    *,
    from_offset: int | None = None,
    from_time: datetime | None = None,
    to_offset: int | None = None,
    partition: int | None = None,
) -> ReplaySummary:
    """Re-ingest ``name`` from an offset or a time up to its end (as seen now), idempotently."""
    if (from_offset is None) == (from_time is None):
        raise ReplayError("give exactly one of --from-offset and --from-time")
    topic = resolve_topic(settings, name)
    spec = SPECS[topic]
    topic_name = settings.topics.name(topic)
    consumer = make_consumer(settings, group_id=None)
    writer = make_writer(settings, Metrics(), pool_size=2)
    summary = ReplaySummary()
    await writer.start()
    await consumer.start()
    try:
        # A group-less consumer has no metadata for a topic yet: ask the cluster.
        cluster = await consumer._client.fetch_all_metadata()
        parts = set(cluster.partitions_for_topic(topic_name) or ())
        if partition is not None:
            if partition not in parts:
                raise ReplayError(f"{topic_name} has no partition {partition}")
            parts = {partition}
        tps = [TopicPartition(topic_name, p) for p in sorted(parts)]
        consumer.assign(tps)
        stops = await _stop_offsets(consumer, tps, to_offset)
        starts = await _start_offsets(consumer, tps, from_offset, from_time)
        todo = {tp for tp in tps if (start := starts.get(tp)) is not None and start < stops[tp]}
        consumer.assign(sorted(todo))
        for tp in todo:
            consumer.seek(tp, starts[tp] or 0)
        idle_since = time.monotonic()
        while todo:
            if time.monotonic() - idle_since > _STALL_S:
                stuck = ", ".join(f"{tp.partition}" for tp in sorted(todo))
                raise ReplayError(
                    f"{topic_name}: no progress for {_STALL_S:.0f}s on partitions {stuck}"
                )
            fetched = await consumer.getmany(*todo, timeout_ms=500, max_records=_PAGE)
            if fetched:
                idle_since = time.monotonic()
            records: list[Any] = []
            for tp, batch in fetched.items():
                records.extend(r for r in batch if r.offset < stops[tp])
            for tp in list(todo):
                if await consumer.position(tp) >= stops[tp]:
                    todo.discard(tp)
            if records:
                parsed = parse_records(spec, records, settings.max_payload_bytes)
                result = await writer.write(spec, parsed, lambda: False)
                assert result is not None
                summary.add(topic_name, len(records), result)
    finally:
        await _stop_quietly(consumer)
        await writer.close()
    return summary


async def _stop_quietly(consumer: Any) -> None:
    """Stop a group-less consumer; aiokafka's stop may re-raise its own cancelled helper task."""
    try:
        await asyncio.wait_for(consumer.stop(), timeout=15)
    except TimeoutError:
        log.warning("replay consumer did not stop within 15 s; abandoning it")
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being cancelled ourselves


async def _stop_offsets(
    consumer: Any, tps: list[TopicPartition], to_offset: int | None
) -> dict[TopicPartition, int]:
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    if to_offset is None:
        return ends
    return {tp: min(end, to_offset + 1) for tp, end in ends.items()}


async def _start_offsets(
    consumer: Any,
    tps: list[TopicPartition],
    from_offset: int | None,
    from_time: datetime | None,
) -> dict[TopicPartition, int | None]:
    firsts: dict[TopicPartition, int] = await consumer.beginning_offsets(tps)
    if from_offset is not None:
        return {tp: max(from_offset, firsts[tp]) for tp in tps}
    assert from_time is not None
    found = await consumer.offsets_for_times({tp: _millis(from_time) for tp in tps})
    return {tp: (None if found.get(tp) is None else found[tp].offset) for tp in tps}
