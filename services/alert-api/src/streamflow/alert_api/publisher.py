"""Publishes analyst feedback to ``fraud.feedback`` and waits for the broker's acknowledgement."""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from streamflow.alert_api.config import Settings
from streamflow.events import Feedback, Topic, encode, encode_key
from streamflow.platform.kafka import producer_config


class PublishError(RuntimeError):
    """The broker did not acknowledge the record in time."""


class FeedbackPublisher:
    """An idempotent producer; :meth:`publish` returns once the record is acknowledged."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topics.name(Topic.FRAUD_FEEDBACK)
        self._timeout = settings.kafka_delivery_timeout_s
        self._producer = Producer(
            producer_config(
                settings.kafka,
                settings.client_id,
                **{"linger.ms": 0, "message.timeout.ms": int(self._timeout * 1000)},
            )
        )

    async def publish(self, feedback: Feedback) -> None:
        """Produce one record; raise :class:`PublishError` if it is not acknowledged."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def on_delivery(err: KafkaError | None, _msg: Any) -> None:
            def settle() -> None:
                if done.done():
                    return
                if err is None:
                    done.set_result(None)
                else:
                    done.set_exception(PublishError(str(err)))

            loop.call_soon_threadsafe(settle)

        try:
            self._producer.produce(
                self.topic,
                key=encode_key(feedback.key()),
                value=encode(feedback),
                on_delivery=on_delivery,
            )
        except (BufferError, KafkaException) as exc:  # pragma: no cover - full local queue
            raise PublishError(str(exc)) from exc
        # flush() runs the delivery callback; it blocks, so off the event loop.
        await asyncio.to_thread(self._producer.flush, self._timeout)
        try:
            await asyncio.wait_for(done, timeout=1.0)
        except TimeoutError as exc:
            raise PublishError("fraud.feedback did not acknowledge in time") from exc

    def close(self) -> None:
        """Flush what is pending (at shutdown)."""
        self._producer.flush(self._timeout)
