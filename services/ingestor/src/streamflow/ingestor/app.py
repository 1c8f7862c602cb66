"""The ingestor process: one agent per topic, the health/metrics server, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from streamflow.events import Topic
from streamflow.ingestor.agent import Agent
from streamflow.ingestor.config import Settings
from streamflow.ingestor.health import HealthServer
from streamflow.ingestor.metrics import Metrics
from streamflow.ingestor.tables import SPECS
from streamflow.ingestor.writer import BronzeWriter

log = logging.getLogger(__name__)


def kafka_kwargs(settings: Settings) -> dict[str, object]:
    """aiokafka connection arguments from the shared Kafka settings."""
    k = settings.kafka
    kwargs: dict[str, object] = {
        "bootstrap_servers": k.bootstrap_servers,
        "security_protocol": k.security_protocol,
    }
    if k.sasl_mechanism:
        kwargs["sasl_mechanism"] = k.sasl_mechanism
        kwargs["sasl_plain_username"] = k.sasl_username
        kwargs["sasl_plain_password"] = (
            k.sasl_password.get_secret_value() if k.sasl_password else None
        )
    if k.ssl_ca_location:
        from aiokafka.helpers import create_ssl_context  # type: ignore[import-untyped]

        kwargs["ssl_context"] = create_ssl_context(cafile=k.ssl_ca_location)
    return kwargs


def make_consumer(settings: Settings, group_id: str | None) -> AIOKafkaConsumer:
    """A read_committed consumer with manual commits and bounded fetch buffers."""
    return AIOKafkaConsumer(
        **kafka_kwargs(settings),
        group_id=group_id,
        client_id=settings.client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        fetch_max_bytes=settings.fetch_max_bytes,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=max(1000, settings.session_timeout_ms // 5),
    )


def make_writer(settings: Settings, metrics: Metrics, pool_size: int) -> BronzeWriter:
    """The bronze writer for these settings."""
    return BronzeWriter(
        settings.pg.dsn(),
        pool_size=pool_size,
        connect_timeout_s=settings.connect_timeout_s,
        retry_initial_s=settings.retry_initial_s,
        retry_max_s=settings.retry_max_s,
        startup_timeout_s=settings.startup_timeout_s,
        on_retry=lambda table, _exc: metrics.errors.labels(table, "database_retry").inc(),
        spool_path=settings.spool_path,
    )


def make_agent(
    settings: Settings,
    topic: Topic,
    consumer: AIOKafkaConsumer,
    writer: BronzeWriter,
    metrics: Metrics,
    *,
    commit: bool = True,
) -> Agent:
    """An agent for ``topic`` with the batch settings."""
    return Agent(
        SPECS[topic],
        settings.topics.name(topic),
        consumer,
        writer,
        metrics,
        batch_max_records=settings.batch_max_records,
        batch_max_wait_ms=settings.batch_max_wait_ms,
        queue_batches=settings.queue_batches,
        max_payload_bytes=settings.max_payload_bytes,
        writers=settings.writers_per_topic,
        commit=commit,
    )


class Ingestor:
    """Every agent plus the probes; :meth:`serve` runs until :meth:`shutdown`."""

    def __init__(self, settings: Settings, topics: list[Topic] | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._topics = topics or list(SPECS)
        pool_size = len(self._topics) * settings.writers_per_topic + 1
        self.writer = make_writer(settings, self.metrics, pool_size=pool_size)
        self.agents: list[Agent] = []
        self._stop = asyncio.Event()
        self._started = time.monotonic()
        self.health = HealthServer(
            settings.metrics_host,
            settings.metrics_port,
            self.metrics.registry,
            live=self._live,
            ready=self._ready,
        )

    def _live(self) -> tuple[bool, dict[str, object]]:
        failed = [a.topic for a in self.agents if a.failed is not None]
        return not failed, {"failed_agents": failed}

    def _ready(self) -> tuple[bool, dict[str, object]]:
        waiting = [a.topic for a in self.agents if not a.assigned]
        db = self.writer.healthy
        ok = bool(self.agents) and not waiting and db and self._live()[0]
        return ok, {"database": db, "unassigned_agents": waiting}

    def shutdown(self) -> None:
        """Begin a graceful stop (SIGTERM/SIGINT)."""
        self._stop.set()

    async def serve(self) -> int:
        """Start everything, run until asked to stop, then drain, commit and close.

        Returns the exit status: 0, or 1 if an agent failed.
        """
        await self.health.start()
        await self.writer.start()
        consumers: list[AIOKafkaConsumer] = []
        try:
            for topic in self._topics:
                consumer = make_consumer(self.settings, self.settings.group_id)
                agent = make_agent(self.settings, topic, consumer, self.writer, self.metrics)
                await consumer.start()
                consumers.append(consumer)
                consumer.subscribe([agent.topic], listener=agent.listener())
                self.agents.append(agent)
            # Everything alive now (modules, validators, clients) out of the collector's full
            # walks, which otherwise traverse it while consuming (ADR 0121, as ADR 0054's API).
            gc.collect()
            gc.freeze()
            log.info(
                "ingestor started",
                extra={"topics": [a.topic for a in self.agents], "port": self.health.port},
            )
            runs = [asyncio.create_task(a.run(), name=f"agent:{a.topic}") for a in self.agents]
            lag = asyncio.create_task(self._lag_loop())
            stop = asyncio.create_task(self._stop.wait())
            await asyncio.wait([stop, *runs], return_when=asyncio.FIRST_COMPLETED)
            for agent in self.agents:
                agent.stop()
            _, late = await asyncio.wait(runs, timeout=self.settings.shutdown_timeout_s)
            if late:
                log.warning("drain deadline passed; uncommitted batches will be re-read")
                for agent in self.agents:
                    agent.abandon()
                await asyncio.wait(late)
            lag.cancel()
            stop.cancel()
            for run in runs:
                if not run.cancelled() and run.exception() is not None:
                    log.error("agent stopped with an error", exc_info=run.exception())
        finally:
            for consumer in consumers:
                with contextlib.suppress(Exception):
                    await consumer.stop()
            await self.writer.close()
            await self.health.stop()
            log.info("ingestor stopped")
        return 1 if any(a.failed is not None for a in self.agents) else 0

    async def _lag_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.lag_interval_s)
            for agent in self.agents:
                try:
                    await agent.measure_lag()
                except Exception as exc:
                    log.debug("lag measurement failed", extra={"error": repr(exc)})


async def run_until_signalled(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT."""
    ingestor = Ingestor(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ingestor.shutdown)
    return await ingestor.serve()
