"""A Faust-style agent: one per topic, consuming with aiokafka and landing batches in bronze.

A reader and its writers, joined by a bounded queue (the backpressure):

* the reader fetches a batch (``getmany``), validates it (:func:`parse_records`) and queues it;
  when the queue is full it pauses its partitions and keeps polling (so it stays in the group)
  until the writer catches up -- memory stays bounded by ``queue_batches`` x ``batch_max_records``;
* the writers (``writers_per_topic``, each on its own connection) write each batch in one database
  transaction (retrying while PostgreSQL is away); a batch's offsets (last + 1 per partition) are
  committed only once it and every batch fetched before it are in the database: at-least-once
  delivery, exactly-once rows thanks to the merge on Kafka coordinates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from streamflow.ingestor.metrics import Metrics
from streamflow.ingestor.records import ParsedBatch, parse_records
from streamflow.ingestor.tables import TableSpec
from streamflow.ingestor.writer import BronzeWriter

log = logging.getLogger(__name__)
_STOP: Any = object()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before partitions move away, let the writer finish what was already fetched."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._agent.drain(timeout_s=10.0)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._agent.assigned = True
        log.info(
            "partitions assigned",
            extra={
                "topic": self._agent.topic,
                "partitions": sorted(tp.partition for tp in assigned),
            },
        )


class Agent:
    """Consume one topic into its bronze table."""

    def __init__(
        self,
        spec: TableSpec,
        topic: str,
        consumer: AIOKafkaConsumer,
        writer: BronzeWriter,
        metrics: Metrics,
        *,
        batch_max_records: int,
        batch_max_wait_ms: int,
        queue_batches: int,
        max_payload_bytes: int,
        writers: int = 1,
        commit: bool = True,
    ) -> None:
        self.spec = spec
        self.topic = topic
        self.consumer = consumer
        self._writer = writer
        self._metrics = metrics
        self._max_records = batch_max_records
        self._wait_ms = batch_max_wait_ms
        self._max_bytes = max_payload_bytes
        self._commit = commit
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_batches)
        self._writers = writers
        self._seq = 0  # sequence number of the next queued batch
        self._commit_seq = 0  # the next batch whose offsets may be committed
        self._durable: dict[int, ParsedBatch] = {}  # written, waiting for earlier batches
        self._commit_lock = asyncio.Lock()
        self._stopping = False
        self._abandon = False
        self.assigned = False
        self.committed: dict[TopicPartition, int] = {}
        self.failed: BaseException | None = None

    def listener(self) -> ConsumerRebalanceListener:
        """The rebalance listener to subscribe with."""
        return _Rebalance(self)

    async def run(self, until: int | None = None) -> None:
        """Consume until :meth:`stop` (or, with ``until``, until that many records were read)."""
        writers = [
            asyncio.create_task(self._write_loop(), name=f"writer{i}:{self.topic}")
            for i in range(self._writers)
        ]
        try:
            await self._read_loop(until)
        finally:
            for _ in writers:
                await self._queue.put(_STOP)
            await asyncio.gather(*writers)

    def stop(self) -> None:
        """Ask the reader to stop; the writer then drains what was queued."""
        self._stopping = True

    def abandon(self) -> None:
        """Stop retrying the database (shutdown deadline passed); uncommitted work is re-read."""
        self._stopping = True
        self._abandon = True

    async def drain(self, timeout_s: float) -> None:
        """Wait until every queued batch is written and committed (bounded)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)

    async def _read_loop(self, until: int | None) -> None:
        pending: ParsedBatch | None = None
        paused: set[TopicPartition] = set()
        seen = 0
        while not self._stopping and (until is None or seen < until):
            if pending is not None:
                try:
                    self._queue.put_nowait((self._seq, pending))
                    self._seq += 1
                    pending = None
                except asyncio.QueueFull:
                    now = set(self.consumer.assignment())
                    if now - paused:
                        self.consumer.pause(*(now - paused))
                        paused |= now
                        self._metrics.paused.labels(self.topic).set(1)
            if pending is None and paused:
                self.consumer.resume(*paused)
                paused.clear()
                self._metrics.paused.labels(self.topic).set(0)
            fetched = await self.consumer.getmany(
                timeout_ms=self._wait_ms, max_records=self._max_records
            )
            records = [r for batch in fetched.values() for r in batch]
            if not records:
                continue
            seen += len(records)
            parsed = parse_records(self.spec, records, self._max_bytes)
            if pending is None:
                pending = parsed
            else:  # a partition assigned while paused delivered records: keep them
                pending.extend(parsed)
        if pending is not None:
            await self._queue.put((self._seq, pending))
            self._seq += 1
        if paused:
            self.consumer.resume(*paused)

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if item is _STOP:
                    return
                if self._abandon:
                    continue
                await self._write_one(*item)
            except Exception as exc:
                self.failed = exc
                self._metrics.errors.labels(self.topic, "agent_crash").inc()
                log.exception("writer failed", extra={"topic": self.topic})
                self._stopping = True
                self._abandon = True
            finally:
                self._queue.task_done()

    async def _write_one(self, seq: int, batch: ParsedBatch) -> None:
        started = time.perf_counter()
        result = await self._writer.write(self.spec, batch, lambda: self._abandon)
        if result is None:
            return  # abandoned: never committed (nor anything after it), so it is read again
        await self._commit_in_order(seq, batch)
        m = self._metrics
        m.batch_latency.labels(self.topic).observe(time.perf_counter() - started)
        m.batch_size.labels(self.topic).observe(len(batch))
        m.rows.labels(self.topic, "inserted").inc(result.inserted)
        m.rows.labels(self.topic, "duplicate").inc(result.duplicates)
        m.rows.labels(self.topic, "dead_letter").inc(result.dead_letters)
        if result.unstored:
            m.rows.labels(self.topic, "spooled").inc(len(result.unstored))
        if result.dead_letters:
            log.warning(
                "records dead-lettered",
                extra={"topic": self.topic, "count": result.dead_letters},
            )

    async def _commit_in_order(self, seq: int, batch: ParsedBatch) -> None:
        """Commit offsets only up to the oldest batch not yet durable.

        Several writers may finish out of order; committing a later batch's offsets before an
        earlier batch is in the database could skip that batch after a crash, so offsets are
        committed strictly in fetch order. A batch that never becomes durable blocks every later
        commit, which is the safe side (re-read, merged to nothing).
        """
        self._durable[seq] = batch
        async with self._commit_lock:
            merged: dict[tuple[str, int], int] = {}
            while self._commit_seq in self._durable:
                done = self._durable.pop(self._commit_seq)
                for tp, offset in done.next_offsets.items():
                    merged[tp] = max(offset, merged.get(tp, 0))
                self._commit_seq += 1
            if not merged:
                return
            offsets = {TopicPartition(t, p): o for (t, p), o in merged.items()}
            if self._commit:
                try:
                    await self.consumer.commit(offsets)
                except (KafkaError, ValueError) as exc:
                    # The rows are in bronze; whoever reads these offsets again merges nothing.
                    self._metrics.errors.labels(self.topic, "commit_failed").inc()
                    log.warning(
                        "offset commit failed", extra={"topic": self.topic, "error": repr(exc)}
                    )
            self.committed.update(offsets)

    async def measure_lag(self) -> None:
        """Update the lag gauges: partition end minus committed offset."""
        assignment = list(self.consumer.assignment())
        if not assignment:
            return
        ends = await self.consumer.end_offsets(assignment)
        for tp, end in ends.items():
            done = self.committed.get(tp)
            if done is None:
                done = await self.consumer.committed(tp) or 0
                self.committed[tp] = done
            self._metrics.lag.labels(self.topic, str(tp.partition)).set(max(0, end - done))
