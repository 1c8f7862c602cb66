"""The Kafka output: an idempotent, acks=all, lz4 producer tuned for big batches.

Record timestamps are left to the producer (produce time), so topic retention never drops
back-dated event-time history. A broker that is down at start is retried with exponential
backoff and reported. One that goes away later loses nothing: a record whose delivery timed out
(``message.timeout.ms``) is produced again, for as long as the run lasts, and counted as re-sent.
When a record times out, the records queued behind it are taken back too (purged and re-queued in
their original order), so the re-sent ones keep their order per key (a record in flight when the
broker went away is the exception: it can time out later and land after newer ones).
Re-sending makes delivery at-least-once: a record that timed out while in flight may already have
been written (which stages dedupe on ``transaction_id``: ``services/generator/README.md``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from streamflow.events.topics import TOPICS, Topic
from streamflow.generator.config import Settings
from streamflow.platform.kafka import ensure_topics, producer_config

RESEND_CODES = frozenset({KafkaError._MSG_TIMED_OUT, KafkaError._PURGE_QUEUE})
"""Delivery errors after which the record is produced again (besides retriable errors)."""


class BrokerUnavailableError(RuntimeError):
    """Kafka did not answer within the connect timeout."""


class KafkaSink:
    """Produces pre-encoded records and counts acknowledgements and errors."""

    def __init__(self, settings: Settings, log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        overrides: dict[str, str | int] = {
            "linger.ms": settings.linger_ms,
            "batch.size": settings.batch_size,
            "queue.buffering.max.messages": settings.queue_max_messages,
            "queue.buffering.max.kbytes": settings.queue_max_kbytes,
            "message.timeout.ms": int(settings.delivery_timeout_s * 1000),
        }
        config = producer_config(settings.kafka, settings.client_id, **overrides)
        # acknowledged records are counted as sent - errors - in flight: no per-record Python
        # callback on the hot path, only failures call back
        config["delivery.report.only.error"] = True
        config["error_cb"] = self._on_error
        # librdkafka would print every failed reconnect; error_cb reports each distinct error once
        quiet = logging.getLogger("streamflow.generator.librdkafka")
        quiet.setLevel(logging.CRITICAL)
        config["logger"] = quiet
        config["on_delivery"] = self._on_delivery
        self.producer = Producer(config)
        self.sent = 0
        self.errors = 0
        self.resent = 0
        self.last_error = ""
        # (topic, value, key) of records to produce again, oldest first
        self._resend: deque[tuple[str, bytes | None, bytes | None]] = deque()
        self._purge = False
        self.stop_requested: Callable[[], bool] = lambda: False

    def _on_error(self, err: KafkaError) -> None:
        message = f"[generator] kafka: {err.str()}"
        if message != self.last_error:
            self.log(message)
        self.last_error = message

    @property
    def delivered(self) -> int:
        """Records acknowledged by the cluster so far."""
        return self.sent - self.errors - self.pending

    @property
    def pending(self) -> int:
        """Records neither acknowledged nor failed for good (queued, in flight, to re-send).

        While the broker is away this can count a few more: librdkafka's queue length includes
        its error events not yet served by a poll. Once delivered, it is exact (0)."""
        return len(self.producer) + len(self._resend)

    def _on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        if err is None:
            return
        self.last_error = err.str()
        if not err.fatal() and (err.code() in RESEND_CODES or err.retriable()):
            if err.code() == KafkaError._MSG_TIMED_OUT:
                self._purge = True
            self._resend.append((msg.topic(), msg.value(), msg.key()))
        else:
            self.errors += 1

    def _requeue(self) -> None:
        """Produce again what timed out (delivery callbacks run only inside poll/flush)."""
        if self._purge:
            self._purge = False
            # The records queued behind a timed-out one would be delivered before it: take them
            # back (their callbacks append them after it) so per-key order holds.
            self.producer.purge(in_queue=True, in_flight=False, blocking=True)
            self.producer.poll(0)
        produce, poll = self.producer.produce, self.producer.poll
        while self._resend:
            topic, value, key = self._resend[0]
            try:
                produce(topic, value, key)
            except BufferError:
                poll(0.05)
                if self.stop_requested():
                    return
                continue
            self._resend.popleft()
            self.resent += 1

    def connect(self, topics: Sequence[Topic]) -> None:
        """Wait for the cluster (backoff 0.5 s doubling to 8 s), then create missing topics."""
        deadline = time.monotonic() + self.settings.connect_timeout_s
        delay, attempt = 0.5, 0
        while True:
            attempt += 1
            try:
                remaining = deadline - time.monotonic()
                self.producer.list_topics(timeout=max(0.5, min(2.0, remaining)))
                break
            except KafkaException as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stop_requested():
                    raise BrokerUnavailableError(
                        f"Kafka at {self.settings.kafka.bootstrap_servers} unreachable after "
                        f"{attempt} attempts ({exc.args[0].str() if exc.args else exc}); is it "
                        "running (make up) and is STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS right?"
                    ) from None
                self.log(
                    f"[generator] Kafka at {self.settings.kafka.bootstrap_servers} not reachable "
                    f"(attempt {attempt}); retrying in {delay:.1f}s"
                )
                time.sleep(min(delay, max(remaining, 0.0)))
                delay = min(delay * 2, 8.0)
        ensure_topics(self.settings.kafka, self.settings.topics, [TOPICS[t] for t in topics])

    def send(self, topic: str, values: Sequence[bytes], keys: Sequence[bytes]) -> int:
        """Queue every record (waiting while the local queue is full); returns how many."""
        produce, poll = self.producer.produce, self.producer.poll
        sent = 0
        requeue = self._requeue
        for value, key in zip(values, keys, strict=True):
            while True:
                try:
                    produce(topic, value, key)
                    break
                except BufferError:
                    poll(0.05)
                    requeue()
                    if self.stop_requested():
                        self.sent += sent
                        return sent
            sent += 1
            if sent % 2000 == 0:
                poll(0)
                requeue()
        poll(0)
        requeue()
        self.sent += sent
        return sent

    def flush(self, timeout_s: float = 30.0) -> int:
        """Wait for outstanding acknowledgements, re-sending what times out meanwhile; returns
        how many are still unacknowledged after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._requeue()
            remaining = deadline - time.monotonic()
            if not self.pending or remaining <= 0:
                break
            self.producer.flush(min(remaining, 1.0))
        return self.pending
