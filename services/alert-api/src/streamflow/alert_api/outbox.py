"""The feedback outbox: the rows a verdict writes, and the relay that publishes them (ADR 0057).

A verdict commits its note, the alert's status and one ``app.feedback_outbox`` row in one
transaction (routes/alerts.py); nothing waits for Kafka there. :class:`OutboxRelay` runs as a
background task in every API process, but only the holder of a PostgreSQL advisory lock relays,
so N workers and pods publish each row from one place. The leader reads unsent rows in commit
order on its own connection (no transaction, no row lock), publishes them with an idempotent
producer, and only then marks the acknowledged ones sent. A crash between publishing and marking
publishes those rows again after a restart: the same bytes under the same key, one key per
(transaction, source), which every consumer keeps once (the scorer's MerchantLabels, the
warehouse's stg_feedback). That is the exactly-once *effect* the relay promises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg
from prometheus_client import Counter

from streamflow.alert_api.config import Settings
from streamflow.alert_api.publisher import FeedbackPublisher

log = logging.getLogger(__name__)

LOCK_ID = 5_410_057
"""The relay's advisory lock (per database; the migrator uses 5_410_001)."""
CHANNEL = "streamflow_feedback_outbox"
"""NOTIFY channel of V033's trigger: an outbox row committed."""
_PURGE_EVERY_S = 600.0

PUBLISHED = Counter(
    "feedback_outbox_published", "Outbox rows the broker acknowledged and the relay marked sent."
)
FAILURES = Counter("feedback_outbox_publish_failures", "Relay batches that failed to publish.")

_PENDING_SQL = """
select outbox_id, kafka_key, payload from app.feedback_outbox
where sent_at is null order by outbox_id limit $1
"""
_MARK_SQL = "update app.feedback_outbox set sent_at = now() where outbox_id = any($1::bigint[])"
_PURGE_SQL = """
delete from app.feedback_outbox
where sent_at < now() - make_interval(secs => $1::float8)
"""


class RelayError(RuntimeError):
    """A batch was not (completely) published; its unsent rows stay in the outbox."""


class OutboxRelay:
    """Publishes ``app.feedback_outbox`` while this process holds the relay's advisory lock."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._wake = asyncio.Event()
        self.is_leader = False
        self._last_purge = 0.0
        self._backoff = settings.outbox_poll_interval_s

    def wake(self) -> None:
        """Look for unsent rows now (after a verdict committed in this process)."""
        self._wake.set()

    async def connect(self) -> Any:
        """The relay's own connection: never one of the request pool's."""
        s = self._settings
        return await asyncpg.connect(
            dsn=s.pg.dsn(),
            timeout=s.db_connect_timeout_s,
            command_timeout=s.db_statement_timeout_ms / 1000 + 1,
            server_settings={
                "statement_timeout": str(s.db_statement_timeout_ms),
                "application_name": f"{s.client_id}-outbox-relay",
            },
        )

    async def run(self) -> None:
        """Forever: wait to become the leader, then relay; start over after any failure."""
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database or Kafka trouble: retry, never give up
                log.warning("feedback outbox relay: %r; retrying in %.1f s", exc, self._backoff)
            await asyncio.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, self._settings.outbox_retry_max_s)

    async def _lead(self) -> None:
        conn = await self.connect()
        try:
            while True:  # a standby: try for the lock until the leader's session ends
                if await conn.fetchval("select pg_try_advisory_lock($1)", LOCK_ID):
                    break
                await asyncio.sleep(self._settings.outbox_poll_interval_s)
            self.is_leader = True
            self._backoff = self._settings.outbox_poll_interval_s
            log.info("feedback outbox relay: leader")
            await conn.add_listener(CHANNEL, self._notified)
            publisher = FeedbackPublisher(self._settings)
            try:
                await self._relay(conn, publisher)
            finally:
                publisher.close()
        finally:
            self.is_leader = False
            # Closing the session releases the advisory lock: a standby takes over.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    async def _relay(self, conn: Any, publisher: FeedbackPublisher) -> None:
        s = self._settings
        backoff = s.outbox_poll_interval_s
        while True:
            self._wake.clear()
            try:
                sent = await self.publish_pending(conn, publisher)
            except RelayError as exc:
                FAILURES.inc()
                log.warning("feedback outbox relay: %s; retrying in %.1f s", exc, backoff)
                publisher.close()  # a producer past a delivery timeout starts afresh
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, s.outbox_retry_max_s)
                publisher = FeedbackPublisher(s)
                continue
            backoff = s.outbox_poll_interval_s
            if sent == s.outbox_batch_size:
                continue  # more may be waiting
            await self._purge(conn)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=s.outbox_poll_interval_s)

    async def publish_pending(self, conn: Any, publisher: FeedbackPublisher) -> int:
        """Publish one batch of unsent rows in commit order, then mark the acknowledged ones.

        Only the leading run of acknowledged rows is marked: after a failure, the rest of the
        batch (acknowledged or not) is published again, so the last record of each key on the
        topic is always its newest row. Returns the rows marked sent; raises
        :class:`RelayError` when the batch was not completely published.
        """
        rows = await conn.fetch(_PENDING_SQL, self._settings.outbox_batch_size)
        if not rows:
            return 0
        results = await publisher.publish([(r["kafka_key"], r["payload"]) for r in rows])
        delivered: list[int] = []
        failure: str | None = None
        for row, result in zip(rows, results, strict=True):
            if result is not None:
                failure = result
                break
            delivered.append(row["outbox_id"])
        if delivered:
            await conn.execute(_MARK_SQL, delivered)
            PUBLISHED.inc(len(delivered))
        if failure is not None:
            unsent = len(rows) - len(delivered)
            raise RelayError(f"{unsent} of {len(rows)} outbox rows not published: {failure}")
        return len(delivered)

    async def _purge(self, conn: Any) -> None:
        now = time.monotonic()
        if now - self._last_purge < _PURGE_EVERY_S:
            return
        self._last_purge = now
        await conn.execute(_PURGE_SQL, self._settings.outbox_retention_days * 86_400.0)
