"""The Kafka output: an idempotent, acks=all, lz4 producer tuned for big batches.

Record timestamps are left to the producer (produce time), so topic retention never drops
back-dated event-time history. A broker that is down at start is retried with exponential
backoff and reported; one that goes away later shows up as delivery errors in the progress line.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from streamflow.events.topics import TOPICS, Topic
from streamflow.generator.config import Settings
from streamflow.platform.kafka import ensure_topics, producer_config


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
        self.last_error = ""
        self.stop_requested: Callable[[], bool] = lambda: False

    def _on_error(self, err: KafkaError) -> None:
        message = f"[generator] kafka: {err.str()}"
        if message != self.last_error:
            self.log(message)
        self.last_error = message

    @property
    def delivered(self) -> int:
        """Records acknowledged by the cluster so far."""
        return self.sent - self.errors - len(self.producer)

    def _on_delivery(self, err: KafkaError | None, _msg: Any) -> None:
        if err is not None:
            self.errors += 1
            self.last_error = err.str()

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
        for value, key in zip(values, keys, strict=True):
            while True:
                try:
                    produce(topic, value, key)
                    break
                except BufferError:
                    poll(0.05)
                    if self.stop_requested():
                        self.sent += sent
                        return sent
            sent += 1
            if sent % 2000 == 0:
                poll(0)
        poll(0)
        self.sent += sent
        return sent

    def flush(self, timeout_s: float = 30.0) -> int:
        """Wait for outstanding acknowledgements; returns how many are still unacknowledged."""
        remaining: int = self.producer.flush(timeout_s)
        return remaining
