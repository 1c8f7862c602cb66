"""Publishes outbox rows to ``fraud.feedback`` and reports which ones the broker acknowledged.

Only the outbox relay (outbox.py) uses it: no request ever waits for Kafka (ADR 0057).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from streamflow.alert_api.config import Settings
from streamflow.events import Topic
from streamflow.platform.kafka import producer_config

_PENDING = "pending"
_FLUSH_SLICE_S = 0.2


class FeedbackPublisher:
    """An idempotent producer (acks=all); :meth:`publish` waits for every record's fate."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topics.name(Topic.FRAUD_FEEDBACK)
        self._timeout = settings.kafka_delivery_timeout_s
        self._producer = Producer(
            producer_config(
                settings.kafka,
                f"{settings.client_id}-outbox",
                **{"linger.ms": 5, "message.timeout.ms": int(self._timeout * 1000)},
            )
        )

    async def publish(self, records: Sequence[tuple[bytes, bytes]]) -> list[str | None]:
        """Produce ``(key, value)`` records in order; per record None (acknowledged) or why not.

        The idempotent producer keeps the records of one key (one partition) in order and never
        duplicates one through its own retries. Waiting happens in short flushes off the event
        loop, so a cancelled relay stops within ~0.2 s even while the broker is down.
        """
        results: list[str | None] = [_PENDING] * len(records)

        def on_delivery(index: int) -> Any:
            def record(err: KafkaError | None, _msg: Any) -> None:
                results[index] = None if err is None else str(err)

            return record

        for index, (key, value) in enumerate(records):
            try:
                self._producer.produce(
                    self.topic, key=key, value=value, on_delivery=on_delivery(index)
                )
            except (BufferError, KafkaException) as exc:  # local queue full, fatal producer
                for rest in range(index, len(records)):
                    results[rest] = f"not produced: {exc}"
                break
        deadline = time.monotonic() + self._timeout + 1.0
        while _PENDING in results and time.monotonic() < deadline:
            await asyncio.to_thread(self._producer.flush, _FLUSH_SLICE_S)
        return ["not acknowledged in time" if result == _PENDING else result for result in results]

    def close(self) -> None:
        """Drop what is still queued (the rows stay unsent and are published again later)."""
        self._producer.purge()
        self._producer.flush(0)
